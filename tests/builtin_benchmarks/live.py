"""A live server over a copy of the built-in datasets with the built-in benchmarks synced."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from heldout.accounts.keys import create_key
from heldout.accounts.users import create_user
from heldout.api.app import create_app
from heldout.benchmarks.builtins import benchmarks_dir
from heldout.benchmarks.registry import sync_benchmarks
from heldout.benchmarks.split import public_mask, split_key
from heldout.config import Settings
from heldout.layout import labels_key, trials_key
from heldout.scoring import ScoreConfig
from heldout.services import Services, build_services
from tests.live import serving

USERS = {"root": "admin", "alice": "participant", "bob": "participant"}
BUILTIN_IDS = ("digits-classification", "spoken-digits-kws", "spoken-digits-asr-en",
               "spoken-digits-asr-zh", "spoken-digits-speaker-verification",
               "spoken-digits-asr-zh-challenge")


@dataclass
class Live:
    """A running API (uvicorn on loopback, scoring thread on) and its services and keys."""

    url: str
    services: Services
    settings: Settings
    keys: dict[str, str]


@contextmanager
def live_server(settings: Settings) -> Iterator[Live]:
    services = build_services(settings)
    try:
        keys = {}
        with services.catalog.session() as session:
            for name, role in USERS.items():
                keys[name] = create_key(session, create_user(session, name, role)).key
        sync_benchmarks(services, benchmarks_dir())
        app = create_app(settings, services, scoring_worker=True)
        with serving(app) as url:
            yield Live(url, services, settings, keys)
    finally:
        services.close()


def _private(services: Services, key: str) -> pa.Table:
    return pq.read_table(pa.BufferReader(services.stores.private.get_bytes(key)))


@dataclass(frozen=True)
class Expected:
    """A benchmark's truth rebuilt by the test from the private labels (as the scorer reads
    them) and everything needed to call ``heldout.scoring.score`` on a file."""

    task: str
    truth: dict[str, list[Any]]
    config: ScoreConfig
    label_names: tuple[str, ...] | None
    all_ids: list[str]  # every id of the held-out split


def expected(services: Services, doc: dict[str, Any]) -> Expected:
    """Truth of a benchmark document, built independently of the benchmark service."""
    name, version = doc["dataset"].split("@")
    manifest = services.repository.manifest(name, version)
    labels = _private(services, labels_key(name, version, doc["split"]))
    all_ids = [str(i) for i in labels["id"].to_pylist()]
    config = ScoreConfig(normalizer=doc["normalizer"], missing=doc["missing"],
                         top_k=tuple(doc["top_k"]) if doc.get("top_k") else None)
    if doc["task"] == "verification":
        trials = _private(services, trials_key(doc["id"]))
        return Expected("verification", {"id": trials["id"].to_pylist(),
                                         "label": trials["label"].to_pylist()},
                        config, None, all_ids)
    for column, value in (doc.get("filter") or {}).items():
        labels = labels.filter(pc.equal(labels[column], value))
    labels = labels.filter(pc.is_valid(labels[doc["truth_column"]]))
    key = "text" if doc["task"] == "speech-recognition" else "label"
    names = manifest.label_names.get(doc["truth_column"])
    return Expected(doc["task"], {"id": [str(i) for i in labels["id"].to_pylist()],
                                  key: labels[doc["truth_column"]].to_pylist()},
                    config, tuple(names) if names else None, all_ids)


def public_part(live: Live, benchmark: str, truth: dict[str, list[Any]],
                fraction: float) -> dict[str, list[Any]]:
    """The public part of a competition's truth (keyed hash, as the service splits)."""
    key = split_key(live.settings.secret_key.get_secret_value(), benchmark)
    mask = public_mask(truth["id"], key, fraction)
    return {k: [v for v, m in zip(values, mask, strict=True) if m] for k, values in truth.items()}


def noisy_predictions(exp: Expected, rng: np.random.Generator) -> dict[str, list[Any]]:
    """Predictions for every scored example: the truth with about a third of it spoiled."""
    ids = exp.truth["id"]
    spoil = rng.random(len(ids)) < 0.35
    if exp.task == "verification":
        labels = np.asarray(exp.truth["label"], dtype=float)
        return {"id": ids, "score": (labels + rng.normal(0, 0.6, len(ids))).tolist()}
    if exp.task == "speech-recognition":
        return {"id": ids, "text": [("nine " + t) if s else t
                                    for t, s in zip(exp.truth["text"], spoil, strict=True)]}
    assert exp.label_names is not None
    c = len(exp.label_names)
    labels = [(int(v) + 1) % c if s else int(v)
              for v, s in zip(exp.truth["label"], spoil, strict=True)]
    probabilities = np.full((len(labels), c), 0.4 / c)
    probabilities[np.arange(len(labels)), labels] += 0.6
    return {"id": ids, "prediction": [exp.label_names[v] for v in labels],
            "scores": [[round(float(p), 6) for p in row] for row in probabilities]}


def with_other_ids(exp: Expected, columns: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """``columns`` plus a row for every id of the split the benchmark does not score (its
    filter leaves it out, or it has no truth value): the service must ignore those rows."""
    if exp.task == "verification":
        return columns
    scored = set(exp.truth["id"])
    extra = [i for i in exp.all_ids if i not in scored]
    out = {"id": columns["id"] + extra}
    for name, values in columns.items():
        if name != "id":
            out[name] = values + [values[0]] * len(extra)
    return out


def write_csv(path: Path, columns: dict[str, list[Any]]) -> Path:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(list(columns))
    writer.writerows(zip(*columns.values(), strict=True))
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def write_jsonl(path: Path, columns: dict[str, list[Any]]) -> Path:
    rows = [dict(zip(columns, values, strict=True)) for values in zip(*columns.values(),
                                                                       strict=True)]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                    encoding="utf-8")
    return path
