"""Media files that carry the metadata a careless (or hostile) publisher leaves in them."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import soundfile as sf
from PIL import Image, PngImagePlugin

SECRET = "/shoot/cat/IMG_0.png"
GPS = {1: "N", 2: (51.0, 30.0, 12.5), 3: "W", 4: (0.0, 7.0, 39.0)}


def pixels(seed: int, size: tuple[int, int] = (24, 16)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)


def png_with_text(seed: int) -> bytes:
    """A PNG with ``Source: /shoot/cat/IMG_0.png`` in tEXt, plus iTXt and tIME chunks."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Source", SECRET)
    info.add_itxt("Description", "a cat on a sofa", zip=True)
    out = io.BytesIO()
    Image.fromarray(pixels(seed)).save(out, "PNG", pnginfo=info)
    data = out.getvalue()
    time_chunk = b"tIME" + struct.pack(">HBBBBB", 2026, 5, 4, 3, 2, 1)
    chunk = struct.pack(">I", 7) + time_chunk + struct.pack(">I", zlib.crc32(time_chunk))
    return data[:33] + chunk + data[33:]  # after IHDR


def exif_with_gps() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "CatCam"  # Make
    exif[0x0112] = 1  # Orientation
    exif.get_ifd(0x8825).update(GPS)
    return exif


def jpeg_with_gps(seed: int) -> bytes:
    """A JPEG with EXIF (camera make, GPS position) and a COM comment naming the class."""
    out = io.BytesIO()
    Image.fromarray(pixels(seed)).save(out, "JPEG", exif=exif_with_gps(),
                                       comment=b"class: cat")
    return out.getvalue()


def decoded(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.array(image)


def tone(seed: int, frames: int = 1600) -> np.ndarray:
    t = np.arange(frames) / 8000
    return (0.3 * np.sin(2 * np.pi * (200 + 37 * seed) * t)).astype(np.float32)


def tagged_audio(seed: int, fmt: str) -> bytes:
    """WAV (LIST/INFO), FLAC (Vorbis comment) or OGG, titled with the secret."""
    out = io.BytesIO()
    subtype = {"WAV": "PCM_16", "FLAC": "PCM_16", "OGG": "VORBIS"}[fmt]
    with sf.SoundFile(out, "w", 8000, 1, format=fmt, subtype=subtype) as sound:
        sound.title = SECRET
        sound.artist = "cat"
        sound.write(tone(seed))
    return out.getvalue()


def mp3_with_id3(seed: int) -> bytes:
    """An MP3 with an ID3v2 title and an ID3v1 tag (None where libsndfile cannot write MP3)."""
    from mutagen.id3 import ID3, TIT2

    out = io.BytesIO()
    with sf.SoundFile(out, "w", 8000, 1, format="MP3", subtype="MPEG_LAYER_III") as sound:
        sound.write(tone(seed))
    tag, head = ID3(), io.BytesIO()
    tag.add(TIT2(encoding=3, text=SECRET))
    tag.save(head)
    v1 = b"TAG" + SECRET.encode().ljust(125, b"\x00")
    return head.getvalue() + out.getvalue() + v1


def samples(data: bytes) -> np.ndarray:
    return np.asarray(sf.read(io.BytesIO(data), dtype="float32")[0])
