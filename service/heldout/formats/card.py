"""The version's ``README.md``: a dataset card with Hugging Face style YAML front matter.

The ``configs`` block maps splits to their shards so Hub-style loaders
(``datasets.load_dataset(version_folder)``) find them. Splits whose public shards have
fewer columns (held-out labels) get a config of their own, because one config must have
one schema.
"""

from __future__ import annotations

from typing import Any

import yaml

from heldout import layout
from heldout.formats.features import Audio, ClassLabel, Feature, Image, Sequence, Value
from heldout.formats.manifest import Manifest

# Heldout task → (Hugging Face task category, task id or None).
_HF_TASKS: dict[str, tuple[str, str | None]] = {
    "image-classification": ("image-classification", "multi-class-image-classification"),
    "automatic-speech-recognition": ("automatic-speech-recognition", None),
    "audio-classification": ("audio-classification", None),
    "keyword-spotting": ("audio-classification", "keyword-spotting"),
    "speaker-verification": ("audio-classification", "speaker-identification"),
    "speaker-identification": ("audio-classification", "speaker-identification"),
    "text-classification": ("text-classification", None),
    "object-detection": ("object-detection", None),
    "tabular-classification": ("tabular-classification", None),
}


def _yaml_feature(feature: Feature) -> Any:
    """A feature as the ``dataset_info.features`` YAML entry value (the dtype part)."""
    if isinstance(feature, Image):
        return "image"
    if isinstance(feature, Audio):
        return {"audio": {"sampling_rate": feature.sampling_rate}}
    if isinstance(feature, ClassLabel):
        return {"class_label": {"names": {str(i): n for i, n in enumerate(feature.names)}}}
    if isinstance(feature, Sequence):
        inner = _yaml_feature(feature.feature)
        return {"list": inner} if feature.length < 0 else {"list": inner, "length": feature.length}
    if isinstance(feature, Value):
        return feature.dtype
    raise TypeError(f"no card dtype for {feature!r}")


def _features_yaml(manifest: Manifest, split: str) -> list[dict[str, Any]]:
    out = []
    for name, feature in manifest.public_features_obj(split).items():
        value = _yaml_feature(feature)
        if isinstance(value, str):
            out.append({"name": name, "dtype": value})
        elif isinstance(feature, Sequence):
            out.append({"name": name, **value})
        else:
            out.append({"name": name, "dtype": value})
    return out


def card_configs(manifest: Manifest) -> list[dict[str, Any]]:
    """``configs`` entries: one per distinct public schema; the first is ``default``."""
    groups: list[tuple[list[str], list[str]]] = []  # (public columns, splits)
    for split in manifest.splits:
        columns = list(manifest.public_features_obj(split))
        for cols, splits in groups:
            if cols == columns:
                splits.append(split)
                break
        else:
            groups.append((columns, [split]))
    configs = []
    for index, (_, splits) in enumerate(groups):
        configs.append(
            {
                "config_name": "default" if index == 0 else "-".join(splits),
                "data_files": [{"split": s, "path": layout.split_files_glob(s)} for s in splits],
            }
        )
    return configs


def front_matter(manifest: Manifest) -> dict[str, Any]:
    """The card's YAML metadata as a dict."""
    meta: dict[str, Any] = {"license": manifest.license.lower()}
    meta["pretty_name"] = manifest.title or manifest.name
    category, task_id = _HF_TASKS.get(manifest.task, (manifest.task, None))
    meta["task_categories"] = [category]
    if task_id:
        meta["task_ids"] = [task_id]
    meta["tags"] = ["heldout", manifest.modality]
    meta["configs"] = card_configs(manifest)
    infos = []
    for config in meta["configs"]:
        first = config["data_files"][0]["split"]
        infos.append(
            {
                "config_name": config["config_name"],
                "features": _features_yaml(manifest, first),
                "splits": [
                    {
                        "name": df["split"],
                        "num_bytes": manifest.splits[df["split"]].num_bytes,
                        "num_examples": manifest.splits[df["split"]].num_rows,
                    }
                    for df in config["data_files"]
                ],
            }
        )
    meta["dataset_info"] = infos
    return meta


def _summary(manifest: Manifest) -> str:
    title = manifest.title or manifest.name
    lines = [f"# {title}", ""]
    if manifest.description:
        lines += [manifest.description.strip(), ""]
    lines += [
        f"- **Name and version:** `{manifest.name}@{manifest.version}`",
        f"- **Task:** {manifest.task} ({manifest.modality})",
        f"- **License:** {manifest.license}",
        f"- **Rows:** {manifest.total_rows}",
        "",
        "| split | rows | shards | held-out columns |",
        "|---|---:|---:|---|",
    ]
    for name, split in manifest.splits.items():
        held = ", ".join(manifest.label_columns(name)) or "—"
        lines.append(f"| {name} | {split.num_rows} | {len(split.shards)} | {held} |")
    labels = manifest.label_names
    if labels:
        lines.append("")
        for column, names in labels.items():
            shown = ", ".join(names[:30]) + (" …" if len(names) > 30 else "")
            lines.append(f"**{column}** ({len(names)} classes): {shown}")
    if manifest.held_out:
        lines += [
            "",
            "Labels of held-out splits are kept on the server and used only for scoring.",
        ]
    if manifest.citation:
        lines += ["", "## Citation", "", "```bibtex", manifest.citation.strip(), "```"]
    return "\n".join(lines) + "\n"


def _strip_front_matter(body: str) -> str:
    """Drop a YAML front matter the publisher's card may already have (ours replaces it)."""
    if body.startswith("---"):
        end = body.find("\n---", 3)
        if end != -1:
            return body[end + 4 :].lstrip("\n")
    return body


def render_card(manifest: Manifest, body_markdown: str | None = None) -> str:
    """The README.md: YAML front matter, then the publisher's card or a generated summary."""
    meta = yaml.safe_dump(front_matter(manifest), sort_keys=False, allow_unicode=True)
    body = _strip_front_matter(body_markdown) if body_markdown else _summary(manifest)
    if manifest.held_out_labels_public and manifest.held_out:
        reason = manifest.held_out_labels_public_reason or "they are public elsewhere"
        body = (f"> **The labels of the held-out splits are public:** {reason}. Scores on "
                f"this version are a demonstration, not a held-out test.\n\n{body}")
    return f"---\n{meta}---\n\n{body.rstrip()}\n"


__all__ = ["card_configs", "front_matter", "render_card"]
