"""Decode and fingerprint one media file: does it decode, what is it, what is its hash.

Images are decoded with Pillow. JPEGs are decoded in draft mode (libjpeg's DCT scaling):
every entropy-coded block is still read, so truncated or broken files fail exactly as a full
decode would, but the pixels come out at 1/2-1/8 size, which is all the perceptual hash
needs. Audio is decoded block by block with soundfile (libsndfile: WAV, FLAC, OGG, MP3).
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from typing import Literal

import numpy as np
import soundfile as sf
from PIL import Image, UnidentifiedImageError

Kind = Literal["image", "audio"]

IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp"})
AUDIO_EXTENSIONS = frozenset({".wav", ".flac", ".mp3", ".ogg"})
EXTENSIONS: dict[str, frozenset[str]] = {"image": IMAGE_EXTENSIONS, "audio": AUDIO_EXTENSIONS}

PHASH_SIZE = 8  # 8×8 low frequencies → 64-bit hash
PHASH_IMAGE = 32  # of a 32×32 grayscale thumbnail
_K = np.arange(PHASH_IMAGE)
# DCT-II basis (unnormalised, like scipy.fftpack.dct): comparisons to the median ignore scale.
_DCT = np.cos(np.pi * (2 * _K[None, :] + 1) * _K[:, None] / (2 * PHASH_IMAGE))[:PHASH_SIZE]


class InvalidMedia(Exception):
    """A file that cannot be used; the message is the reason shown to the publisher."""


@dataclass(frozen=True)
class MediaInfo:
    """What validation learned about one file."""

    kind: Kind
    sha256: str
    size: int
    format: str
    width: int | None = None
    height: int | None = None
    mode: str | None = None
    phash: int | None = None
    sample_rate: int | None = None
    channels: int | None = None
    frames: int | None = None

    @property
    def duration(self) -> float | None:
        """Seconds of audio (None for images)."""
        if self.frames is None or not self.sample_rate:
            return None
        return self.frames / self.sample_rate


def phash(image: Image.Image) -> int:
    """64-bit perceptual hash, bit-for-bit the algorithm of ``imagehash.phash``.

    Grayscale, Lanczos-resized to 32×32, 2-D DCT-II, the 8×8 lowest frequencies compared to
    their median; bits in row-major order, the first bit most significant.
    """
    gray = image.convert("L")
    if gray.size != (PHASH_IMAGE, PHASH_IMAGE):
        gray = gray.resize((PHASH_IMAGE, PHASH_IMAGE), Image.Resampling.LANCZOS)
    pixels = np.asarray(gray, dtype=np.float64)
    low = _DCT @ pixels @ _DCT.T
    bits = (low > np.median(low)).ravel()
    return int.from_bytes(np.packbits(bits).tobytes(), "big")


def inspect_image(data: bytes, sha256: str, *, want_phash: bool = True) -> MediaInfo:
    """Decode an image; raise InvalidMedia with the reason when it does not decode."""
    if not data:
        raise InvalidMedia("empty file (0 bytes)")
    try:
        image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise InvalidMedia("not an image: Pillow cannot identify its format") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise InvalidMedia(f"unreadable image header: {exc}") from None
    fmt, (width, height), mode = image.format or "unknown", image.size, image.mode
    try:
        if fmt == "JPEG":
            image.draft("L", (PHASH_IMAGE, PHASH_IMAGE))
        image.load()
        digest = phash(image) if want_phash else None
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as exc:
        raise InvalidMedia(f"{fmt} does not decode: {exc}") from None
    return MediaInfo("image", sha256, len(data), fmt, width=width, height=height, mode=mode,
                     phash=digest)


def inspect_audio(data: bytes, sha256: str) -> MediaInfo:
    """Decode every frame of an audio file; raise InvalidMedia when it does not decode."""
    if not data:
        raise InvalidMedia("empty file (0 bytes)")
    try:
        sound = sf.SoundFile(io.BytesIO(data))
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise InvalidMedia(f"not an audio file soundfile can read: {_clean(exc)}") from None
    with sound:
        rate, channels, fmt = sound.samplerate, sound.channels, sound.format
        frames = 0
        try:
            for block in sound.blocks(blocksize=1 << 16, dtype="float32", always_2d=True):
                frames += len(block)
        except (sf.LibsndfileError, RuntimeError, ValueError) as exc:
            raise InvalidMedia(
                f"{fmt} does not decode after {frames} frames: {_clean(exc)}"
            ) from None
    if frames == 0:
        raise InvalidMedia(f"{fmt} holds no audio frames")
    return MediaInfo("audio", sha256, len(data), fmt, sample_rate=rate, channels=channels,
                     frames=frames)


def _clean(exc: BaseException) -> str:
    """libsndfile messages without the ``Error opening <_io.BytesIO object at 0x…>:`` prefix."""
    return re.sub(r"^Error opening <[^>]*>: ", "", str(exc))


@dataclass(frozen=True)
class Checked:
    """The outcome of checking one file: its bytes and info, or why it was refused."""

    data: bytes | None
    info: MediaInfo | None
    reason: str | None


def check_media(kind: Kind, path: str | None, data: bytes | None, want_phash: bool) -> Checked:
    """Read (if needed), hash and decode one file. Safe to run in a worker process."""
    if data is None:
        if path is None:
            return Checked(None, None, "no file path and no bytes")
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError as exc:
            return Checked(None, None, f"unreadable: {exc.strerror or exc}")
    digest = hashlib.sha256(data).hexdigest()
    try:
        if kind == "image":
            info = inspect_image(data, digest, want_phash=want_phash)
        else:
            info = inspect_audio(data, digest)
    except InvalidMedia as exc:
        return Checked(None, None, str(exc))
    return Checked(data, info, None)


def check_batch(kind: Kind, items: list[tuple[str | None, bytes | None]],
                want_phash: bool) -> list[Checked]:
    """``check_media`` over a batch (one task for a worker process)."""
    return [check_media(kind, path, data, want_phash) for path, data in items]
