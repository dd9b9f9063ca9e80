"""Features ↔ Hugging Face JSON ↔ Arrow, and row validation."""

from __future__ import annotations

import json
from pathlib import Path

import datasets
import numpy as np
import pyarrow as pa
import pytest

from heldout.errors import InvalidInput
from heldout.formats.features import (
    MEDIA_STRUCT,
    Audio,
    ClassLabel,
    Features,
    Image,
    Sequence,
    Value,
)

ALL = Features(
    {
        "id": Value("string"),
        "image": Image(),
        "audio": Audio(sampling_rate=8000),
        "label": ClassLabel(["no", "yes"]),
        "speaker": Value("int32"),
        "score": Value("float32"),
        "flag": Value("bool"),
        "blob": Value("binary"),
        "embedding": Sequence(Value("float32")),
        "box": Sequence(Value("int64"), length=4),
    }
)


def test_hf_json_matches_stock_datasets() -> None:
    stock = datasets.Features.from_dict(ALL.to_hf())
    assert stock.to_dict() == ALL.to_hf()
    assert isinstance(stock["image"], datasets.Image)
    assert stock["audio"] == datasets.Audio(sampling_rate=8000)
    assert stock["label"].names == ["no", "yes"]
    assert stock["box"].length == 4


def test_arrow_schema_matches_stock_datasets_and_carries_metadata() -> None:
    schema = ALL.arrow_schema()
    stock = datasets.Features.from_dict(ALL.to_hf())
    assert schema.remove_metadata() == stock.arrow_schema.remove_metadata()
    assert schema.field("image").type == MEDIA_STRUCT
    assert schema.field("label").type == pa.int64()
    meta = json.loads(schema.metadata[b"huggingface"])
    assert meta == {"info": {"features": ALL.to_hf()}}
    # stock datasets reads our schema back into the same features
    assert datasets.Features.from_arrow_schema(schema) == stock


def test_round_trips() -> None:
    assert Features.from_hf(ALL.to_hf()) == ALL
    assert Features.from_hf(json.loads(json.dumps(ALL.to_hf()))) == ALL
    assert Features.from_arrow_schema(ALL.arrow_schema()) == ALL
    assert list(Features.from_hf(ALL.to_hf())) == list(ALL)  # order kept


def test_reads_stock_datasets_json_including_legacy_sequence() -> None:
    stock = datasets.Features(
        {
            "tokens": datasets.Sequence(datasets.Value("string")),
            "img": datasets.Image(),
            "y": datasets.ClassLabel(names=["a", "b", "c"]),
            "x": datasets.Value("double"),
        }
    )
    ours = Features.from_hf(stock.to_dict())
    assert ours["tokens"] == Sequence(Value("string"))
    assert ours["x"] == Value("float64")
    legacy = {"t": {"_type": "Sequence", "feature": {"_type": "Value", "dtype": "int64"}}}
    assert Features.from_hf(legacy)["t"] == Sequence(Value("int64"))


def test_unsupported_or_bad_feature_json_names_the_column() -> None:
    with pytest.raises(InvalidInput, match=r"column 'v'.*'Video' is not supported"):
        Features.from_hf({"v": {"_type": "Video"}})
    with pytest.raises(InvalidInput, match=r"column 'x'.*unknown value dtype 'int7'"):
        Features.from_hf({"x": {"_type": "Value", "dtype": "int7"}})
    with pytest.raises(InvalidInput, match=r"column 'y'.*needs a list of 'names'"):
        Features.from_hf({"y": {"_type": "ClassLabel"}})
    with pytest.raises(InvalidInput, match=r"'a' appears twice"):
        ClassLabel(["a", "b", "a"])
    with pytest.raises(InvalidInput, match=r"no 'huggingface' metadata"):
        Features.from_arrow_schema(pa.schema([("a", pa.int64())]))


def test_selections() -> None:
    assert ALL.media_columns() == ["image", "audio"]
    assert ALL.label_names() == {"label": ["no", "yes"]}
    assert list(ALL.drop(["label", "blob"])) == [
        "id",
        "image",
        "audio",
        "speaker",
        "score",
        "flag",
        "embedding",
        "box",
    ]
    assert list(ALL.select(["label", "id"])) == ["label", "id"]
    with pytest.raises(InvalidInput, match=r"unknown column\(s\) \['nope'\]"):
        ALL.drop(["nope"])
    assert Image().is_media and Audio().is_media
    assert not ClassLabel(["a"]).is_media and not Value("string").is_media


