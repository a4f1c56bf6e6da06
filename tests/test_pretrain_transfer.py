"""examples/pretrain_transfer.py end to end, bounded to about a minute: corpora, pretraining under each mix of
objectives, retrieval, English-only UIE fine-tuning and zero-shot extraction, the table. It checks the pipeline,
not the ranking (the full run, its figures and their noise are in docs/pretraining.md)."""

import json
import subprocess
import sys

import pytest
from safetensors.torch import load_file
from tests.conftest import ROOT

pytest.importorskip("polib")
pytest.importorskip("django")

CONFIGURATIONS = ["none", "MMLM", "MMLM+TLM", "MMLM+BTMLM+CAMLM+TLM"]


def test_the_experiment_runs_end_to_end(tmp_path):
    command = [
        sys.executable, str(ROOT / "examples" / "pretrain_transfer.py"), "--workdir", str(tmp_path), "--steps", "6",
        "--seeds", "3", "--records", "40", "--eval-records", "3", "--epochs", "1", "--retrieval-pairs", "20",
        "--hidden-size", "32", "--layers", "1",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((tmp_path / "results.json").read_text())
    assert [run["objectives"] for run in results] == CONFIGURATIONS
    for run in results:
        for kind in ("raw", "centred"):
            assert sorted(run["retrieval"][kind]) == ["ar", "de", "es", "ru", "zh-Hans"]
            assert all(0.0 <= value <= 1.0 for value in run["retrieval"][kind].values())
        assert sorted(run["f1"]) == ["ar", "de", "en", "es", "ru", "zh"]
        assert all(0.0 <= value <= 1.0 for value in run["f1"].values())
    table = (tmp_path / "results.md").read_text().splitlines()
    assert table[0].startswith("| objectives | retrieval | retrieval, centred | UIE F1 en |") and len(table) == 6
    assert done.stdout.count("losses: first") == 3  # one pretraining run per mix of objectives
    # Each mix trained its own encoder from the same initial one.
    initial = load_file(tmp_path / "seed3" / "initial" / "model.safetensors")
    key = "embeddings.layer_norm.weight"
    trained = [load_file(tmp_path / "seed3" / name / "pretrained" / "model.safetensors") for name in
               ("mmlm", "mmlm-tlm", "mmlm-btmlm-camlm-tlm")]  # fmt: skip
    for weights in trained:
        assert not (weights[f"ernie_m.{key}"] == initial[key]).all()

    # --reuse evaluates the models already there again, and gets the same figures.
    again = subprocess.run([*command, "--reuse"], capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    assert again.stdout.count("reusing") == 3 and "losses: first" not in again.stdout
    assert json.loads((tmp_path / "results.json").read_text()) == results
