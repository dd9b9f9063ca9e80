"""Path parameters shared by the routers, with their patterns in the OpenAPI document.

The patterns are documentation: the routes still validate with :mod:`heldout.names`, whose
messages say what is wrong (``version '1.0' is not a semantic version …``).
"""

from __future__ import annotations

from typing import Any

from fastapi import Path

from heldout.names import NAME_PATTERN, SEMVER_PATTERN, SPLIT_PATTERN


def _pattern(regex: str) -> dict[str, Any]:
    return {"pattern": f"^{regex}$"}


NAME_SCHEMA = _pattern(NAME_PATTERN.pattern)
SEMVER_SCHEMA = _pattern(SEMVER_PATTERN.pattern)
SPLIT_SCHEMA = _pattern(SPLIT_PATTERN.pattern)

NAME = Path(description="dataset name", examples=["pets"], json_schema_extra=NAME_SCHEMA)
VERSION = Path(description="a semantic version, or `latest`", examples=["1.0.0"],
               json_schema_extra=_pattern(f"(latest|{SEMVER_PATTERN.pattern})"))
SEMVER = Path(description="a semantic version", examples=["1.0.0"],
              json_schema_extra=SEMVER_SCHEMA)
SPLIT = Path(description="split name", examples=["test"], json_schema_extra=SPLIT_SCHEMA)
DRAFT_ID = Path(description="the draft_id returned when the draft was created")
