"""The error map is complete: every error class has its own slug and survives the wire.

As httpx's tests check its exception map: each ``HeldoutError`` subclass, rendered by the API's
problem handler, comes back out of the client's ``error_from_response`` as the same class.
"""

from __future__ import annotations

import importlib
import json
import pkgutil

import httpx
import pytest

import heldout
from heldout import errors
from heldout.api.problems import error_response, http_problem
from heldout.client.http import error_from_response


def _all_error_classes() -> list[type[errors.HeldoutError]]:
    for module in pkgutil.walk_packages(heldout.__path__, "heldout."):
        if ".migrations" not in module.name:
            importlib.import_module(module.name)
    found: list[type[errors.HeldoutError]] = []
    stack = [errors.HeldoutError]
    while stack:
        cls = stack.pop()
        found.append(cls)
        stack.extend(cls.__subclasses__())
    return found


ERROR_CLASSES = _all_error_classes()


def _through_the_wire(body: bytes, status: int) -> errors.HeldoutError:
    request = httpx.Request("GET", "http://server/api/v1/thing")
    response = httpx.Response(status, content=body, request=request,
                              headers={"content-type": "application/problem+json"})
    return error_from_response(response)


def test_every_error_class_has_its_own_slug() -> None:
    slugs = [cls.slug for cls in ERROR_CLASSES]
    assert len(slugs) == len(set(slugs)), sorted(s for s in slugs if slugs.count(s) > 1)
    assert errors.error_classes() == {cls.slug: cls for cls in ERROR_CLASSES}


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda c: c.__name__)
def test_every_error_class_survives_the_problem_round_trip(
    cls: type[errors.HeldoutError],
) -> None:
    sent = cls("what went wrong, and where")
    response = error_response(sent, "/api/v1/thing")
    problem = json.loads(bytes(response.body))
    assert problem["type"] == errors.PROBLEM_BASE + cls.slug
    received = _through_the_wire(bytes(response.body), response.status_code)
    expected = errors.ServerError if cls is errors.HeldoutError else cls
    assert type(received) is expected
    assert received.status == sent.status
    assert "what went wrong, and where" in received.detail


@pytest.mark.parametrize("status", sorted(errors.BY_STATUS))
def test_bare_statuses_map_to_the_same_class_on_both_sides(status: int) -> None:
    response = http_problem(status, "framework said no")
    received = _through_the_wire(bytes(response.body), status)
    expected = errors.BY_STATUS[status]
    assert type(received) is (errors.ServerError if expected is errors.HeldoutError else expected)


def test_a_slug_with_the_wrong_status_falls_back_to_the_status() -> None:
    body = json.dumps({"type": errors.PROBLEM_BASE + "version-immutable", "status": 404,
                       "title": "x", "detail": "gone"}).encode()
    assert type(_through_the_wire(body, 404)) is errors.NotFound
