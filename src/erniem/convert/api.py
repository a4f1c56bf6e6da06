"""Convert a checkpoint directory into an erniem (transformers-format, safetensors) directory, atomically.

Sources: a PaddleNLP directory (`model_state.pdparams` with config.json or model_config.json, and usually the
tokenizer's sentencepiece.bpe.model and vocab.txt), or a transformers directory whose weights are a pickled
`pytorch_model.bin`. The output is written into a temporary sibling folder and renamed into place at the
end: a failed conversion (or verification) leaves nothing behind, and an existing destination is only
replaced when asked.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file
from tqdm import tqdm

from .. import modeling
from ..configuration import ErnieMConfig
from ..files import staged_directory
from ..tokenization import VOCAB_FILES_NAMES, ErnieMTokenizer
from .paddle import architecture_of, convert_parameters, erniem_config, read_paddle_config
from .pdparams import read_pdparams

PADDLE_WEIGHTS = "model_state.pdparams"
TORCH_PICKLE = "pytorch_model.bin"
REFERENCE_OUTPUTS = "reference_outputs.npz"
VERIFY_TOLERANCE = 1e-5


def convert_checkpoint(
    source: str | Path,
    destination: str | Path,
    overwrite: bool = False,
    verify: bool | str | Path = False,
    vocabulary: str | Path | None = None,
    progress: bool = True,
) -> Path:
    """Convert `source` into `destination` and return it.

    Args:
        source: a PaddleNLP ERNIE-M/UIE-M directory, or a transformers directory with `pytorch_model.bin`.
        destination: the directory to create.
        overwrite: replace an existing `destination` (only once the new one is complete).
        verify: run the converted model on recorded reference inputs and compare its outputs (within 1e-5):
            `True` reads `source/reference_outputs.npz`, a path names another file (see `verify_outputs`).
        vocabulary: folder with sentencepiece.bpe.model and vocab.txt, for PaddleNLP sources without them.
        progress: show a progress bar on a terminal.
    """
    source, destination = Path(source), Path(destination)
    if not source.is_dir():
        raise FileNotFoundError(f"{source} is not a directory")
    with staged_directory(destination, overwrite) as staging:
        if (source / PADDLE_WEIGHTS).is_file():
            _convert_paddle(source, staging, vocabulary, progress)
        elif (source / TORCH_PICKLE).is_file():
            _convert_torch_pickle(source, staging)
        else:
            raise FileNotFoundError(f"{source} holds neither {PADDLE_WEIGHTS} nor {TORCH_PICKLE}")
        if verify:
            verify_outputs(staging, source / REFERENCE_OUTPUTS if verify is True else Path(verify))
    return destination


def _convert_paddle(source: Path, target: Path, vocabulary: str | Path | None, progress: bool) -> None:
    paddle_config = read_paddle_config(source)
    architecture_of(paddle_config)  # refuse another architecture before reading the weights
    tokenizer_files = _tokenizer_files(source, vocabulary)
    parameters = read_pdparams(source / PADDLE_WEIGHTS)
    config = erniem_config(paddle_config, parameters)
    show = progress and sys.stderr.isatty()
    with tqdm(total=len(parameters), desc="converting", unit="tensor", disable=not show) as bar:
        state = convert_parameters(parameters, config, progress=bar)
    config.save_pretrained(target)
    save_file(state, str(target / "model.safetensors"), metadata={"format": "pt"})
    tokenizer_config = source / "tokenizer_config.json"
    settings = json.loads(tokenizer_config.read_text(encoding="utf-8")) if tokenizer_config.is_file() else {}
    lowercase = bool(settings.get("do_lower_case", False))
    ErnieMTokenizer(*tokenizer_files, do_lower_case=lowercase, tokenizer_rule="paddlenlp").save_pretrained(target)


def _tokenizer_files(source: Path, vocabulary: str | Path | None) -> tuple[str, str]:
    """sentencepiece.bpe.model and vocab.txt from the source, else from `vocabulary`."""
    names = (VOCAB_FILES_NAMES["sentencepiece_model_ckpt"], VOCAB_FILES_NAMES["vocab_file"])
    for folder in (source, Path(vocabulary) if vocabulary else None):
        if folder is not None and all((folder / name).is_file() for name in names):
            return tuple(str(folder / name) for name in names)
    raise FileNotFoundError(
        f"{source} lacks {' and '.join(names)}: pass vocabulary=DIR (--vocabulary) with both "
        "(`python -m erniem.vocabulary` builds ERNIE-M's)"
    )


def _convert_torch_pickle(source: Path, target: Path) -> None:
    """Load a pickled state dict with torch's weights-only loader (no code runs) and write safetensors."""
    try:
        state = torch.load(source / TORCH_PICKLE, map_location="cpu", weights_only=True, mmap=True)
    except Exception as error:
        raise ValueError(f"{source / TORCH_PICKLE} cannot be read safely: {error}") from error
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f"{source / TORCH_PICKLE} is not a state dict of tensors")
    for entry in source.iterdir():
        if entry.is_file() and entry.name != TORCH_PICKLE:
            shutil.copy2(entry, target / entry.name)
    # safetensors stores no shared or strided views: one contiguous copy each
    save_file(
        {name: tensor.contiguous().clone() for name, tensor in state.items()},
        str(target / "model.safetensors"),
        metadata={"format": "pt"},
    )


def verify_outputs(directory: str | Path, outputs_file: str | Path) -> dict[str, float]:
    """Run the model in `directory` on recorded inputs and compare with the recorded outputs.

    `outputs_file` is an .npz of `CASE/input/NAME` arrays (model arguments) and `CASE/output/NAME` arrays:
    `last_hidden_state` and `pooler_output` for an encoder, `start_prob` and `end_prob` (PaddleNLP UIEM's
    sigmoid outputs) for an information-extraction model. Returns the largest deviation per output and
    raises `ValueError` if one exceeds 1e-5 or nothing could be compared.
    """
    outputs_file = Path(outputs_file)
    if not outputs_file.is_file():
        raise FileNotFoundError(f"no reference outputs to verify against: {outputs_file}")
    config = ErnieMConfig.from_pretrained(directory)
    model = getattr(modeling, config.architectures[0]).from_pretrained(directory).eval()
    recorded = np.load(outputs_file)
    cases = sorted({key.split("/")[0] for key in recorded.files})
    deviations: dict[str, float] = {}
    for case in cases:
        inputs = {
            key.split("/")[2]: torch.from_numpy(recorded[key])
            for key in recorded.files
            if key.startswith(f"{case}/input/")
        }
        with torch.no_grad():
            output = model(**inputs)
        produced = {
            "last_hidden_state": getattr(output, "last_hidden_state", None),
            "pooler_output": getattr(output, "pooler_output", None),
        }
        if isinstance(output, modeling.InformationExtractionOutput):
            produced = {"start_prob": torch.sigmoid(output.start_logits), "end_prob": torch.sigmoid(output.end_logits)}
        for name, value in produced.items():
            key = f"{case}/output/{name}"
            if value is not None and key in recorded.files:
                deviations[f"{case}/{name}"] = float((value - torch.from_numpy(recorded[key])).abs().max())
    if not deviations:
        raise ValueError(f"{outputs_file} records no output of a {type(model).__name__}")
    worst = max(deviations, key=deviations.get)
    if deviations[worst] > VERIFY_TOLERANCE:
        raise ValueError(f"verification failed: {worst} differs by {deviations[worst]:.2e} (> {VERIFY_TOLERANCE})")
    return deviations
