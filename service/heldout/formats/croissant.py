"""Croissant 1.1 JSON-LD (``croissant.json``) for a dataset version.

The distribution lists every shard as a ``cr:FileObject`` (absolute ``contentUrl``, sha256,
size) and one ``cr:FileSet`` per split (``data/{split}-*.parquet`` beside the JSON-LD file),
which the split's RecordSet reads its fields from. ClassLabel columns also get a small
RecordSet of class names that the label field references.
"""

from __future__ import annotations

import re
from typing import Any

from heldout import layout
from heldout.formats.features import Audio, ClassLabel, Feature, Image, Sequence, Value
from heldout.formats.manifest import Manifest, ShardInfo

CROISSANT_1_1 = "http://mlcommons.org/croissant/1.1"
PARQUET_MIME = "application/x-parquet"

# The @context of Croissant 1.1 (as mlcroissant 1.1 expects it, key for key).
CROISSANT_CONTEXT: dict[str, Any] = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "arrayShape": "cr:arrayShape",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "containedIn": "cr:containedIn",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/",
    "description": {"@container": "@language"},
    "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isArray": "cr:isArray",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "name": {"@container": "@language"},
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "sc": "https://schema.org/",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}

_VALUE_TYPES = {
    "bool": "sc:Boolean",
    "date32": "sc:Date",
    "date64": "sc:Date",
    "string": "sc:Text",
    "large_string": "sc:Text",
}


def _data_type(feature: Feature) -> str:
    """The Croissant dataType of a (non-list) feature."""
    if isinstance(feature, Image):
        return "sc:ImageObject"
    if isinstance(feature, Audio):
        return "sc:AudioObject"
    if isinstance(feature, ClassLabel):
        return "sc:Integer"
    if isinstance(feature, Sequence):
        return _data_type(feature.feature)
    dtype = feature.dtype if isinstance(feature, Value) else ""
    if dtype in _VALUE_TYPES:
        return _VALUE_TYPES[dtype]
    if "int" in dtype:
        return "sc:Integer"
    if dtype.startswith("float"):
        return "sc:Float"
    if dtype.startswith("timestamp"):
        return "sc:DateTime"
    return "sc:Text"  # binary and anything exotic: raw values


def _field(record_set: str, file_set: str, name: str, feature: Feature) -> dict[str, Any]:
    source: dict[str, Any] = {"fileSet": {"@id": file_set}, "extract": {"column": name}}
    description = f"Column {name!r}."
    if isinstance(feature, Image | Audio):
        source["transform"] = {"jsonPath": "bytes"}
        description = f"Column {name!r}: encoded {type(feature).__name__.lower()} bytes."
    if isinstance(feature, Audio):
        source["samplingRate"] = feature.sampling_rate
        description += f" Sampling rate {feature.sampling_rate} Hz."
    out: dict[str, Any] = {
        "@type": "cr:Field",
        "@id": f"{record_set}/{name}",
        "name": name,
        "description": description,
        "dataType": _data_type(feature),
        "source": source,
    }
    if isinstance(feature, ClassLabel):
        classes = ", ".join(f"{i}={n}" for i, n in enumerate(feature.names[:50]))
        more = " …" if feature.num_classes > 50 else ""
        out["description"] = (
            f"Column {name!r}: class index into {feature.num_classes} categories ({classes}{more})."
        )
        out["references"] = {"field": {"@id": f"{_classes_id(name)}/index"}}
    if isinstance(feature, Sequence):
        out["isArray"] = True
        out["arrayShape"] = str(feature.length) if feature.length >= 0 else "-1"
    return out


def _classes_id(column: str) -> str:
    return f"{column}_classes"


