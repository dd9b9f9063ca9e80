"""The built-in ``spoken-digits`` dataset, synthesised with Debian's espeak-ng.

Every speaker is one espeak-ng voice (English ``en``/``en-us``/``en-gb-…`` or Mandarin
``cmn-latn-pinyin``) with one voice variant, speed (words per minute) and pitch; speakers are
disjoint between splits. espeak-ng writes 22,050 Hz audio: leading/trailing silence is
trimmed, light Gaussian noise is added and the signal is resampled to 16 kHz with
``scipy.signal.resample_poly``.

- ``train`` and ``validation`` come from a fixed seed and are committed to the repository
  (``datasets/spoken-digits/audio``, written by ``datasets/spoken-digits/generate.py``): same
  espeak-ng version + same seed = same audio.
- ``test`` is never committed: :func:`generate_test` synthesises it at build time from a
  fresh secret seed (:mod:`secrets`): new speakers (voice, variant, speed, pitch), new digits
  and digit strings, new noise, so its labels exist only in the private store.

``digit`` is the spoken digit (0-9) for single-digit utterances and empty (null) for digit
strings; ``transcript`` is English words (``three one four``) or Chinese characters (``三一四``).
"""

from __future__ import annotations

import csv
import io
import secrets
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

SEED = 20240611
TARGET_RATE = 16_000
ESPEAK_RATE = 22_050
NOISE_STD = 0.001  # ~ -60 dBFS: light background hiss

ENGLISH_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
CHINESE_CHARS = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"]
# espeak-ng's Debian build has no full Chinese dictionary: the pinyin voice reads tone-numbered
# pinyin correctly, so Mandarin speakers are given pinyin and the transcript keeps the characters.
PINYIN = ["ling2", "yi1", "er4", "san1", "si4", "wu3", "liu4", "qi1", "ba1", "jiu3"]

ENGLISH_VOICES = ["en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-029"]
ENGLISH_VARIANTS = [
    "m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5",
    "klatt", "klatt2", "croak", "edward", "linda", "steph", "john", "annie",
]
MANDARIN_VARIANTS = ["m1", "m2", "m3", "m5", "m7", "f1", "f2", "f3", "f4", "f5"]
SPEEDS = [125, 140, 155, 170, 185]
PITCHES = [30, 40, 50, 60, 70]

SINGLE_DIGITS_PER_SPEAKER = 10  # each digit once
STRINGS_PER_SPEAKER = 6  # 2-3 digit strings
# Split by speaker (disjoint): per language, the first speakers go to train, then validation, test.
SPLIT_SHARES = (("train", 0.6), ("validation", 0.15), ("test", 0.25))
COMMITTED_SPLITS = ("train", "validation")
COLUMNS = ["file_name", "digit", "transcript", "speaker_id", "language"]
# Test speakers drawn at build time: as many as the fixed split would have.
TEST_SPEAKERS = {"en": 5, "cmn": 2}
TEST_SPEEDS = (115, 195)
TEST_PITCHES = (20, 80)
TEST_NOISE = (0.0005, 0.002)
SYNTH_THREADS = 4


@dataclass(frozen=True)
class Speaker:
    """One synthetic speaker: an espeak-ng voice with a variant, speed and pitch."""

    speaker_id: str
    language: str  # "en" or "cmn"
    voice: str
    speed: int
    pitch: int


def make_speakers(rng: np.random.Generator) -> list[Speaker]:
    """20 English and 10 Mandarin speakers, each a distinct voice/variant/speed/pitch."""
    speakers: list[Speaker] = []
    for i, variant in enumerate(ENGLISH_VARIANTS):
        voice = f"{ENGLISH_VOICES[i % len(ENGLISH_VOICES)]}+{variant}"
        speakers.append(Speaker(f"en{i:02d}", "en", voice, int(rng.choice(SPEEDS)),
                                int(rng.choice(PITCHES))))
    for i, variant in enumerate(MANDARIN_VARIANTS):
        speakers.append(Speaker(f"cmn{i:02d}", "cmn", f"cmn-latn-pinyin+{variant}",
                                int(rng.choice(SPEEDS)), int(rng.choice(PITCHES))))
    return speakers


