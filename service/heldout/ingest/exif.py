"""Location out of EXIF: the GPS sub-IFD of a TIFF structure is emptied in place.

EXIF (in JPEG APP1, PNG ``eXIf``, WebP ``EXIF``, and TIFF files themselves) is a TIFF
structure. Rewriting it with a library re-serialises every tag and breaks offsets that point
into maker notes, so instead the GPS IFD's entries and the values they point at are
overwritten with zeros and its entry count set to 0: every other byte and offset stays as it
was, and readers see an empty GPS IFD.
"""

from __future__ import annotations

import struct

GPS_IFD_TAG = 0x8825
# TIFF field type → bytes per value.
TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8,
              13: 4, 16: 8, 17: 8, 18: 8}
EXIF_PREFIX = b"Exif\x00\x00"


class ExifError(ValueError):
    """The EXIF block is malformed (the caller drops it whole instead)."""


def _byte_order(tiff: bytes | bytearray) -> str:
    if tiff[:4] == b"II*\x00":
        return "<"
    if tiff[:4] == b"MM\x00*":
        return ">"
    raise ExifError("not a TIFF structure")


def _entries(tiff: bytes | bytearray, order: str, offset: int) -> tuple[int, int]:
    """(entry count, offset of the first entry) of the IFD at ``offset``, bounds-checked."""
    if offset < 8 or offset + 2 > len(tiff):
        raise ExifError(f"IFD offset {offset} outside the block")
    (count,) = struct.unpack_from(order + "H", tiff, offset)
    if offset + 2 + 12 * count + 4 > len(tiff):
        raise ExifError("IFD runs past the end of the block")
    return count, offset + 2


def gps_ifd_offset(tiff: bytes | bytearray) -> int | None:
    """Offset of the GPS IFD named by IFD0 (None when there is none)."""
    order = _byte_order(tiff)
    (ifd0,) = struct.unpack_from(order + "I", tiff, 4)
    count, first = _entries(tiff, order, ifd0)
    for i in range(count):
        tag, _type, _n, value = struct.unpack_from(order + "HHII", tiff, first + 12 * i)
        if tag == GPS_IFD_TAG:
            return int(value)
    return None


def has_location(tiff: bytes | bytearray) -> bool:
    """Whether the TIFF structure has a GPS IFD with at least one entry."""
    offset = gps_ifd_offset(tiff)
    if offset is None:
        return False
    count, _first = _entries(tiff, _byte_order(tiff), offset)
    return count > 0


def strip_location(tiff: bytes) -> bytes:
    """``tiff`` with an empty GPS IFD (unchanged when it has none); ExifError if malformed."""
    offset = gps_ifd_offset(tiff)
    if offset is None:
        return tiff
    order = _byte_order(tiff)
    out = bytearray(tiff)
    count, first = _entries(out, order, offset)
    for i in range(count):
        at = first + 12 * i
        _tag, kind, n, value = struct.unpack_from(order + "HHII", out, at)
        size = TYPE_SIZES.get(kind, 1) * n
        if size > 4:  # the value lives elsewhere: zero it too
            if value + size > len(out):
                raise ExifError("a GPS value points outside the block")
            out[value:value + size] = bytes(size)
        out[at:at + 12] = bytes(12)
    struct.pack_into(order + "H", out, offset, 0)
    struct.pack_into(order + "I", out, offset + 2, 0)  # no next IFD
    return bytes(out)


def strip_location_prefixed(block: bytes) -> bytes:
    """As :func:`strip_location`, for a block that may start with ``Exif\\0\\0``."""
    if block.startswith(EXIF_PREFIX):
        return EXIF_PREFIX + strip_location(block[len(EXIF_PREFIX):])
    return strip_location(block)


def has_location_prefixed(block: bytes) -> bool:
    """As :func:`has_location`, for a block that may start with ``Exif\\0\\0``."""
    return has_location(block[len(EXIF_PREFIX):] if block.startswith(EXIF_PREFIX) else block)
