"""Embedded metadata out of media bytes, losslessly: chunks and segments are dropped, pixels
and samples are never re-encoded.

Policies: ``"all"`` (held-out splits: no metadata at all), ``"location"`` (public splits by
default: EXIF GPS and XMP that mentions GPS), ``"none"`` (public splits with
``--keep-metadata``).

What stays in a held-out image, and why:
- PNG: the critical chunks and those that change how pixels are shown (``tRNS``, ``gAMA``,
  ``cHRM``, ``sRGB``, ``iCCP``, ``sBIT``, ``cICP``, ``mDCv``, ``cLLi``, ``bKGD``, ``pHYs``) and
  APNG frames. Text (``tEXt``, ``zTXt``, ``iTXt``), ``tIME``, ``eXIf`` and private chunks go.
- JPEG: APP0 ``JFIF`` (pixel aspect; decoders use it to pick the colour space), APP2
  ``ICC_PROFILE`` (the colour space of the pixels: without it wide-gamut photos show wrong
  colours; it describes a device class, not the example) and APP14 ``Adobe`` (the colour
  transform flag: CMYK/YCCK files decode wrongly without it). Every other APPn (EXIF, XMP,
  IPTC/Photoshop, maker data), COM and anything after EOI goes.
- WebP: the bitstream chunks and ``ICCP``; ``EXIF``, ``XMP `` and unknown chunks go.
- BMP carries no metadata. GIF and TIFF in a held-out split are refused (convert to PNG).
Audio: :mod:`heldout.ingest.scrub_audio`.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable

from heldout.ingest.exif import ExifError, has_location_prefixed, strip_location_prefixed
from heldout.ingest.scrub_audio import scrub_flac, scrub_mp3, scrub_ogg, scrub_wav
from heldout.ingest.scrub_common import Policy, Scrubbed, ScrubError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_KEEP = frozenset({b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB",
                      b"iCCP", b"sBIT", b"cICP", b"mDCv", b"cLLi", b"bKGD", b"pHYs", b"acTL",
                      b"fcTL", b"fdAT"})
XMP_JPEG = (b"http://ns.adobe.com/xap/1.0/\x00", b"http://ns.adobe.com/xmp/extension/\x00")
WEBP_KEEP = frozenset({b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF", b"ICCP"})

__all__ = ["Policy", "ScrubError", "Scrubbed", "policy_for", "scrub"]


def policy_for(held_out: bool, keep_metadata: bool) -> Policy:
    """All metadata out of held-out media; location out of public media unless kept."""
    if held_out:
        return "all"
    return "none" if keep_metadata else "location"


def _mentions_gps(data: bytes) -> bool:
    return b"GPS" in data


def scrub_png(data: bytes, policy: Policy) -> Scrubbed:
    """Drop PNG chunks by ``policy``; eXIf keeps everything but GPS under "location"."""
    out, removed, pos = [PNG_SIGNATURE], [], len(PNG_SIGNATURE)
    while pos + 12 <= len(data):
        (length,) = struct.unpack_from(">I", data, pos)
        kind = data[pos + 4:pos + 8]
        end = pos + 12 + length
        if end > len(data):
            raise ScrubError("PNG chunk runs past the end of the file")
        chunk, body = data[pos:end], data[pos + 8:end - 4]
        pos = end
        critical = kind[:1].isupper()
        if policy == "all" and not critical and kind not in PNG_KEEP:
            removed.append(f"PNG {kind.decode('latin-1')}")
            continue
        if policy == "location" and kind == b"eXIf":
            chunk = _png_chunk(kind, _without_location(body, removed, "PNG eXIf"))
        elif policy == "location" and kind == b"iTXt" and body.startswith(b"XML:com.adobe.xmp") \
                and _mentions_gps(body):
            removed.append("PNG iTXt XMP")
            continue
        out.append(chunk)
        if kind == b"IEND":
            break
    return Scrubbed(b"".join(out), tuple(removed))


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _without_location(block: bytes, removed: list[str], what: str) -> bytes:
    """An EXIF block with its GPS IFD emptied (a malformed one is emptied whole)."""
    try:
        if not has_location_prefixed(block):
            return block
        result = strip_location_prefixed(block)
    except (ExifError, struct.error):
        result = b""
    removed.append(f"{what} GPS")
    return result


def _jpeg_keep_all(marker: int, payload: bytes) -> bool:
    if marker == 0xE0:
        return payload.startswith(b"JFIF\x00")
    if marker == 0xE2:
        return payload.startswith(b"ICC_PROFILE\x00")
    if marker == 0xEE:
        return payload.startswith(b"Adobe")
    return not (0xE1 <= marker <= 0xEF or marker == 0xFE)


def _next_marker(data: bytes, pos: int) -> int:
    """After a scan header: the offset of the next marker past the entropy-coded data."""
    while True:
        pos = data.find(b"\xff", pos)
        if pos < 0 or pos + 1 >= len(data):
            return len(data)
        following = data[pos + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
            pos += 1
            continue
        return pos


def scrub_jpeg(data: bytes, policy: Policy) -> Scrubbed:
    """Drop JPEG segments by ``policy``; the entropy-coded data is copied byte for byte."""
    out, removed, pos = [data[:2]], [], 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise ScrubError(f"JPEG: expected a marker at byte {pos}")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xD9:  # EOI: what follows (trailers, appended files) goes when held out
            out.append(data[pos:pos + 2] if policy == "all" else data[pos:])
            if policy == "all" and pos + 2 < len(data):
                removed.append("JPEG data after EOI")
            return Scrubbed(b"".join(out), tuple(removed))
        (length,) = struct.unpack_from(">H", data, pos + 2)
        end = pos + 2 + length
        if length < 2 or end > len(data):
            raise ScrubError("JPEG segment runs past the end of the file")
        segment, payload = data[pos:end], data[pos + 4:end]
        if marker == 0xDA and policy == "location":  # nothing of location after a scan
            out.append(data[pos:])
            return Scrubbed(b"".join(out), tuple(removed))
        if marker == 0xDA:  # start of scan: copy the entropy-coded data that follows
            scan_end = _next_marker(data, end)
            out.append(data[pos:scan_end])
            pos = scan_end
            continue
        pos = end
        if policy == "all" and not _jpeg_keep_all(marker, payload):
            removed.append("JPEG COM" if marker == 0xFE else f"JPEG APP{marker - 0xE0}")
            continue
        if policy == "location" and marker == 0xE1:
            segment = _jpeg_app1_without_location(payload, removed)
        out.append(segment)
    out.append(data[pos:])
    return Scrubbed(b"".join(out), tuple(removed))


def _jpeg_app1_without_location(payload: bytes, removed: list[str]) -> bytes:
    if payload.startswith(XMP_JPEG) and _mentions_gps(payload):
        removed.append("JPEG APP1 XMP")
        return b""
    if payload.startswith(b"Exif\x00\x00"):
        payload = _without_location(payload, removed, "JPEG APP1 EXIF")
        if not payload:
            return b""
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


def scrub_webp(data: bytes, policy: Policy) -> Scrubbed:
    """Drop WebP chunks by ``policy`` and keep the VP8X flags true to what is left."""
    chunks, removed, pos = [], [], 12
    while pos + 8 <= len(data):
        kind = data[pos:pos + 4]
        (size,) = struct.unpack_from("<I", data, pos + 4)
        end = pos + 8 + size + (size & 1)
        body = data[pos + 8:pos + 8 + size]
        pos = end
        if policy == "all" and kind not in WEBP_KEEP:
            removed.append(f"WebP {kind.decode('latin-1').strip()}")
            continue
        if policy == "location" and kind == b"EXIF":
            body = _without_location(body, removed, "WebP EXIF")
        elif policy == "location" and kind == b"XMP " and _mentions_gps(body):
            removed.append("WebP XMP")
            continue
        if body:
            chunks.append([kind, body])
    present = {kind for kind, _ in chunks}
    for chunk in chunks:
        if chunk[0] == b"VP8X" and len(chunk[1]) >= 1:
            flags = chunk[1][0] & ~(0x08 if b"EXIF" not in present else 0) \
                & ~(0x04 if b"XMP " not in present else 0)
            chunk[1] = bytes([flags]) + chunk[1][1:]
    body = b"".join(k + struct.pack("<I", len(b)) + b + (b"\x00" if len(b) & 1 else b"")
                    for k, b in chunks)
    return Scrubbed(b"RIFF" + struct.pack("<I", len(body) + 4) + b"WEBP" + body, tuple(removed))


def _refuse_when_held_out(name: str) -> Callable[[bytes, Policy], Scrubbed]:
    def scrub_other(data: bytes, policy: Policy) -> Scrubbed:
        if policy == "all":
            raise ScrubError(f"{name} files cannot be stripped of metadata losslessly here; "
                             "convert held-out images to PNG")
        return Scrubbed(data, ())
    return scrub_other


def _scrubber(data: bytes) -> Callable[[bytes, Policy], Scrubbed] | None:
    """The scrubber of ``data``'s format, found from its first bytes (None: no metadata)."""
    head = data[:12]
    riff = head[:4] == b"RIFF"
    table: list[tuple[bool, Callable[[bytes, Policy], Scrubbed]]] = [
        (head.startswith(PNG_SIGNATURE), scrub_png),
        (head.startswith(b"\xff\xd8\xff"), scrub_jpeg),
        (riff and head[8:12] == b"WEBP", scrub_webp),
        (riff and head[8:12] == b"WAVE", scrub_wav),
        (head.startswith(b"fLaC") or (head.startswith(b"ID3") and b"fLaC" in data[:1 << 20]
                                      and _id3_then(data, b"fLaC")), scrub_flac),
        (head.startswith(b"OggS"), scrub_ogg),
        (head.startswith(b"ID3") or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2",
                                                 b"\xff\xfa"), scrub_mp3),
        (head.startswith((b"GIF87a", b"GIF89a")), _refuse_when_held_out("GIF")),
        (head.startswith((b"II*\x00", b"MM\x00*")), _scrub_tiff),
    ]
    for matched, function in table:
        if matched:
            return function
    return None


