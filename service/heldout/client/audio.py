"""Decode Heldout / Hugging Face audio values with soundfile, for plain numpy users.

Stock ``datasets`` needs torchcodec (and so torch) to decode ``Audio`` columns; this helper
needs only soundfile: ``samples, rate = decode_audio(row["audio"])``.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from heldout.errors import InvalidInput


def decode_audio(
    value: Any, *, dtype: str = "float32", mono: bool = False
) -> tuple[np.ndarray, int]:
    """``(samples, sampling_rate)`` of an audio value.

    ``value`` is an Audio cell (``{"bytes": …, "path": …}``), raw encoded bytes (WAV, FLAC,
    OGG…) or a file path. Samples are ``(frames,)`` for mono files, ``(frames, channels)``
    otherwise (or averaged to one channel with ``mono=True``).
    """
    import soundfile

    source: Any
    where = "audio value"
    if isinstance(value, Mapping):
        data, path = value.get("bytes"), value.get("path")
        if data is not None:
            source, where = io.BytesIO(bytes(data)), f"audio {path or '(bytes)'}"
        elif path:
            source, where = str(path), f"audio file {path}"
        else:
            raise InvalidInput("audio value has neither 'bytes' nor 'path'")
    elif isinstance(value, bytes | bytearray | memoryview):
        source = io.BytesIO(bytes(value))
    elif isinstance(value, str | Path):
        source, where = str(value), f"audio file {value}"
    else:
        raise InvalidInput(f"cannot decode audio from a {type(value).__name__}")
    try:
        samples, rate = soundfile.read(source, dtype=dtype, always_2d=False)
    except (RuntimeError, soundfile.LibsndfileError) as exc:
        raise InvalidInput(f"{where} could not be decoded: {exc}") from None
    if mono and samples.ndim == 2:
        samples = samples.mean(axis=1).astype(dtype)
    return samples, int(rate)


__all__ = ["decode_audio"]


def warn_undecoded_audio(column: str) -> None:
    """Say once why an Audio column holds encoded bytes instead of samples."""
    warnings.warn(
        f"column {column!r}: datasets decodes Audio only with torchcodec (not installed), so "
        "each value is {'bytes': <encoded file>, 'path': ...}; decode it with "
        "heldout.client.audio.decode_audio(value) (numpy + soundfile) or pip install torchcodec",
        UserWarning, stacklevel=4)