def assign_splits(speakers: list[Speaker]) -> dict[str, str]:
    """speaker_id → split, disjoint, with every language in every split."""
    out: dict[str, str] = {}
    for language in ("en", "cmn"):
        group = [s for s in speakers if s.language == language]
        n = len(group)
        n_train = round(n * SPLIT_SHARES[0][1])
        n_val = max(1, round(n * SPLIT_SHARES[1][1]))
        for j, speaker in enumerate(group):
            out[speaker.speaker_id] = (
                "train" if j < n_train else "validation" if j < n_train + n_val else "test"
            )
    return out


def synthesise(speaker: Speaker, text: str) -> np.ndarray:
    """espeak-ng → float32 samples at 22,050 Hz."""
    result = subprocess.run(
        ["espeak-ng", "-v", speaker.voice, "-s", str(speaker.speed), "-p", str(speaker.pitch),
         "--stdout", text],
        check=True, capture_output=True,
    )
    data, rate = sf.read(io.BytesIO(result.stdout), dtype="float32")
    if rate != ESPEAK_RATE:
        raise RuntimeError(f"espeak-ng wrote {rate} Hz, expected {ESPEAK_RATE}")
    return data if data.ndim == 1 else data.mean(axis=1)


def trim(samples: np.ndarray, rate: int, pad_seconds: float = 0.05) -> np.ndarray:
    """Cut leading and trailing silence, keeping a short pad."""
    peak = float(np.abs(samples).max()) if samples.size else 0.0
    if peak == 0.0:
        return samples
    loud = np.flatnonzero(np.abs(samples) > 0.02 * peak)
    pad = int(pad_seconds * rate)
    return samples[max(0, loud[0] - pad): loud[-1] + pad + 1]


def finish(samples: np.ndarray, rng: np.random.Generator,
           noise_std: float = NOISE_STD) -> np.ndarray:
    """Normalise, add light noise, resample 22,050 → 16,000 Hz, clip to [-1, 1]."""
    samples = samples / max(float(np.abs(samples).max()), 1e-9) * 0.8
    samples = samples + rng.normal(0.0, noise_std, samples.shape)
    resampled = resample_poly(samples, 320, 441)  # 16000 / 22050 = 320 / 441
    return np.clip(resampled, -1.0, 1.0).astype(np.float32)


def utterances(speaker: Speaker, rng: np.random.Generator) -> list[list[int]]:
    """The digit sequences one speaker says: every digit alone, then short strings."""
    singles = [[d] for d in range(SINGLE_DIGITS_PER_SPEAKER)]
    strings = [
        [int(d) for d in rng.integers(0, 10, size=int(rng.integers(2, 4)))]
        for _ in range(STRINGS_PER_SPEAKER)
    ]
    return singles + strings


def spoken_text(language: str, digits: list[int]) -> tuple[str, str]:
    """(text given to espeak-ng, transcript)."""
    if language == "en":
        words = " ".join(ENGLISH_WORDS[d] for d in digits)
        return words, words
    return " ".join(PINYIN[d] for d in digits), "".join(CHINESE_CHARS[d] for d in digits)


def espeak_available() -> bool:
    """Whether espeak-ng is on the PATH."""
    return shutil.which("espeak-ng") is not None


def _require_espeak() -> None:
    if not espeak_available():
        raise RuntimeError("espeak-ng is not installed (apt-get install espeak-ng)")


def _speak(speaker: Speaker, utterance_list: list[list[int]], rng: np.random.Generator,
           folder: Path | None, noise_std: float = NOISE_STD) -> list[dict[str, str]]:
    """Synthesise one speaker's utterances into ``folder`` (None: draw the same random numbers
    but write nothing); returns their metadata rows."""
    rows = []
    for n, digits in enumerate(utterance_list):
        text, transcript = spoken_text(speaker.language, digits)
        samples = finish(trim(synthesise(speaker, text), ESPEAK_RATE), rng, noise_std)
        file_name = f"{speaker.speaker_id}-{n:02d}.flac"
        if folder is not None:
            sf.write(folder / file_name, samples, TARGET_RATE, format="FLAC", subtype="PCM_16")
        rows.append({
            "file_name": file_name,
            "digit": str(digits[0]) if len(digits) == 1 else "",
            "transcript": transcript,
            "speaker_id": speaker.speaker_id,
            "language": speaker.language,
        })
    return rows


