"""Croissant 1.1 JSON-LD: it passes `mlcroissant validate` and loads records from the shards."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from heldout.formats.croissant import CROISSANT_1_1, build_croissant
from heldout.formats.features import Audio, Features, Sequence, Value
from heldout.formats.manifest import Manifest, SplitInfo
from heldout.formats.writer import write_split

from .conftest import CLASSES, WrittenVersion, audio_bytes, color_of

BASE = "https://heldout.example/files/datasets/demo/1.0.0"
MLCROISSANT = Path(sys.executable).parent / "mlcroissant"


def validate(doc: dict[str, Any], path: Path) -> subprocess.CompletedProcess[str]:
    """Run the real validator CLI on ``doc`` written to ``path``."""
    path.write_text(json.dumps(doc, indent=2))
    return subprocess.run(
        [str(MLCROISSANT), "validate", "--jsonld", str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_document_fields(written_version: WrittenVersion) -> None:
    manifest = written_version.manifest
    doc = build_croissant(manifest, BASE + "/")
    assert doc["conformsTo"] == CROISSANT_1_1
    assert doc["@type"] == "sc:Dataset"
    assert (doc["name"], doc["version"], doc["license"]) == ("demo", "1.0.0", "CC-BY-4.0")
    assert doc["url"] == BASE
    assert doc["citeAs"] == "@misc{demo, title={Demo}}"
    files = [d for d in doc["distribution"] if d["@type"] == "cr:FileObject"]
    assert len(files) == len(manifest.all_shards())
    for entry, shard in zip(files, manifest.all_shards(), strict=True):
        assert entry["contentUrl"] == f"{BASE}/{shard.path}"
        assert entry["sha256"] == shard.sha256
        assert entry["encodingFormat"] == "application/x-parquet"
        assert entry["contentSize"] == f"{shard.num_bytes} B"
    record_sets = {rs["@id"]: rs for rs in doc["recordSet"]}
    assert set(record_sets) == {"label_classes", "train", "test"}
    train_fields = {f["name"]: f for f in record_sets["train"]["field"]}
    assert train_fields["image"]["dataType"] == "sc:ImageObject"
    assert train_fields["label"]["dataType"] == "sc:Integer"
    assert "0=cat, 1=dog, 2=bird" in train_fields["label"]["description"]
    assert train_fields["id"]["dataType"] == "sc:Text"
    # the held-out labels are not described as a column of the public test files
    assert [f["name"] for f in record_sets["test"]["field"]] == ["id", "image"]


def test_passes_mlcroissant_validate(written_version: WrittenVersion) -> None:
    doc = build_croissant(written_version.manifest, BASE)
    result = validate(doc, written_version.directory / "croissant.json")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Done." in output
    assert "warning" not in output.lower(), output


def test_validator_rejects_a_broken_document(written_version: WrittenVersion) -> None:
    doc = build_croissant(written_version.manifest, BASE)
    del doc["distribution"][0]["sha256"]
    result = validate(doc, written_version.directory / "broken.json")
    assert result.returncode != 0
    assert "sha256" in (result.stdout + result.stderr)


def test_audio_and_list_columns_validate(tmp_path: Path) -> None:
    features = Features(
        {
            "audio": Audio(sampling_rate=16000),
            "text": Value("string"),
            "speaker": Value("int32"),
            "duration": Value("float32"),
            "embedding": Sequence(Value("float32"), length=2),
        }
    )
    rows = [
        {
            "audio": audio_bytes(i),
            "text": "hi",
            "speaker": i,
            "duration": 0.05,
            "embedding": [0.0, 1.0],
        }
        for i in range(3)
    ]
    shards = write_split(tmp_path, "train", features, rows)
    manifest = Manifest(
        name="speech",
        version="0.1.0",
        license="MIT",
        task="automatic-speech-recognition",
        modality="audio",
        features=features.to_hf(),
        splits={"train": SplitInfo.from_shards("train", shards)},
    )
    doc = build_croissant(manifest, "https://h.example/speech/0.1.0")
    fields = {f["name"]: f for f in doc["recordSet"][0]["field"]}
    assert fields["audio"]["dataType"] == "sc:AudioObject"
    assert fields["audio"]["source"]["samplingRate"] == 16000
    assert fields["duration"]["dataType"] == "sc:Float"
    assert fields["embedding"]["isArray"] is True
    assert "@misc{speech_0_1_0" in doc["citeAs"]  # generated when none is given
    result = validate(doc, tmp_path / "croissant.json")
    assert result.returncode == 0, result.stderr
    assert "warning" not in (result.stdout + result.stderr).lower(), result.stderr


@pytest.mark.slow
def test_mlcroissant_loads_records_from_the_local_shards(written_version: WrittenVersion) -> None:
    import mlcroissant as mlc

    path = written_version.directory / "croissant.json"
    path.write_text(json.dumps(build_croissant(written_version.manifest, BASE)))
    dataset = mlc.Dataset(str(path))
    classes = list(dataset.records("label_classes"))
    assert [(r["label_classes/index"], r["label_classes/name"]) for r in classes] == [
        (0, "cat"),
        (1, "dog"),
        (2, "bird"),
    ]
    records = list(itertools.islice(dataset.records("train"), 4))
    for i, record in enumerate(records):
        assert record["train/label"] == i % len(CLASSES)
        assert record["train/image"].convert("RGB").getpixel((1, 1)) == color_of(i)
