"""Export an ERNIE-M model or head to ONNX, checked against PyTorch, into a directory written whole or not at all.

The exporter is torch.export-based (`torch.onnx.export(..., dynamo=True)`, which needs onnxscript): it traces
shapes symbolically, so each dynamic axis is checked rather than assumed. The TorchScript exporter
(`dynamo=False`) also gave graphs matching PyTorch on other shapes under torch 2.13, but it freezes every
Python branch on a shape or value at the sample's sizes (a TracerWarning at each of the model's length and
mask checks), and it has been deprecated since PyTorch 2.9. The model runs its eager attention (its own
matmul and softmax), so the graph does not depend on how transformers dispatches SDPA.
"""

from __future__ import annotations

import logging
import shutil
import warnings
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

import torch

from ..files import staged_directory
from ..modeling import additive_mask, default_key_mask
from .names import Task
from .runtime import INSTALL_HINT, ONNX_FILE, TASK_METADATA_KEY, OnnxRuntimeModel, import_onnxruntime
from .tasks import TaskSpec, task_spec
from .verify import SAMPLE_SHAPES, max_differences, random_inputs

logger = logging.getLogger(__name__)

# Files of a model directory left behind: weights (the graph holds them) and training state.
WEIGHT_FILES = ("*.safetensors", "*.safetensors.index.json", "*.bin", "*.bin.index.json", "*.pt", "*.pth",
                "*.ckpt", "*.h5", "*.msgpack", "*.pdparams", "*.onnx", "*.onnx.data")  # fmt: skip


@dataclass(frozen=True)
class ExportReport:
    """Where an export went, and how closely ONNX Runtime matched PyTorch.

    Args:
        path: the output directory.
        differences: for each graph output, the largest absolute difference from PyTorch on the check inputs.
    """

    path: Path
    differences: dict[str, float]

    @property
    def max_difference(self) -> float:
        return max(self.differences.values())


def export_onnx(
    model_dir: str | Path,
    output_dir: str | Path,
    task: Task = "base",
    opset: int | None = None,
    overwrite: bool = False,
) -> Path:
    """Export the model in `model_dir` for `task` to `output_dir/model.onnx`, check it, and return `output_dir`.

    See `export_and_verify`, which also returns the differences measured.
    """
    return export_and_verify(model_dir, output_dir, task, opset, overwrite).path


def export_and_verify(
    model_dir: str | Path,
    output_dir: str | Path,
    task: Task = "base",
    opset: int | None = None,
    overwrite: bool = False,
) -> ExportReport:
    """Export the model in `model_dir` for `task`, check ONNX Runtime against PyTorch, and write the directory.

    `output_dir` gets `model.onnx` (and `model.onnx.data` for graphs over 2 GB) beside the other files of
    `model_dir` (configuration, tokenizer), all at once: nothing is left there if any step fails.

    Args:
        model_dir: a directory `from_pretrained` loads (saved by erniem or transformers).
        task: one of `erniem.onnx.tasks.TASKS`; its head is loaded from `model_dir` in float32.
        opset: the ONNX opset (default: the exporter's).
        overwrite: replace a non-empty `output_dir` (an empty one is always used).

    Raises:
        ValueError: unknown task; or an output differs from PyTorch by more than 1e-4 on the check inputs.
        FileExistsError: `output_dir` is not empty and `overwrite` is false.
        ImportError: onnx, onnxscript or onnxruntime is missing (`pip install erniem[onnx]`).
    """
    spec = task_spec(task)
    model_dir, output_dir = Path(model_dir), Path(output_dir)
    if output_dir.resolve() in (model_dir.resolve(), *model_dir.resolve().parents):
        raise ValueError(f"the output directory {output_dir} must not be (or hold) the model directory {model_dir}")
    _require_exporter()
    empty = output_dir.is_dir() and not any(output_dir.iterdir())
    with staged_directory(output_dir, overwrite=overwrite or empty) as staging:
        model = spec.head.from_pretrained(  # the graph computes every position, whatever the config says
            model_dir, dtype=torch.float32, attn_implementation="eager", unpad_inputs=False
        ).eval()
        _copy_companions(model_dir, staging)
        write_graph(model, spec, task, staging / ONNX_FILE, opset)
        differences = max_differences(model, OnnxRuntimeModel.from_pretrained(staging), spec)
    logger.info("exported %s to %s; largest differences from PyTorch: %s", task, output_dir, differences)
    return ExportReport(output_dir, differences)


def write_graph(model: torch.nn.Module, spec: TaskSpec, task: str, path: Path, opset: int | None = None) -> None:
    """Export `model` to `path` with dynamic axes, output names from `spec`, and `task` in the metadata."""
    from torch.export import Dim

    inputs = random_inputs(model.config, SAMPLE_SHAPES[len(spec.axes)])
    dims = {axis: Dim(axis) for axis in spec.axes}
    axes = {index: dims[axis] for index, axis in enumerate(spec.axes)}
    dynamic_shapes = {"input_ids": axes, "attention_mask": axes}
    if spec.mask == "additive":  # (batch, 1, 1, sequence) float mask and (batch, sequence) positions
        _, fill_value = default_key_mask(model.config, torch.float32)
        keep = inputs["attention_mask"][:, None, None, :] != 0
        inputs["attention_mask"] = additive_mask(keep, fill_value, torch.float32)
        inputs["position_ids"] = torch.arange(inputs["input_ids"].shape[1]).expand_as(inputs["input_ids"]).clone()
        dynamic_shapes.update(attention_mask={0: dims["batch"], 3: dims["sequence"]}, position_ids=axes)
    with warnings.catch_warnings():
        # Inputs sharing a Dim make the exporter warn that it names the axis once: the intent.
        warnings.filterwarnings("ignore", message=".*axis name", category=UserWarning)
        warnings.filterwarnings("ignore", message=".*LeafSpec", category=FutureWarning)  # torch's own pytree use
        program = torch.onnx.export(
            model,
            (),
            kwargs=inputs,
            dynamic_shapes=dynamic_shapes,
            output_names=list(spec.outputs),
            opset_version=opset,
            dynamo=True,
            verbose=False,
        )
    graph_inputs = [value.name for value in program.model.graph.inputs]
    graph_outputs = [value.name for value in program.model.graph.outputs]
    if sorted(graph_inputs) != sorted(spec.inputs) or graph_outputs != list(spec.outputs):
        raise ValueError(f"the exported {task} graph maps ({', '.join(graph_inputs)}) to ({', '.join(graph_outputs)}); "
                         f"expected ({', '.join(spec.inputs)}) to ({', '.join(spec.outputs)})")  # fmt: skip
    program.model.metadata_props[TASK_METADATA_KEY] = task
    program.save(path)  # the weights go to a `.data` file beside it when the graph would pass 2 GB


def _copy_companions(source: Path, target: Path) -> None:
    """Copy the top-level files of `source` other than weights (configuration, tokenizer) into `target`."""
    for path in sorted(source.iterdir()):
        if path.is_file() and not any(fnmatch(path.name, pattern) for pattern in WEIGHT_FILES):
            shutil.copy2(path, target / path.name)


def _require_exporter() -> None:
    """Fail early, naming the extra, when a package the export needs is missing."""
    try:
        import onnx  # noqa: F401
        import onnxscript  # noqa: F401
    except ImportError as error:
        raise ImportError(f"exporting to ONNX needs onnx and onnxscript: {INSTALL_HINT}") from error
    import_onnxruntime()
