"""The shared API shapes: a page links to the next one; a problem keeps extra members."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from heldout.api.schemas.common import Page, Problem, next_url, page


def test_page_links_to_the_next_page_until_the_last() -> None:
    first = page(["a", "b"], total=5, limit=2, offset=0,
                 url="http://h/api/v1/datasets?task=x&limit=2")
    assert first.items == ["a", "b"] and first.next is not None
    query = parse_qs(urlsplit(first.next).query)
    assert query == {"task": ["x"], "limit": ["2"], "offset": ["2"]}
    assert next_url("http://h/x?offset=2&limit=2", 5, 2, 2) == "http://h/x?limit=2&offset=4"
    assert next_url("http://h/x", 5, 2, 4) is None
    assert next_url("http://h/x", 0, 50, 0) is None


def test_page_schema_names_its_item_type() -> None:
    schema = Page[int].model_json_schema()
    assert set(schema["required"]) == {"items", "total", "limit", "offset"}
    assert schema["properties"]["items"]["items"] == {"type": "integer"}
    assert "next" in schema["properties"]


def test_problem_accepts_extra_members() -> None:
    body = {"type": "https://heldout.dev/problems/invalid-input", "title": "Invalid input",
            "status": 422, "detail": "limit: too big", "errors": [{"loc": "query.limit"}]}
    problem = Problem.model_validate(body)
    assert problem.model_dump(exclude_none=True) == body