def _classes_record_set(column: str, feature: ClassLabel) -> dict[str, Any]:
    rs = _classes_id(column)
    return {
        "@type": "cr:RecordSet",
        "@id": rs,
        "name": rs,
        "description": f"The classes of column {column!r}: index and name.",
        "key": {"@id": f"{rs}/index"},
        "field": [
            {
                "@type": "cr:Field",
                "@id": f"{rs}/index",
                "name": "index",
                "description": "Class index as stored in the label column.",
                "dataType": "sc:Integer",
            },
            {
                "@type": "cr:Field",
                "@id": f"{rs}/name",
                "name": "name",
                "description": "Class name.",
                "dataType": "sc:Text",
            },
        ],
        "data": [{f"{rs}/index": i, f"{rs}/name": n} for i, n in enumerate(feature.names)],
    }


def _default_citation(manifest: Manifest, url: str) -> str:
    """A BibTeX entry for a dataset published without one."""
    key = re.sub(r"[^A-Za-z0-9]+", "_", f"{manifest.name}_{manifest.version}")
    title = (manifest.title or manifest.name).replace("{", "").replace("}", "")
    return (
        f"@misc{{{key},\n  title = {{{title}}},\n  version = {{{manifest.version}}},\n"
        f"  year = {{{manifest.created_at.year}}},\n  howpublished = {{\\url{{{url}}}}}\n}}"
    )


def _dataset_header(manifest: Manifest, base: str) -> dict[str, Any]:
    """The ``sc:Dataset`` fields: names, license, version, citation."""
    description = manifest.description or manifest.title or f"{manifest.name} dataset"
    return {
        "@context": CROISSANT_CONTEXT,
        "@type": "sc:Dataset",
        "name": manifest.name,
        "alternateName": manifest.title or manifest.name,
        "description": description,
        "conformsTo": CROISSANT_1_1,
        "license": manifest.license,
        "url": base,
        "version": manifest.version,
        "datePublished": manifest.created_at.isoformat(),
        "keywords": [manifest.task, manifest.modality],
        "citeAs": manifest.citation or _default_citation(manifest, base),
    }


def _shard_file(shard: ShardInfo, base: str) -> dict[str, Any]:
    """One Parquet shard as a ``cr:FileObject`` with its URL, size and sha256."""
    return {
        "@type": "cr:FileObject",
        "@id": shard.path,
        "name": shard.path.removeprefix(layout.DATA_DIR),
        "description": f"Parquet shard of split {shard.split!r} ({shard.num_rows} rows).",
        "contentUrl": f"{base}/{shard.path}",
        "encodingFormat": PARQUET_MIME,
        "contentSize": f"{shard.num_bytes} B",
        "sha256": shard.sha256,
    }


def _split_file_set(split: str) -> dict[str, Any]:
    """The shards of ``split`` as a ``cr:FileSet``."""
    return {
        "@type": "cr:FileSet",
        "@id": f"{split}-files",
        "name": f"{split}-files",
        "description": f"The Parquet shards of split {split!r}.",
        "encodingFormat": PARQUET_MIME,
        "includes": layout.split_files_glob(split),
    }


def _split_record_set(manifest: Manifest, split: str) -> dict[str, Any]:
    """The public columns of ``split`` as a ``cr:RecordSet`` (held-out labels named, absent)."""
    description = f"Records of split {split!r}."
    held = manifest.label_columns(split)
    if held:
        description += f" Held-out label column(s) {held} are not published."
    return {
        "@type": "cr:RecordSet",
        "@id": split,
        "name": split,
        "description": description,
        "field": [
            _field(split, f"{split}-files", col, feat)
            for col, feat in manifest.public_features_obj(split).items()
        ],
    }


def build_croissant(manifest: Manifest, base_url: str) -> dict[str, Any]:
    """Croissant 1.1 JSON-LD describing ``manifest``; shard URLs are ``base_url/path``."""
    base = base_url.rstrip("/")
    doc = _dataset_header(manifest, base)
    doc["distribution"] = [_shard_file(shard, base) for shard in manifest.all_shards()] + [
        _split_file_set(split) for split in manifest.splits
    ]
    doc["recordSet"] = [
        _classes_record_set(name, ClassLabel(names))
        for name, names in manifest.features_obj().label_names().items()
    ] + [_split_record_set(manifest, split) for split in manifest.splits]
    return doc


__all__ = ["CROISSANT_1_1", "CROISSANT_CONTEXT", "build_croissant"]
