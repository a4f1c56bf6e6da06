"""examples/classify.py under torchrun: two processes (DDP, gloo on CPU), a checkpoint, and a resumed run."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest
import transformers
from packaging.version import Version
from tests.conftest import ROOT

pytest.importorskip("chatterbot_corpus", reason="the example reads the chatterbot corpus (extra `test`)")
pytest.importorskip("accelerate", reason="transformers.Trainer needs accelerate (extra `train`)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def torchrun(*arguments: str) -> str:
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--master_port",
        str(free_port()),
    ]
    command += [str(ROOT / "examples" / "classify.py"), *arguments]
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_two_processes_train_save_and_resume(vocabulary, tmp_path):
    common = ["--output-dir", str(tmp_path), "--save-steps", "4", "--batch-size", "8", "--logging-steps", "2"]
    first = torchrun(*common, "--max-steps", "4")
    assert "processes 2" in first and "global step 4" in first
    assert (tmp_path / "checkpoint-4" / "trainer_state.json").is_file()
    if Version(transformers.__version__) < Version("5.24"):
        pytest.skip(
            "resuming a CPU DDP run is verified on transformers 5.24; 5.0.0 loads the optimizer onto cpu:<rank>"
        )
    second = torchrun(*common, "--max-steps", "8", "--resume")
    assert f"processes 2, resuming from {tmp_path / 'checkpoint-4'}" in second
    assert "global step 8" in second and (tmp_path / "checkpoint-8").is_dir()
