"""How ``heldout datasets show`` prints a manifest: readable at 80 columns.

Splits in train/validation/test order with a total row; one number format; histograms only
where values vary (a constant is one line); leakage as a sentence.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from heldout.cli.output import console, human_bytes, print_table

if TYPE_CHECKING:
    from heldout.formats.manifest import Manifest

SPLIT_ORDER = ("train", "validation", "valid", "dev", "test")
HISTOGRAMS = {"image_width": ("image width", "px"), "image_height": ("image height", "px"),
              "audio_duration_seconds": ("audio duration", "s")}


def split_order(names: list[str]) -> list[str]:
    """train, validation, test first (in that order), then the rest alphabetically."""
    return sorted(names, key=lambda s: (SPLIT_ORDER.index(s) if s in SPLIT_ORDER
                                        else len(SPLIT_ORDER), s))


def number(value: Any) -> str:
    """One format for every number: thousands separators, at most 3 significant decimals."""
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()
                                  and abs(value) >= 1):
        return f"{int(value):,}"
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def duration(seconds: float) -> str:
    """3725.0 → '1 h 2 min 5 s'; 12.34 → '12.3 s'."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return (f"{hours} h " if hours else "") + f"{minutes} min {secs} s"


def audio_seconds(statistics: dict[str, Any], split: str) -> float | None:
    """Total audio duration of a split (mean × files), if the manifest has durations."""
    hist = (statistics.get("audio_duration_seconds") or {}).get(split)
    if not isinstance(hist, dict) or hist.get("mean") is None:
        return None
    return float(hist["mean"]) * sum(hist.get("counts") or [])


def print_splits(manifest: Manifest) -> None:
    """One row per split and a total: rows, size, shards, held-out labels, audio."""
    order = split_order(list(manifest.splits))
    audio = {s: audio_seconds(manifest.statistics, s) for s in order}
    has_audio = any(v is not None for v in audio.values())
    columns = ["split", "rows", "size", "shards", "held out"] + (["audio"] if has_audio else [])
    rows = []
    for name in order:
        info = manifest.splits[name]
        held = manifest.held_out.get(name)
        row = [name, number(info.num_rows), human_bytes(info.num_bytes), len(info.shards),
               "labels: " + ", ".join(held.label_columns) if held else ""]
        rows.append(row + ([duration(audio[name] or 0)] if has_audio else []))
    total = ["total", number(manifest.total_rows), human_bytes(manifest.total_bytes),
             sum(len(i.shards) for i in manifest.splits.values()), ""]
    rows.append(total + ([duration(sum(v or 0 for v in audio.values()))] if has_audio else []))
    print_table("Splits", columns, rows)


def print_class_balance(balance: dict[str, dict[str, int]]) -> None:
    """One table per split: count and share of each label."""
    for split in split_order(list(balance)):
        counts = balance[split]
        total = sum(counts.values()) or 1
        print_table(f"Class balance — {split}", ["label", "count", "share"], [
            [label, number(count), f"{100 * count / total:4.1f}% " + bar(count / total)]
            for label, count in counts.items()])


def print_statistics(manifest: Manifest) -> None:
    """Class balance per split, then histograms of what varies, one line for constants."""
    statistics = manifest.statistics
    print_class_balance(statistics.get("class_balance") or {})
    constants: dict[str, list[str]] = {}
    for key, (title, unit) in HISTOGRAMS.items():
        per_split = statistics.get(key) or {}
        for split in split_order(list(per_split)):
            hist = per_split[split]
            if not isinstance(hist, dict) or hist.get("min") is None:
                continue
            if hist["min"] == hist["max"]:
                constants.setdefault(f"{title} {number(hist['min'])} {unit}", []).append(split)
            else:
                print_histogram(f"{title} ({unit}) — {split}", hist)
    if constants:
        every = split_order(list(manifest.splits))
        console.print("constant: " + "; ".join(
            f"{what} ({'all splits' if splits == every else ', '.join(splits)})"
            for what, splits in constants.items()), highlight=False, soft_wrap=False)


def bar(fraction: float, width: int = 20) -> str:
    """A bar of block characters, ``fraction`` of ``width`` long."""
    return "█" * round(width * fraction)


def print_histogram(title: str, hist: dict[str, Any]) -> None:
    edges, counts = hist["bin_edges"], hist["counts"]
    peak = max(counts) or 1
    print_table(
        f"{title}: min {number(hist['min'])}, mean {number(hist['mean'])}, "
        f"max {number(hist['max'])}",
        ["range", "count", ""],
        [[f"{number(edges[i])}–{number(edges[i + 1])}", number(count),
          bar(count / peak)] for i, count in enumerate(counts)],
    )


def leakage_sentence(leakage: dict[str, Any]) -> str | None:
    """The manifest's leakage record as one sentence (None when there is nothing to say)."""
    exact = int(leakage.get("exact_duplicates_across_splits") or 0)
    near = int(leakage.get("near_duplicates_across_splits") or 0)
    if not exact and not near:
        return None
    parts = []
    if exact:
        allowed = " (published anyway with --allow-leakage)" if leakage.get("allowed") else ""
        parts.append(f"{exact} file(s) appear in more than one split{allowed}")
    if near:
        parts.append(f"{near} near-duplicate image pair(s) across splits")
    return "Leakage: " + "; ".join(parts) + "."
