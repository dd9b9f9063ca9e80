"""decode_audio on soundfile, compared with the samples that were encoded."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import soundfile

from heldout.client import decode_audio
from heldout.errors import InvalidInput


def wav_bytes(samples: np.ndarray, rate: int, fmt: str = "WAV") -> bytes:
    out = io.BytesIO()
    soundfile.write(out, samples, rate, format=fmt, subtype="PCM_16")
    return out.getvalue()


def test_decode_from_cell_bytes_and_path(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    samples = (rng.uniform(-0.5, 0.5, 1600)).astype(np.float32)
    data = wav_bytes(samples, 16000)
    decoded, rate = decode_audio({"bytes": data, "path": "a.wav"})
    assert rate == 16000 and decoded.dtype == np.float32 and decoded.shape == (1600,)
    np.testing.assert_allclose(decoded, samples, atol=1 / 2**15)
    assert np.array_equal(decode_audio(data)[0], decoded)
    file = tmp_path / "a.flac"
    soundfile.write(file, samples, 8000, format="FLAC")
    from_path, rate = decode_audio({"bytes": None, "path": str(file)})
    assert rate == 8000 and np.allclose(from_path, samples, atol=1 / 2**15)
    assert np.array_equal(decode_audio(file)[0], from_path)


def test_stereo_and_mono_mixdown() -> None:
    left, right = np.full(100, 0.25), np.full(100, -0.25)
    data = wav_bytes(np.stack([left, right], axis=1), 22050)
    stereo, _ = decode_audio(data)
    assert stereo.shape == (100, 2)
    mono, _ = decode_audio(data, mono=True)
    assert mono.shape == (100,) and np.allclose(mono, 0, atol=1e-4)


def test_undecodable_values_are_named() -> None:
    with pytest.raises(InvalidInput, match=r"audio x\.wav could not be decoded"):
        decode_audio({"bytes": b"not audio", "path": "x.wav"})
    with pytest.raises(InvalidInput, match="neither 'bytes' nor 'path'"):
        decode_audio({"bytes": None, "path": None})
    with pytest.raises(InvalidInput, match="from a int"):
        decode_audio(3)