def write_metadata(folder: Path, rows: list[dict[str, str]]) -> None:
    """``metadata.csv`` of one split folder."""
    with open(folder / "metadata.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def generate(out: Path, seed: int = SEED) -> dict[str, int]:
    """Write the committed splits (train, validation) under ``out/audio`` (replacing them);
    returns utterances per split.

    The fixed test speakers of the seeded draw are still synthesised and thrown away, so the
    random numbers (and the committed audio) stay what they always were.
    """
    _require_espeak()
    rng = np.random.default_rng(seed)
    speakers = make_speakers(rng)
    split_of = assign_splits(speakers)
    audio_root = out / "audio"
    if audio_root.exists():
        shutil.rmtree(audio_root)
    rows: dict[str, list[dict[str, str]]] = {split: [] for split in COMMITTED_SPLITS}
    for speaker in speakers:
        split = split_of[speaker.speaker_id]
        folder = audio_root / split if split in rows else None
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
        made = _speak(speaker, utterances(speaker, rng), rng, folder)
        rows.get(split, []).extend(made)
    for split, split_rows in rows.items():
        write_metadata(audio_root / split, split_rows)
    return {split: len(split_rows) for split, split_rows in rows.items()}


def secret_speakers(rng: np.random.Generator) -> list[Speaker]:
    """Fresh test speakers: random voice, variant, speed and pitch for each."""
    speakers = []
    for language, count in TEST_SPEAKERS.items():
        variants = ENGLISH_VARIANTS if language == "en" else MANDARIN_VARIANTS
        first = 15 if language == "en" else 8  # after the train/validation speaker numbers
        for k in range(count):
            base = (str(rng.choice(ENGLISH_VOICES)) if language == "en"
                    else "cmn-latn-pinyin")
            speakers.append(Speaker(
                f"{language}{first + k:02d}", language, f"{base}+{rng.choice(variants)}",
                int(rng.integers(*TEST_SPEEDS)), int(rng.integers(*TEST_PITCHES))))
    return speakers


def secret_utterances(speaker: Speaker, rng: np.random.Generator) -> list[list[int]]:
    """Random single digits and random 2-3 digit strings (not the fixed every-digit-once)."""
    singles = [[int(rng.integers(0, 10))] for _ in range(SINGLE_DIGITS_PER_SPEAKER)]
    return singles + utterances(speaker, rng)[SINGLE_DIGITS_PER_SPEAKER:]


def generate_test(folder: Path, seed: int | None = None) -> int:
    """Synthesise a fresh ``test`` split into ``folder`` (audio + metadata.csv) from a secret
    seed (``seed`` only for reproducing a run in a test); returns the utterance count."""
    _require_espeak()
    rng = np.random.default_rng(secrets.randbits(128) if seed is None else seed)
    folder.mkdir(parents=True, exist_ok=True)
    noise = float(rng.uniform(*TEST_NOISE))
    plan = [(speaker, digits) for speaker in secret_speakers(rng)
            for digits in secret_utterances(speaker, rng)]
    with ThreadPoolExecutor(max_workers=SYNTH_THREADS) as pool:  # espeak-ng processes
        voiced = list(pool.map(
            lambda item: synthesise(item[0], spoken_text(item[0].language, item[1])[0]), plan))
    rows: list[dict[str, str]] = []
    counter: dict[str, int] = {}
    for (speaker, digits), samples in zip(plan, voiced, strict=True):
        n = counter[speaker.speaker_id] = counter.get(speaker.speaker_id, -1) + 1
        file_name = f"{speaker.speaker_id}-{n:02d}.flac"
        audio = finish(trim(samples, ESPEAK_RATE), rng, noise)
        sf.write(folder / file_name, audio, TARGET_RATE, format="FLAC", subtype="PCM_16")
        rows.append({"file_name": file_name,
                     "digit": str(digits[0]) if len(digits) == 1 else "",
                     "transcript": spoken_text(speaker.language, digits)[1],
                     "speaker_id": speaker.speaker_id, "language": speaker.language})
    write_metadata(folder, rows)
    return len(rows)
