"""Response (and shared request) models of the HTTP API: the public shapes in ``/openapi.json``.

How a route declares its models (every route must; ``tests/api/test_openapi.py`` fails on a
2xx answer without a schema):

- Put the models of an area in their own module here (``datasets.py``, ``accounts.py``,
  ``benchmarks.py`` …), subclassing :class:`heldout.api.schemas.common.ApiModel`, with a
  ``description`` (and ``examples`` where useful) on every field: ``/docs`` is the reference.
- Declare the answer on the decorator: ``@router.get("/things", response_model=Page[Thing])``
  (``status_code=201`` for creations). Return the model (or a dict of its fields).
- Lists answer ``Page[T]`` (``items``, ``total``, ``limit``, ``offset``, ``next``); build one
  with :func:`heldout.api.schemas.common.page` so ``next`` is the URL of the following page.
- Errors need nothing: every 4xx/5xx is documented as :class:`Problem` (problem+json) for all
  routes by ``heldout.api.problems.PROBLEM_RESPONSES``.
- Non-JSON answers (files, CSV, images) use ``response_class=`` and document their media type
  in ``responses={200: {"content": {...}}}``.
- After changing the API, regenerate the committed OpenAPI snapshot with the one command the
  README names (``./dev openapi``) and commit it.
"""
