"""Benchmark definitions: precise errors (file, field, what was expected), sync rules."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from heldout.accounts.keys import authenticate
from heldout.benchmarks.registry import BenchmarkVersionConflict
from heldout.benchmarks.spec import TASK_METRICS, SpecError, load_spec, parse_spec, score_hash
from heldout.benchmarks.submissions import create_submission
from heldout.scoring import TASKS
from tests.benchmarks.conftest import BenchApi, csv_predictions, spec, truth_table, write_specs


def test_task_names_mirror_the_scoring_engine() -> None:
    assert set(TASK_METRICS) == set(TASKS)


@pytest.mark.parametrize(("change", "message"), [
    ({"metrics": ["accuracy", "macro_f1"]}, "field 'metrics': 'macro_f1' is not a classification "
     "metric (did you mean 'f1_macro'?)"),
    ({"primary_metric": "wer"}, "field 'primary_metric': 'wer' must be one of the metrics"),
    ({"dataset": "toy"}, "field 'dataset': expected name@version"),
    ({"public_fraction": 0}, "field 'public_fraction'"),
    ({"task": "regression"}, "field 'task'"),
    ({"colour": "red"}, "field 'colour': unknown field"),
    ({"challenge": {"target": 0.9}}, "only competitions"),
    ({"phases": [{"name": "a", "starts": "2030-01-02", "ends": "2030-01-01"}]},
     "ends must be after starts"),
])
def test_invalid_definitions_name_file_and_field(tmp_path: Path, change: dict[str, object],
                                                 message: str) -> None:
    folder = write_specs(tmp_path, spec(**change))
    with pytest.raises(SpecError) as info:
        load_spec(folder / "toy-cls.yaml")
    assert str(folder / "toy-cls.yaml") in info.value.detail
    assert message in info.value.detail


def test_score_hash_ignores_titles_but_not_metrics() -> None:
    base = score_hash(parse_spec(spec()))
    assert score_hash(parse_spec(spec(title="Renamed", description="new words"))) == base
    assert score_hash(parse_spec(spec(metrics=["accuracy"]))) != base


def test_sync_checks_the_dataset(local_bench: BenchApi) -> None:
    with pytest.raises(SpecError, match=r"field 'dataset': .*toy@9\.9\.9 no longer exists"):
        local_bench.sync(spec(dataset="toy@9.9.9"))
    with pytest.raises(SpecError, match="field 'split': 'train' is not a held-out split"):
        local_bench.sync(spec(split="train"))
    with pytest.raises(SpecError, match="field 'truth_column': 'colour'"):
        local_bench.sync(spec(truth_column="colour"))
    with pytest.raises(SpecError, match="field 'filter': column 'lang'"):
        local_bench.sync(spec(filter={"lang": "cmn"}))


def test_a_change_that_alters_scores_needs_a_new_version(local_bench: BenchApi) -> None:
    assert local_bench.sync(spec())[0].action == "created"
    assert local_bench.sync(spec())[0].action == "unchanged"
    assert local_bench.sync(spec(metrics=["accuracy"]))[0].action == "updated"  # no submissions
    truth = truth_table(local_bench.services)
    with local_bench.services.catalog.session() as session:
        alice = authenticate(session, local_bench.api.keys["alice"])
    body = csv_predictions(truth, "prediction",
                           ["ant", "bee", "cow"] * (truth.num_rows // 3))
    create_submission(local_bench.services, benchmark_id="toy-cls", user=alice,
                      file=io.BytesIO(body), filename="p.csv", model_name="m")
    assert local_bench.sync(spec(metrics=["accuracy"], title="New title"))[0].action == "updated"
    with pytest.raises(BenchmarkVersionConflict, match="raise 'version' to 2"):
        local_bench.sync(spec(metrics=["accuracy", "f1_macro"]))
    result = local_bench.sync(spec(metrics=["accuracy", "f1_macro"], version=2))[0]
    assert (result.action, result.version) == ("updated", 2)
    with pytest.raises(BenchmarkVersionConflict, match="lower than the stored version 2"):
        local_bench.sync(spec(version=1))
