"""The built-in datasets, generated here with nothing downloaded: ``digits``, ``spoken-digits``.

Their cards (``card.yaml`` + ``README.md``) and the spoken-digits train/validation audio live in
the repository's ``datasets/`` data folder; :func:`datasets_dir` finds it (the
``HELDOUT_DATASETS_DIR`` setting overrides). The spoken-digits test split is synthesised at each
build from a secret seed; digits' labels ship with scikit-learn, so its version is marked
``held_out_labels_public``.
"""

from __future__ import annotations

import io
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from PIL import Image as PILImage

from heldout.errors import IngestError, NotFound
from heldout.formats.features import ClassLabel, Features, Image, Value
from heldout.ingest import spoken_digits
from heldout.ingest.pipeline import PublishOptions, PublishResult, publish_source
from heldout.ingest.sources.base import Example, MediaRef, Source, stable_id
from heldout.ingest.sources.folder import FolderSource
from heldout.ingest.sources.memory import MemorySource
from heldout.ingest.splitting import stratified_split
from heldout.repository import DatasetMetadata, DatasetRepository

BUILTINS = ("digits", "spoken-digits")
log = logging.getLogger("heldout.builtin")
DIGIT_NAMES = [str(d) for d in range(10)]


def datasets_dir(configured: Path | None = None) -> Path:
    """The built-in datasets folder: ``configured`` (``Settings.datasets_dir``), else the
    repository's ``datasets/`` folder (cards and committed data)."""
    if configured is not None:
        return configured
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "datasets"
        if (candidate / "digits" / "card.yaml").is_file():
            return candidate
    candidate = Path.cwd() / "datasets"
    if (candidate / "digits" / "card.yaml").is_file():
        return candidate
    raise NotFound("cannot find the built-in datasets folder (datasets/digits/card.yaml); "
                   "set HELDOUT_DATASETS_DIR")


def load_card(name: str, folder: Path | None = None) -> tuple[dict[str, Any], str]:
    """(card.yaml as a dict, README.md text) of a built-in dataset (in ``datasets_dir(folder)``)."""
    if name not in BUILTINS:
        raise NotFound(f"no built-in dataset {name!r}; built-ins are {', '.join(BUILTINS)}")
    folder = datasets_dir(folder) / name
    card = yaml.safe_load((folder / "card.yaml").read_text(encoding="utf-8"))
    return card, (folder / "README.md").read_text(encoding="utf-8")


def _metadata(card: dict[str, Any], readme: str) -> DatasetMetadata:
    return DatasetMetadata(
        title=card["title"], description=card.get("description") or "",
        license=card["license"], task=card["task"], modality=card["modality"],
        source=card.get("source") or {}, citation=card.get("citation"), card_markdown=readme,
        held_out_labels_public=bool(card.get("held_out_labels_public", False)),
        held_out_labels_public_reason=card.get("held_out_labels_public_reason"),
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


def spoken_digits_source(workdir: Path, folder: Path | None = None
                         ) -> tuple[FolderSource, str | None]:
    """The committed spoken-digits train and validation audio plus a ``test`` split
    synthesised now from a secret seed, laid out under ``workdir``; and, when espeak-ng is
    missing, why the held-out labels are public (the committed validation audio, whose
    labels are in the repository, becomes the test split)."""
    committed = datasets_dir(folder) / "spoken-digits" / "audio"
    if not committed.is_dir():
        raise IngestError(f"{committed} is missing: run datasets/spoken-digits/generate.py")
    root = workdir / "audio"
    shutil.copytree(committed / "train", root / "train")
    reason = None
    if spoken_digits.espeak_available():
        shutil.copytree(committed / "validation", root / "validation")
        spoken_digits.generate_test(root / "test")
    else:
        reason = ("espeak-ng is not installed where this version was built, so its test "
                  "split is the committed validation audio, whose labels are in the "
                  "Heldout repository")
        log.warning("spoken-digits: %s (install espeak-ng for a secret test split)", reason)
        shutil.copytree(committed / "validation", root / "test")
    source = FolderSource(root, "audio", sampling_rate=16000,
                          column_features={"digit": ClassLabel(DIGIT_NAMES)})
    return source, reason


def build_source(name: str, workdir: Path, folder: Path | None = None
                 ) -> tuple[Source, DatasetMetadata, dict[str, Any]]:
    """The source, metadata and card of a built-in dataset (files made under ``workdir``;
    cards and committed files in ``datasets_dir(folder)``)."""
    card, readme = load_card(name, folder)
    metadata = _metadata(card, readme)
    if name == "digits":
        return digits_source(card), metadata, card
    source, reason = spoken_digits_source(workdir, folder)
    if reason is not None:
        metadata = metadata.model_copy(update={"held_out_labels_public": True,
                                               "held_out_labels_public_reason": reason})
    return source, metadata, card


def build_builtin(
    repository: DatasetRepository,
    name: str,
    *,
    version: str | None = None,
    progress: bool = False,
    workers: int | None = None,
    options: PublishOptions | None = None,
    folder: Path | None = None,
) -> PublishResult:
    """Build the built-in dataset ``name`` and publish it (``version`` from its card by default;
    cards and committed files from ``folder``, default the repository's ``datasets/``)."""
    options = options or PublishOptions(progress=progress, workers=workers)
    with tempfile.TemporaryDirectory(prefix=f"heldout-build-{name}-") as tmp:
        source, metadata, card = build_source(name, Path(tmp), folder)
        options.held_out = list(card.get("held_out") or [])
        return publish_source(repository, source, card["name"],
                              version or str(card["version"]), metadata, options)
