"""Publish a source: check every file while streaming rows into a draft, commit or abort.

One pass: each example's files are read, hashed and decoded (on worker processes for big
inputs) and its row goes straight to the draft's shard writer, so memory stays bounded. Bad
files are collected rather than raised, so the report names all of them. At the end the run
refuses (and aborts the draft, leaving nothing behind) on invalid files unless
``skip_invalid``, and on cross-split duplicates unless ``allow_leakage``; otherwise it
commits with statistics, skipped files and the leakage counts in the manifest.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from heldout.errors import IngestError, InvalidInput
from heldout.formats.features import ClassLabel
from heldout.formats.manifest import Manifest
from heldout.ingest.checks import NEAR_DUPLICATE_THRESHOLD, DuplicateTracker, comparison_pairs
from heldout.ingest.media import Checked, MediaInfo
from heldout.ingest.parallel import Checker
from heldout.ingest.progress import IngestProgress
from heldout.ingest.scrub import ScrubError, policy_for, scrub
from heldout.ingest.sources.base import Example, MediaRef, Source
from heldout.ingest.stats import StatsCollector
from heldout.repository import DatasetMetadata, DatasetRepository

REPORT_LINES = 50
SUFFIX = {"PNG": ".png", "JPEG": ".jpg", "GIF": ".gif", "BMP": ".bmp", "TIFF": ".tif",
          "WEBP": ".webp", "WAV": ".wav", "FLAC": ".flac", "MP3": ".mp3", "OGG": ".ogg"}


@dataclass
class PublishOptions:
    """How strict a publish is and what it withholds."""

    held_out: list[str] = field(default_factory=list)
    label_columns: list[str] | None = None  # default: every column but id and the media
    skip_invalid: bool = False
    allow_leakage: bool = False
    near_duplicate_threshold: int = NEAR_DUPLICATE_THRESHOLD
    keep_metadata: bool = False  # public splits only: keep EXIF GPS (held-out: never kept)
    workers: int | None = None
    progress: bool = False
    owner_id: int | None = None  # the catalog user who owns a new dataset (None: operators)
    assign_owner: bool = False  # set ``owner_id`` on an existing dataset too


@dataclass
class PublishResult:
    """The committed manifest and what the checks found."""

    manifest: Manifest
    skipped_files: list[dict[str, str]]
    duplicates: dict[str, Any]
    leakage: dict[str, Any]
    near_duplicates: dict[str, Any]


def _report(problems: list[dict[str, str]], headline: str) -> str:
    lines = [f"{p['file']}: {p['reason']}" for p in problems[:REPORT_LINES]]
    more = len(problems) - REPORT_LINES
    if more > 0:
        lines.append(f"... and {more} more")
    return headline + "\n  " + "\n  ".join(lines)


class _Run:
    """The state of one publish while it streams."""

    def __init__(self, source: Source, options: PublishOptions) -> None:
        self.source = source
        self.options = options
        self.features = source.features
        class_column = source.class_column
        self.class_column = class_column
        labels = self.features[class_column] if class_column else None
        self.stats = StatsCollector(list(labels.names) if isinstance(labels, ClassLabel) else None)
        self.tracker = DuplicateTracker(near_threshold=options.near_duplicate_threshold)
        self.invalid: list[dict[str, str]] = list(source.missing())
        self.field_columns = [c for c in self.features if c != "id" and c not in
                              source.media_columns]
        # held-out split → {source id: source name}: names go to the private report only
        self.names: dict[str, dict[str, str]] = {s: {} for s in options.held_out}

    @property
    def refusing(self) -> bool:
        """Once a file is bad and bad files are not skipped, rows stop (checks go on)."""
        return bool(self.invalid) and not self.options.skip_invalid

    def rows(self, split: str, checker: Checker, progress: IngestProgress,
             held_out: bool) -> Iterator[dict[str, Any]]:
        """Check each example of ``split``; yield the rows of the good ones."""
        def refs(example: Example) -> list[tuple[str | None, bytes | None]]:
            return [(ref.path, ref.data) for ref in example.media.values()]

        for example, checks in checker.map(self.source.examples(split), refs):
            progress.advance(len(checks), sum(c.info.size for c in checks if c.info))
            row = self._row(example, checks, held_out)
            if row is not None and not self.refusing:
                yield row

    def _row(self, example: Example, checks: list[Checked],
             held_out: bool) -> dict[str, Any] | None:
        columns = list(example.media)
        bad = [(col, c.reason) for col, c in zip(columns, checks, strict=True) if c.reason]
        if bad:
            for col, reason in bad:
                where = example.name if len(columns) == 1 else f"{example.name} ({col})"
                self.invalid.append({"file": where, "reason": reason or "invalid",
                                     "split": example.split})
            return None
        row: dict[str, Any] = {"id": example.id}
        policy = policy_for(held_out, self.options.keep_metadata)
        for col, check in zip(columns, checks, strict=True):
            assert check.info is not None and check.data is not None
            try:
                data = scrub(check.data, policy).data
            except ScrubError as exc:
                self.invalid.append({"file": example.name, "reason": str(exc),
                                     "split": example.split})
                return None
            row[col] = {"bytes": data,
                        "path": _filename(example, example.media[col], check.info, held_out)}
        try:
            for col in self.field_columns:
                value = example.fields.get(col)
                row[col] = self.features[col].encode(value, f"column {col!r}")
        except InvalidInput as exc:
            self.invalid.append({"file": example.name, "reason": exc.detail,
                                 "split": example.split})
            return None
        primary = checks[0].info
        assert primary is not None
        self.tracker.add(example.split, example.name, primary.sha256, primary.phash)
        if held_out:
            self.names[example.split][str(example.id)] = example.name
        label = row.get(self.class_column) if self.class_column else None
        self.stats.add(example.split, label, primary)
        return row


def _filename(example: Example, ref: MediaRef, info: MediaInfo, held_out: bool) -> str:
    """The ``path`` kept in the row: the original file name, or ``{id}{ext}`` when held out
    (a file name can give the label away, e.g. ``cat_001.jpg``)."""
    name = posixpath.basename(ref.filename) if ref.filename else ""
    suffix = posixpath.splitext(name)[1].lower() or SUFFIX.get(info.format.upper(), "")
    if held_out or not name:
        return f"{example.id}{suffix}"
    return name


def _label_columns(source: Source, options: PublishOptions) -> list[str]:
    if options.label_columns is not None:
        unknown = [c for c in options.label_columns if c not in source.features]
        if unknown:
            raise IngestError(f"label column(s) {unknown} are not columns of the dataset "
                              f"({list(source.features)})")
        return list(options.label_columns)
    return [c for c in source.features if c != "id" and c not in source.media_columns]


def publish_source(
    repository: DatasetRepository,
    source: Source,
    name: str,
    version: str,
    metadata: DatasetMetadata,
    options: PublishOptions | None = None,
) -> PublishResult:
    """Check every file of ``source`` and publish it as ``name@version`` (or refuse)."""
    options = options or PublishOptions()
    unknown = [s for s in options.held_out if s not in source.splits]
    if unknown:
        raise IngestError(f"held-out split(s) {unknown} are not splits of the source "
                          f"({source.splits})")
    label_columns = _label_columns(source, options)
    if not metadata.modality:
        metadata = metadata.model_copy(update={"modality": source.kind})
    if not metadata.source:
        metadata = metadata.model_copy(update={"source": source.describe()})
    run = _Run(source, options)
    total = sum(source.count(s) or 0 for s in source.splits) or None
    draft = repository.create_draft(name, version, features=source.features, metadata=metadata)
    checker = Checker(source.kind, want_phash=source.kind == "image", workers=options.workers,
                      expected_files=total)
    try:
        with IngestProgress(options.progress) as progress:
            for split in source.splits:
                held = split in options.held_out
                progress.start(split, source.count(split))
                draft.write_split(split, run.rows(split, checker, progress, held),
                                  held_out=held, label_columns=label_columns if held else None)
        result = _finish(run, options)
        manifest = draft.commit(statistics=result["statistics"], skipped_files=run.invalid,
                                leakage=result["leakage"], report={"source_names": run.names},
                                owner_id=options.owner_id, assign_owner=options.assign_owner)
    except BaseException:
        draft.abort()
        raise
    finally:
        checker.close()
    return PublishResult(manifest, run.invalid, result["statistics"].get("duplicates", {}),
                         result["leakage"], result["statistics"].get("near_duplicates", {}))


def _finish(run: _Run, options: PublishOptions) -> dict[str, Any]:
    """Refuse on invalid files or leakage; else the statistics and leakage for the manifest."""
    if run.invalid and not options.skip_invalid:
        raise IngestError(
            _report(run.invalid, f"{len(run.invalid)} invalid file(s); nothing was published "
                                 "(use --skip-invalid to publish the rest):"),
            invalid_files=run.invalid,
        )
    splits = run.source.splits
    pairs = run.tracker.leakage_pairs()
    if pairs and not options.allow_leakage:
        problems = [{"file": " = ".join(v for k, v in p.items() if k not in ("sha256", "splits")),
                     "reason": f"identical bytes in splits {p['splits']}"} for p in pairs]
        raise IngestError(
            _report(problems, f"{len(pairs)} file(s) appear in more than one split (leakage); "
                              "nothing was published (use --allow-leakage to publish anyway):"),
            leakage=pairs[:REPORT_LINES],
        )
    statistics = run.stats.result(splits)
    statistics["duplicates"] = run.tracker.duplicates()
    near: dict[str, Any] = {}
    if run.source.kind == "image":
        near = run.tracker.near_duplicates(comparison_pairs(splits, options.held_out))
        statistics["near_duplicates"] = near
    leakage = {
        "exact_duplicates_across_splits": len(pairs),
        "allowed": bool(pairs) and options.allow_leakage,
        "examples": pairs[:20],
        "near_duplicates_across_splits": near.get("pairs", 0),
    }
    return {"statistics": statistics, "leakage": leakage}
