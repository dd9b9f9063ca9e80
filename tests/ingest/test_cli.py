"""``heldout datasets publish`` and ``build`` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from heldout.cli.main import app
from tests.ingest.conftest import image_bytes, write


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HELDOUT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HELDOUT_STORAGE_BACKEND", "local")
    monkeypatch.delenv("HELDOUT_DATABASE_URL", raising=False)
    monkeypatch.delenv("HELDOUT_URL", raising=False)
    assert CliRunner().invoke(app, ["db", "upgrade"]).exit_code == 0  # a publish needs a catalog
    return tmp_path


def test_publish_imagefolder_with_held_out_test(env: Path) -> None:
    root = env / "src"
    for s, split in enumerate(("train", "test")):
        for c, cls in enumerate(("a", "b")):
            for i in range(2):
                write(root / split / cls / f"{i}.png", image_bytes(100 * s + 10 * c + i))
    result = CliRunner().invoke(app, ["datasets", "publish", str(root), "--name", "ab",
                                      "--version", "1.0.0", "--held-out", "test", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["splits"] == {"train": 4, "test": 4} and out["held_out"] == ["test"]
    manifest = json.loads((env / "data").rglob("manifest.json").__next__().read_text())
    assert manifest["held_out"]["test"]["label_columns"] == ["label"]


def test_publish_refuses_bad_files_with_exit_code(env: Path) -> None:
    root = env / "src"
    write(root / "train" / "a" / "ok.png", image_bytes(1))
    write(root / "train" / "a" / "bad.png", b"\x89PNG broken")
    result = CliRunner().invoke(app, ["datasets", "publish", str(root), "--name", "bad",
                                      "--version", "1.0.0", "--format", "imagefolder"])
    assert result.exit_code == 1
    assert "train/a/bad.png" in result.output
    ok = CliRunner().invoke(app, ["datasets", "publish", str(root), "--name", "bad",
                                  "--version", "1.0.0", "--skip-invalid", "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["skipped_files"][0]["file"] == "train/a/bad.png"


def test_build_digits(env: Path) -> None:
    result = CliRunner().invoke(app, ["datasets", "build", "digits", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["splits"]["test"] == 361
    shown = CliRunner().invoke(app, ["datasets", "show", "digits", "--local"],
                               env={"COLUMNS": "80"})
    assert shown.exit_code == 0 and "Class balance" in shown.output
    lines = shown.output.splitlines()
    assert max(len(line) for line in lines) <= 80
    # splits in train/validation/test order, then a total; constant sizes in one line
    order = [next(i for i, line in enumerate(lines) if line.startswith(f"│ {s} "))
             for s in ("train", "validation", "test", "total")]
    assert order == sorted(order)
    assert "constant: image width 8 px (all splits); image height 8 px (all splits)" in \
        " ".join(shown.output.split())
    assert "image width (px) —" not in shown.output