def _id3_then(data: bytes, magic: bytes) -> bool:
    """Whether an ID3v2 tag at the start is followed by ``magic``."""
    if len(data) < 10:
        return False
    size = (data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9]
    start = 10 + size + (10 if data[5] & 0x10 else 0)
    return data[start:start + len(magic)] == magic


def _scrub_tiff(data: bytes, policy: Policy) -> Scrubbed:
    if policy == "all":
        return _refuse_when_held_out("TIFF")(data, policy)
    if policy == "location":
        removed: list[str] = []
        stripped = _without_location(data, removed, "TIFF")
        if not stripped:
            raise ScrubError("TIFF: its GPS block is malformed; convert the image to PNG")
        return Scrubbed(stripped, tuple(removed))
    return Scrubbed(data, ())


def scrub(data: bytes, policy: Policy) -> Scrubbed:
    """``data`` without the metadata ``policy`` removes; ScrubError when that is impossible."""
    if policy == "none":
        return Scrubbed(data, ())
    scrubber = _scrubber(data)
    if scrubber is None:
        if policy == "all" and not data.startswith(b"BM"):
            raise ScrubError("unknown media format: its metadata cannot be removed")
        return Scrubbed(data, ())
    try:
        return scrubber(data, policy)
    except (struct.error, IndexError) as exc:
        raise ScrubError(f"malformed file: {exc}") from None
