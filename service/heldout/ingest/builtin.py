"""The built-in datasets, generated here with nothing downloaded: ``digits``, ``spoken-digits``.

Their cards (``card.yaml`` + ``README.md``) and the spoken-digits audio live in the repository's
``datasets/`` data folder; :func:`datasets_dir` finds it (``HELDOUT_DATASETS_DIR`` overrides).
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from PIL import Image as PILImage

from heldout.errors import IngestError, NotFound
from heldout.formats.features import ClassLabel, Features, Image, Value
from heldout.ingest.pipeline import PublishOptions, PublishResult, publish_source
from heldout.ingest.sources.base import Example, MediaRef, Source, stable_id
from heldout.ingest.sources.folder import FolderSource
from heldout.ingest.sources.memory import MemorySource
from heldout.ingest.splitting import stratified_split
from heldout.repository import DatasetMetadata, DatasetRepository

BUILTINS = ("digits", "spoken-digits")
DIGIT_NAMES = [str(d) for d in range(10)]


def datasets_dir() -> Path:
    """The repository's ``datasets/`` folder (cards and committed data)."""
    env = os.environ.get("HELDOUT_DATASETS_DIR")
    if env:
        return Path(env)
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "datasets"
        if (candidate / "digits" / "card.yaml").is_file():
            return candidate
    candidate = Path.cwd() / "datasets"
    if (candidate / "digits" / "card.yaml").is_file():
        return candidate
    raise NotFound("cannot find the built-in datasets folder (datasets/digits/card.yaml); "
                   "set HELDOUT_DATASETS_DIR")


def load_card(name: str) -> tuple[dict[str, Any], str]:
    """(card.yaml as a dict, README.md text) of a built-in dataset."""
    if name not in BUILTINS:
        raise NotFound(f"no built-in dataset {name!r}; built-ins are {', '.join(BUILTINS)}")
    folder = datasets_dir() / name
    card = yaml.safe_load((folder / "card.yaml").read_text(encoding="utf-8"))
    return card, (folder / "README.md").read_text(encoding="utf-8")


def _metadata(card: dict[str, Any], readme: str) -> DatasetMetadata:
    return DatasetMetadata(
        title=card["title"], description=card.get("description") or "",
        license=card["license"], task=card["task"], modality=card["modality"],
        source=card.get("source") or {}, citation=card.get("citation"), card_markdown=readme,
    )


def digits_source(card: dict[str, Any]) -> MemorySource:
    """scikit-learn's digits as 8×8 grayscale PNGs with a seeded, stratified split."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = np.rint(bunch.images * (255.0 / 16.0)).clip(0, 255).astype(np.uint8)
    labels = [int(v) for v in bunch.target]
    split_card = card["split"]
    keys = [f"{i:04d}" for i in range(len(labels))]
    assigned = stratified_split(keys, labels, dict(split_card["fractions"]),
                                int(split_card["seed"]))
    splits: dict[str, list[Example]] = {name: [] for name in split_card["fractions"]}
    for i, (pixels, label, split) in enumerate(zip(images, labels, assigned, strict=True)):
        buffer = io.BytesIO()
        PILImage.fromarray(pixels, mode="L").save(buffer, format="PNG", optimize=True)
        splits[split].append(Example(
            split=split, id=stable_id("digits", keys[i]), name=f"load_digits()[{i}]",
            media={"image": MediaRef(None, buffer.getvalue(), f"{keys[i]}.png")},
            fields={"label": DIGIT_NAMES[label]},
        ))
    features = Features([("id", Value("string")), ("image", Image()),
                         ("label", ClassLabel(DIGIT_NAMES))])
    return MemorySource("image", features, splits,
                        {"format": "builtin", "builtin": "digits", **(card.get("source") or {})})


def spoken_digits_source() -> FolderSource:
    """The committed spoken-digits audio folder."""
    root = datasets_dir() / "spoken-digits" / "audio"
    if not root.is_dir():
        raise IngestError(f"{root} is missing: run datasets/spoken-digits/generate.py")
    return FolderSource(root, "audio", sampling_rate=16000,
                        column_features={"digit": ClassLabel(DIGIT_NAMES)})


def build_source(name: str) -> tuple[Source, DatasetMetadata, dict[str, Any]]:
    """The source, metadata and card of a built-in dataset."""
    card, readme = load_card(name)
    source: Source = digits_source(card) if name == "digits" else spoken_digits_source()
    return source, _metadata(card, readme), card


def build_builtin(
    repository: DatasetRepository,
    name: str,
    *,
    version: str | None = None,
    progress: bool = False,
    workers: int | None = None,
) -> PublishResult:
    """Build the built-in dataset ``name`` and publish it (``version`` from its card by default)."""
    source, metadata, card = build_source(name)
    options = PublishOptions(held_out=list(card.get("held_out") or []), progress=progress,
                             workers=workers)
    return publish_source(repository, source, card["name"], version or str(card["version"]),
                          metadata, options)
