"""Checking an exported graph: ONNX Runtime against PyTorch on padded inputs unlike the export sample."""

from __future__ import annotations

import torch

from ..configuration import ErnieMConfig
from ..modeling import default_key_mask
from ..uie.encoding import batch_inputs
from .tasks import TaskSpec

TOLERANCE = 1e-4  # the largest absolute difference accepted between ONNX Runtime's and PyTorch's outputs

# Shapes (one size per axis of the task's inputs): the export sample, then the checks, which differ from it
# in every dynamic axis (and include a batch of one).
SAMPLE_SHAPES = {2: (2, 8), 3: (2, 3, 8)}
CHECK_SHAPES = {2: [(3, 13), (1, 6)], 3: [(3, 4, 11), (1, 2, 5)]}


def random_inputs(config: ErnieMConfig, shape: tuple[int, ...], seed: int = 0) -> dict[str, torch.Tensor]:
    """Random `input_ids` of `shape` padded with `[PAD]` under a 0/1 `attention_mask`.

    Along the last axis, with several rows the first is whole and the others shrink to a third of it; a single
    row holds two thirds.
    """
    generator = torch.Generator().manual_seed(seed)
    low = min(3, config.vocab_size - 1)  # past [CLS], [PAD], [SEP] where the vocabulary has them
    input_ids = torch.randint(low, config.vocab_size, shape, generator=generator)
    rows, length = input_ids.numel() // shape[-1], shape[-1]
    if rows == 1:
        lengths = [max(1, 2 * length // 3)]
    else:
        lengths = [length - (row * (length - max(1, length // 3))) // (rows - 1) for row in range(rows)]
    attention_mask = (torch.arange(length)[None, :] < torch.tensor(lengths)[:, None]).long().view(shape)
    input_ids = input_ids.masked_fill(attention_mask == 0, config.pad_token_id)
    return {"input_ids": input_ids, "attention_mask": attention_mask}


def uie_inputs(config: ErnieMConfig, seed: int = 0) -> dict[str, torch.Tensor]:
    """The inputs UIEPipeline gives its model in fast mode: `position_ids` and a compressed additive mask."""
    generator = torch.Generator().manual_seed(seed)
    low = min(3, config.vocab_size - 1)
    rows = [torch.randint(low, config.vocab_size, (length,), generator=generator).tolist() for length in (9, 4, 7)]
    masked_token_id, fill_value = default_key_mask(config, torch.float32)
    return batch_inputs(rows, config.pad_token_id, 16, masked_token_id, fill_value, compress=True)


def check_inputs(config: ErnieMConfig, spec: TaskSpec) -> list[dict[str, torch.Tensor]]:
    """The batches an export is verified on."""
    batches = [random_inputs(config, shape, seed) for seed, shape in enumerate(CHECK_SHAPES[len(spec.axes)])]
    if spec.mask == "additive":
        batches.append(uie_inputs(config))
    return batches


def max_differences(model: torch.nn.Module, runtime, spec: TaskSpec) -> dict[str, float]:
    """For each output, the largest absolute difference between `runtime` and `model` over `check_inputs`.

    Raises:
        ValueError: an output differs by more than `TOLERANCE` (or is NaN where the other is not), named with
            its difference and the inputs' shape.
    """
    differences = dict.fromkeys(spec.outputs, 0.0)
    for inputs in check_inputs(model.config, spec):
        with torch.no_grad():
            expected = model(**inputs)
        actual = runtime(**inputs)
        for name in spec.outputs:
            difference = (actual[name] - expected[name]).abs().max().item()
            if not difference <= TOLERANCE:  # NaN fails too
                raise ValueError(
                    f"ONNX Runtime's {name} differs from PyTorch's by {difference:.3g}, more than {TOLERANCE:g} "
                    f"(input_ids {tuple(inputs['input_ids'].shape)})"
                )
            differences[name] = max(differences[name], difference)
    return differences
