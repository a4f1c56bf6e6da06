"""ONNX Runtime in place of a PyTorch ERNIE-M head: the same call, the same output class, torch tensors.

`OnnxRuntimeModel` has what the inference code (`erniem.tasks`, `erniem.uie`) reads on a model: `config`,
`device`, `dtype`, `eval()`, `parameters()` and a call returning the head's `ModelOutput`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from transformers.utils import ModelOutput

from ..configuration import ErnieMConfig
from ..modeling import POSITION_OFFSET, additive_mask, check_length, check_positions, default_key_mask
from ..tasks.batching import length_groups
from .tasks import TASKS, TaskSpec

ONNX_FILE = "model.onnx"
TASK_METADATA_KEY = "erniem.task"  # the graph's metadata entry naming the task it was exported for
INSTALL_HINT = "pip install erniem[onnx]"
# What one more call of a graph costs, in positions computed, when pooled tasks run rows of similar length
# together (from 8×128 and 32×128 batches at base size, fp32 on 2 cores: 0, 32 and 128 timed alike).
LENGTH_GROUP_COST = 64


def import_onnxruntime():
    """The `onnxruntime` module, or an ImportError naming the extra that installs it."""
    try:
        import onnxruntime
    except ImportError as error:
        raise ImportError(f"ONNX Runtime is not installed; the onnx extra installs it: {INSTALL_HINT}") from error
    return onnxruntime


class OnnxRuntimeModel:
    """An exported ERNIE-M model run by ONNX Runtime, called like the PyTorch head it was exported from.

    Takes CPU (or any device's) torch tensors and returns the head's `ModelOutput` of float32 CPU tensors.
    Inference only: no loss, `head_mask`, `inputs_embeds`, prefix keys/values, hidden states or attentions.

    Args:
        session: an `onnxruntime.InferenceSession` over a graph `erniem.onnx.export_onnx` wrote.
        config: the model's configuration (label maps, mask convention, positions).
        task: the task the graph was exported for, a key of `erniem.onnx.tasks.TASKS`.
    """

    device = torch.device("cpu")
    dtype = torch.float32
    training = False

    def __init__(self, session, config: ErnieMConfig, task: str):
        spec = TASKS[task]
        names = {graph_input.name for graph_input in session.get_inputs()}
        if names != set(spec.inputs):
            found = ", ".join(sorted(names))
            raise ValueError(f"a {task} graph takes {', '.join(spec.inputs)}; this one takes {found}")
        self.session = session
        self.config = config
        self.task = task
        self.spec: TaskSpec = spec
        self._max_length = config.max_position_embeddings - POSITION_OFFSET  # tokens the position table holds
        self._placeholder = torch.empty(0, dtype=self.dtype)

    @classmethod
    def from_pretrained(
        cls, directory: str | Path, provider: str | None = None, threads: int | None = None
    ) -> OnnxRuntimeModel:
        """Load `directory/model.onnx` and the configuration beside it.

        Args:
            provider: an ONNX Runtime execution provider (default "CPUExecutionProvider"); inputs and outputs
                stay on the CPU whichever runs the graph.
            threads: threads for one operator (ONNX Runtime's `intra_op_num_threads`; default: its choice).
        """
        onnxruntime = import_onnxruntime()
        path = Path(directory) / ONNX_FILE
        if not path.is_file():
            raise FileNotFoundError(f"{directory} holds no {ONNX_FILE}; `erniem export onnx` writes one")
        provider = provider or "CPUExecutionProvider"
        available = onnxruntime.get_available_providers()
        if provider not in available:
            raise ValueError(f"ONNX Runtime provider {provider!r} is not available; available: {', '.join(available)}")
        options = onnxruntime.SessionOptions()
        if threads is not None:
            if threads < 1:
                raise ValueError(f"threads must be at least 1, got {threads}")
            options.intra_op_num_threads = threads
        session = onnxruntime.InferenceSession(str(path), options, providers=[provider])
        task = session.get_modelmeta().custom_metadata_map.get(TASK_METADATA_KEY)
        if task not in TASKS:
            raise ValueError(f"{path} names no erniem task in its metadata ({TASK_METADATA_KEY}={task!r}); "
                             "export it with `erniem export onnx`")  # fmt: skip
        return cls(session, ErnieMConfig.from_pretrained(directory), task)

    def eval(self) -> OnnxRuntimeModel:
        """Itself: the graph has no training mode."""
        return self

    def parameters(self) -> Iterator[torch.Tensor]:
        """One empty float32 CPU tensor, for code that reads a model's device and dtype off its parameters."""
        yield self._placeholder

    def __call__(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        return_dict: bool | None = True,
        **unsupported,
    ) -> ModelOutput | tuple:
        """Run the graph; arguments as the PyTorch head's forward.

        Args:
            input_ids: (batch, seq), or (batch, num_choices, seq) for multiple choice.
            attention_mask: 0/1 shaped like `input_ids`; for information extraction also a 4-D additive float
                (or boolean keep) mask (batch or 1, 1, 1, seq). Without it `config.mask_convention` decides.
            position_ids: (batch or 1, seq), information extraction only; default `arange(seq)`.
        """
        given = sorted(name for name, value in unsupported.items() if value is not None and value is not False)
        if given:
            raise TypeError(f"the ONNX Runtime backend runs inference only; it takes no {', '.join(given)}")
        feeds = {
            name: np.ascontiguousarray(value)
            for name, value in self._feeds(input_ids, attention_mask, position_ids).items()
        }
        values = self._run(feeds)
        output = self.spec.output(
            **{name: torch.from_numpy(value) for name, value in zip(self.spec.outputs, values, strict=True)}
        )
        return output.to_tuple() if return_dict is False else output

    forward = __call__

    def _run(self, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        """The graph's outputs; a pooled task's rows run in groups of similar length (`length_groups`), each
        group without the positions after its sequences' last attended one, as they change nothing returned."""
        names = list(self.spec.outputs)
        if not self.spec.pooled or feeds["attention_mask"].size == 0:
            return self.session.run(names, feeds)
        keep = feeds["attention_mask"] != 0  # (batch, sequence) or (batch, num_choices, sequence)
        seq_length = keep.shape[-1]
        sequences = keep.reshape(-1, seq_length)
        # A sequence attending to nothing spreads its attention over every position: it needs them all.
        needed = np.where(sequences.any(axis=1), seq_length - np.argmax(sequences[:, ::-1], axis=1), seq_length)
        needed = needed.reshape(keep.shape[0], -1).max(axis=1)  # a row's choices run together
        choices = sequences.shape[0] // keep.shape[0]
        groups = length_groups((needed * choices).tolist(), LENGTH_GROUP_COST)  # in positions computed
        if len(groups) == 1 and needed.max() == seq_length:
            return self.session.run(names, feeds)
        outputs = None
        for rows in groups:
            length = int(needed[rows].max())
            part = {name: np.ascontiguousarray(value[rows][..., :length]) for name, value in feeds.items()}
            values = self.session.run(names, part)
            if outputs is None:
                outputs = [np.empty((keep.shape[0], *value.shape[1:]), value.dtype) for value in values]
            for output, value in zip(outputs, values, strict=True):
                output[rows] = value
        return outputs

    def _feeds(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None, position_ids: torch.Tensor | None
    ) -> dict[str, np.ndarray]:
        """The graph's inputs as numpy arrays, after the checks the PyTorch model makes."""
        input_ids = input_ids.detach().cpu().long()
        if input_ids.dim() != len(self.spec.axes):
            raise ValueError(f"input_ids must be ({', '.join(self.spec.axes)}), got {tuple(input_ids.shape)}")
        check_length(input_ids.shape[-1], self._max_length)
        masked_token_id, fill_value = default_key_mask(self.config, self.dtype)
        if attention_mask is not None:
            attention_mask = attention_mask.detach().cpu()
        if attention_mask is not None and attention_mask.dim() == 4 and self.spec.mask == "additive":
            mask = self._four_d(attention_mask, tuple(input_ids.shape), fill_value)
            return self._additive_feeds(input_ids, mask, position_ids)
        if attention_mask is None:
            keep = input_ids != masked_token_id if masked_token_id is not None else torch.ones_like(input_ids).bool()
        elif attention_mask.shape == input_ids.shape:
            keep = attention_mask != 0
        else:
            raise ValueError(f"attention_mask must be shaped like input_ids {tuple(input_ids.shape)}, "
                             f"got {tuple(attention_mask.shape)}")  # fmt: skip
        if self.spec.mask == "additive":
            mask = additive_mask(keep[:, None, None, :], fill_value, torch.float32)  # (batch, 1, 1, keys)
            return self._additive_feeds(input_ids, mask, position_ids)
        if position_ids is not None:
            raise TypeError(f"the {self.task} graph numbers positions itself; it takes no position_ids")
        return {"input_ids": input_ids.numpy(), "attention_mask": keep.long().numpy()}

    def _additive_feeds(
        self, input_ids: torch.Tensor, mask: torch.Tensor, position_ids: torch.Tensor | None
    ) -> dict[str, np.ndarray]:
        batch_size, seq_length = input_ids.shape
        if position_ids is None:
            position_ids = torch.arange(seq_length)
        position_ids = position_ids.detach().cpu().long().expand(batch_size, seq_length)
        check_positions(position_ids, self._max_length)
        return {
            "input_ids": input_ids.numpy(),
            "attention_mask": mask.to(torch.float32).numpy(),
            "position_ids": position_ids.numpy(),
        }

    @staticmethod
    def _four_d(mask: torch.Tensor, shape: tuple[int, int], fill_value: float) -> torch.Tensor:
        """A 4-D mask as the graph's (batch, 1, 1, seq) additive float32 one."""
        if mask.shape[1:3] != (1, 1) or mask.shape[0] not in (1, shape[0]) or mask.shape[3] != shape[1]:
            raise ValueError(f"a 4-D attention_mask must be ({shape[0]} or 1, 1, 1, {shape[1]}) for this graph, "
                             f"got {tuple(mask.shape)}")  # fmt: skip
        if mask.dtype == torch.bool:  # a keep mask, as the model reads it
            mask = additive_mask(mask, fill_value, torch.float32)
        return mask.to(torch.float32).expand(shape[0], 1, 1, shape[1])
