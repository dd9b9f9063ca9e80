"""What the media scrubbers share: the policy, the result and the error."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# "all": held-out splits, no metadata at all; "location": public splits by default, EXIF GPS
# and XMP mentioning GPS; "none": public splits published with --keep-metadata.
Policy = Literal["all", "location", "none"]


class ScrubError(ValueError):
    """Media whose metadata cannot be removed losslessly; the message says why."""


@dataclass(frozen=True)
class Scrubbed:
    """The bytes to store and what was taken out (``"PNG tEXt"``, ``"JPEG APP1"``…)."""

    data: bytes
    removed: tuple[str, ...]
