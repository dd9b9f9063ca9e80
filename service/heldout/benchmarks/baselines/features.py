"""Features the baselines use: MFCCs computed with numpy/scipy, pixels of small images.

No torch, no librosa: a textbook MFCC front end (pre-emphasis, 25 ms Hamming frames every
10 ms, 512-point power spectrum, 40 triangular mel filters, log, orthonormal DCT-II).
"""

from __future__ import annotations

import io
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image as PILImage
from scipy.fft import dct

from heldout.client.audio import decode_audio

Array = NDArray[np.float64]

RATE = 16_000
FRAME = 400  # 25 ms at 16 kHz
HOP = 160  # 10 ms
N_FFT = 512
N_MELS = 40


def _hz_to_mel(hz: Array | float) -> Any:
    return 2595.0 * np.log10(1.0 + np.asarray(hz) / 700.0)


def _mel_to_hz(mel: Array) -> Array:
    return np.asarray(700.0 * (10.0 ** (mel / 2595.0) - 1.0), dtype=np.float64)


@lru_cache(maxsize=4)
def mel_filterbank(rate: int = RATE, n_fft: int = N_FFT, n_mels: int = N_MELS) -> Array:
    """(n_mels, n_fft // 2 + 1) triangular filters evenly spaced on the mel scale."""
    edges = _mel_to_hz(np.linspace(0.0, float(_hz_to_mel(rate / 2)), n_mels + 2))
    bins = np.fft.rfftfreq(n_fft, 1.0 / rate)
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (bins[None, :] - lower) / (centre - lower)
    falling = (upper - bins[None, :]) / (upper - centre)
    return np.maximum(0.0, np.minimum(rising, falling))


def frames(samples: Array, frame: int = FRAME, hop: int = HOP) -> Array:
    """Overlapping frames (n, frame) of a 1-D signal, zero-padded to at least one frame."""
    if samples.size < frame:
        samples = np.pad(samples, (0, frame - samples.size))
    view = np.lib.stride_tricks.sliding_window_view(samples, frame)[::hop]
    return np.asarray(view, dtype=np.float64)


def mfcc(samples: NDArray[Any], rate: int = RATE, n_mfcc: int = 13) -> Array:
    """(frames, n_mfcc) MFCCs of a mono signal at ``rate`` Hz (c0 included)."""
    x = np.asarray(samples, dtype=np.float64)
    x = np.append(x[:1], x[1:] - 0.97 * x[:-1])
    windowed = frames(x) * np.hamming(FRAME)
    power = np.abs(np.fft.rfft(windowed, N_FFT)) ** 2 / N_FFT
    energies = power @ mel_filterbank(rate).T
    log_mel = np.log(np.maximum(energies, 1e-10))
    return np.asarray(dct(log_mel, type=2, axis=1, norm="ortho")[:, :n_mfcc], dtype=np.float64)


def deltas(features: Array, width: int = 2) -> Array:
    """Regression deltas over ±``width`` frames (edges repeated), as HTK computes them."""
    padded = np.pad(features, ((width, width), (0, 0)), mode="edge")
    n = len(features)
    num = sum(k * (padded[width + k: width + k + n] - padded[width - k: width - k + n])
              for k in range(1, width + 1))
    return np.asarray(num / (2 * sum(k * k for k in range(1, width + 1))), dtype=np.float64)


def audio_mfcc(value: Any, n_mfcc: int = 13) -> Array:
    """MFCCs of one Audio cell (``{"bytes", "path"}``); the audio must be 16 kHz."""
    samples, rate = decode_audio(value, mono=True)
    return mfcc(samples, rate, n_mfcc)


def mfcc_statistics(features: Array) -> Array:
    """A fixed-length utterance vector: mean and standard deviation of MFCCs and deltas."""
    both = np.hstack([features, deltas(features)])
    return np.concatenate([both.mean(axis=0), both.std(axis=0)])


def image_pixels(value: Any) -> Array:
    """Grayscale pixels of one Image cell, flattened and scaled to [0, 1]."""
    data = value["bytes"] if isinstance(value, dict) else value
    with PILImage.open(io.BytesIO(bytes(data))) as image:
        pixels = np.asarray(image.convert("L"), dtype=np.float64)
    return pixels.reshape(-1) / 255.0