def good_row() -> dict[str, object]:
    return {
        "id": "a",
        "image": b"\x89PNG",
        "audio": {"bytes": b"RIFF", "path": "a.wav"},
        "label": "yes",
        "speaker": np.int32(7),
        "score": 0.5,
        "flag": True,
        "blob": b"\x00",
        "embedding": [1, 2.5],
        "box": (1, 2, 3, 4),
    }


def test_encode_row_normalises_values() -> None:
    row = ALL.encode_row(good_row())
    assert row["label"] == 1
    assert row["image"] == {"bytes": b"\x89PNG", "path": None}
    assert row["audio"] == {"bytes": b"RIFF", "path": "a.wav"}
    assert row["speaker"] == 7 and type(row["speaker"]) is int
    assert row["embedding"] == [1.0, 2.5]
    assert row["box"] == [1, 2, 3, 4]
    assert ALL.encode_row({**good_row(), "label": 0})["label"] == 0
    assert ALL.encode_row({**good_row(), "label": None})["label"] is None


def test_encode_row_reads_media_paths(tmp_path: Path) -> None:
    file = tmp_path / "cat.png"
    file.write_bytes(b"\x89PNGdata")
    row = ALL.encode_row({**good_row(), "image": file})
    assert row["image"] == {"bytes": b"\x89PNGdata", "path": "cat.png"}
    with pytest.raises(InvalidInput, match=r"column 'image': cannot read image file"):
        ALL.encode_row({**good_row(), "image": tmp_path / "missing.png"})


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("label", "maybe", r"column 'label': unknown label 'maybe'; known labels are 'no', 'yes'"),
        ("label", 2, r"column 'label': label index 2 is out of range 0..1"),
        ("label", -1, r"column 'label': label index -1 is out of range"),
        ("label", 1.0, r"column 'label': expected a label name or index, got 1.0"),
        ("label", True, r"column 'label': expected a label name or index"),
        ("id", 5, r"column 'id': expected a string, got 5"),
        ("speaker", "7", r"column 'speaker': expected an integer \(int32\), got '7'"),
        ("speaker", 2**31, r"column 'speaker': 2147483648 is out of range for int32"),
        ("speaker", True, r"column 'speaker': expected an integer"),
        ("score", "high", r"column 'score': expected a number \(float32\)"),
        ("flag", 1, r"column 'flag': expected true/false, got 1"),
        ("image", "cat.png", r"column 'image': expected image bytes"),
        ("image", {"path": "x.png"}, r"column 'image': the image value needs its content"),
        ("image", b"", r"column 'image': the image is empty"),
        ("audio", {"bytes": b"x", "sr": 1}, r"column 'audio': a audio value has keys"),
        ("embedding", "abc", r"column 'embedding': expected a list"),
        ("embedding", [1, "x"], r"column 'embedding'\[1\]: expected a number"),
        ("box", [1, 2], r"column 'box': expected 4 items, got 2"),
    ],
)
def test_bad_values_are_rejected_naming_the_column(
    column: str, value: object, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        ALL.encode_row({**good_row(), column: value}, where="train row 3")
    with pytest.raises(InvalidInput, match=r"^train row 3, "):
        ALL.encode_row({**good_row(), column: value}, where="train row 3")


def test_missing_and_unknown_columns_are_rejected() -> None:
    row = good_row()
    del row["label"]
    with pytest.raises(InvalidInput, match=r"missing column\(s\) \['label'\]"):
        ALL.encode_row(row)
    with pytest.raises(InvalidInput, match=r"unknown column\(s\) \['extra'\]"):
        ALL.encode_row({**good_row(), "extra": 1})
    with pytest.raises(InvalidInput, match=r"expected a mapping"):
        ALL.encode_row(["a"])  # type: ignore[arg-type]


def test_features_validate_their_columns() -> None:
    with pytest.raises(InvalidInput, match=r"is not a feature"):
        Features({"a": "string"})  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match=r"non-empty strings"):
        Features({"": Value("string")})
    with pytest.raises(InvalidInput, match=r"sampling_rate must be a positive integer"):
        Audio(sampling_rate=0)


def test_every_registered_feature_type_reads_what_it_writes() -> None:
    from heldout.formats.features import FEATURE_TYPES, feature_from_hf

    examples = [Value("int64"), ClassLabel(["a", "b"]), Image(), Audio(8000),
                Sequence(Value("float32"), 3)]
    assert {type(e) for e in examples} == set(FEATURE_TYPES.values())
    for example in examples:
        assert feature_from_hf(example.to_hf()) == example
        assert FEATURE_TYPES[example.to_hf()["_type"]] is type(example)
