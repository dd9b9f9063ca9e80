"""The README.md dataset card: YAML front matter that Hub-style loaders understand."""

from __future__ import annotations

from pathlib import Path

import datasets
import yaml
from datasets.info import DatasetInfosDict
from huggingface_hub import DatasetCard

from heldout.formats.card import render_card

from .conftest import CLASSES, WrittenVersion


def split_card(text: str) -> tuple[dict[str, object], str]:
    assert text.startswith("---\n")
    head, _, body = text[4:].partition("\n---\n")
    return yaml.safe_load(head), body


def test_front_matter(written_version: WrittenVersion) -> None:
    meta, body = split_card(render_card(written_version.manifest, None))
    assert meta["license"] == "cc-by-4.0"
    assert meta["pretty_name"] == "Demo colours"
    assert meta["task_categories"] == ["image-classification"]
    assert meta["configs"] == [
        {
            "config_name": "default",
            "data_files": [{"split": "train", "path": "data/train-*.parquet"}],
        },
        {"config_name": "test", "data_files": [{"split": "test", "path": "data/test-*.parquet"}]},
    ]
    assert "# Demo colours" in body
    assert "| test | 6 | 1 | label |" in body
    assert "cat, dog, bird" in body
    assert "@misc{demo" in body


def test_publisher_body_replaces_summary_and_its_front_matter(
    written_version: WrittenVersion,
) -> None:
    text = render_card(written_version.manifest, "---\nlicense: mit\n---\n# My card\n\nHello.\n")
    meta, body = split_card(text)
    assert meta["license"] == "cc-by-4.0"
    assert body.strip() == "# My card\n\nHello."
    assert text.count("\n---\n") == 1


def test_stock_datasets_reads_the_card(written_version: WrittenVersion, tmp_path: Path) -> None:
    directory = written_version.directory
    (directory / "README.md").write_text(render_card(written_version.manifest, None))
    card = DatasetCard.load(directory / "README.md")
    infos = DatasetInfosDict.from_dataset_card_data(card.data)
    features = infos["default"].features
    assert isinstance(features["image"], datasets.Image)
    assert features["label"].names == CLASSES
    assert "label" not in infos["test"].features

    cache = str(tmp_path / "cache")
    default = datasets.load_dataset(str(directory), cache_dir=cache)
    assert list(default) == ["train"]
    assert default["train"].features["label"].names == CLASSES
    assert default["train"].num_rows == 12
    test = datasets.load_dataset(str(directory), "test", cache_dir=cache)
    assert test["test"].column_names == ["id", "image"]
    assert test["test"].num_rows == 6
