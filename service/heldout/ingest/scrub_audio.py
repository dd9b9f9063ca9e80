"""Tags out of audio files, losslessly (blocks and chunks dropped, frames untouched).

- WAV: only ``fmt ``, ``fact`` and ``data`` stay (LIST/INFO, ``id3 ``, ``bext``, ``iXML``,
  cue and sampler chunks go).
- FLAC: only STREAMINFO and SEEKTABLE stay (VORBIS_COMMENT, PICTURE, APPLICATION, CUESHEET
  and PADDING go), and an ID3 tag before or after the stream.
- MP3: ID3v1, ID3v2 and APEv2 tags, with mutagen.
- Ogg Vorbis / Opus: the comments (mutagen writes the comment header back empty; only the
  encoder's vendor string stays, which the format requires).
No audio format has a standard location field, so public audio is left as it is.
"""

from __future__ import annotations

import io
import struct

from mutagen import MutagenError, apev2, id3
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis

from heldout.ingest.scrub_common import Policy, Scrubbed, ScrubError

WAV_KEEP = frozenset({b"fmt ", b"fact", b"data"})
FLAC_KEEP = {0: "STREAMINFO", 3: "SEEKTABLE"}
FLAC_BLOCKS = {1: "PADDING", 2: "APPLICATION", 4: "VORBIS_COMMENT", 5: "CUESHEET",
               6: "PICTURE"}


def scrub_wav(data: bytes, policy: Policy) -> Scrubbed:
    """Keep the chunks a decoder needs; everything else in the RIFF goes."""
    if policy != "all":
        return Scrubbed(data, ())
    kept, removed, pos = [], [], 12
    while pos + 8 <= len(data):
        kind = data[pos:pos + 4]
        (size,) = struct.unpack_from("<I", data, pos + 4)
        end = min(len(data), pos + 8 + size + (size & 1))
        if kind in WAV_KEEP:
            chunk = data[pos:end]
            kept.append(chunk + (b"\x00" if len(chunk) & 1 else b""))
        else:
            removed.append(f"WAV {kind.decode('latin-1').strip()}")
        pos = end
    body = b"".join(kept)
    return Scrubbed(b"RIFF" + struct.pack("<I", len(body) + 4) + b"WAVE" + body,
                    tuple(removed))


def _skip_id3v2(data: bytes) -> int:
    """Offset just past an ID3v2 tag at the start (0 without one)."""
    if not data.startswith(b"ID3") or len(data) < 10:
        return 0
    size = (data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9]
    return 10 + size + (10 if data[5] & 0x10 else 0)


def scrub_flac(data: bytes, policy: Policy) -> Scrubbed:
    """Keep STREAMINFO and SEEKTABLE; the audio frames are copied byte for byte."""
    if policy != "all":
        return Scrubbed(data, ())
    removed = ["FLAC ID3v2"] if data.startswith(b"ID3") else []
    pos = _skip_id3v2(data)
    if data[pos:pos + 4] != b"fLaC":
        raise ScrubError("FLAC: no fLaC stream marker")
    pos += 4
    blocks: list[tuple[int, bytes]] = []
    last = False
    while not last:
        if pos + 4 > len(data):
            raise ScrubError("FLAC: metadata runs past the end of the file")
        header = data[pos]
        last, kind = bool(header & 0x80), header & 0x7F
        length = int.from_bytes(data[pos + 1:pos + 4], "big")
        body = data[pos + 4:pos + 4 + length]
        pos += 4 + length
        if kind in FLAC_KEEP:
            blocks.append((kind, body))
        else:
            removed.append(f"FLAC {FLAC_BLOCKS.get(kind, f'block {kind}')}")
    if not blocks or blocks[0][0] != 0:
        raise ScrubError("FLAC: the first metadata block is not STREAMINFO")
    frames = data[pos:]
    if len(frames) >= 128 and frames[-128:-125] == b"TAG":
        frames = frames[:-128]
        removed.append("FLAC ID3v1")
    out = [b"fLaC"]
    for i, (kind, body) in enumerate(blocks):
        flag = 0x80 if i == len(blocks) - 1 else 0
        out.append(bytes([flag | kind]) + len(body).to_bytes(3, "big") + body)
    return Scrubbed(b"".join(out) + frames, tuple(removed))


def scrub_mp3(data: bytes, policy: Policy) -> Scrubbed:
    """ID3v1/v2 and APEv2 tags out of an MP3, with mutagen (frames untouched)."""
    if policy != "all":
        return Scrubbed(data, ())
    buffer = io.BytesIO(data)
    try:
        id3.delete(buffer, delete_v1=True, delete_v2=True)
        apev2.delete(buffer)
    except MutagenError as exc:
        raise ScrubError(f"MP3 tags: {exc}") from None
    out = buffer.getvalue()
    return Scrubbed(out, ("MP3 tags",) if out != data else ())


def scrub_ogg(data: bytes, policy: Policy) -> Scrubbed:
    """Vorbis or Opus comments out of an Ogg file, with mutagen."""
    if policy != "all":
        return Scrubbed(data, ())
    buffer = io.BytesIO(data)
    kind = OggOpus if b"OpusHead" in data[:512] else OggVorbis
    try:
        audio = kind(buffer)
        if audio.tags is not None and len(audio.tags) == 0:
            return Scrubbed(data, ())
        buffer.seek(0)
        audio.delete(buffer)
    except MutagenError as exc:
        raise ScrubError(f"Ogg comments: {exc}") from None
    return Scrubbed(buffer.getvalue(), ("Ogg comments",))
