"""Where a task model loaded from a directory runs: PyTorch, or ONNX Runtime over the directory's `model.onnx`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # torch loads when a model does: the command line reads BACKENDS without it
    import torch

    from .acceleration import Quantization

Backend = Literal["torch", "onnxruntime"]
BACKENDS: tuple[Backend, ...] = ("torch", "onnxruntime")


def load_model(
    head: type,
    directory: str | Path,
    backend: Backend = "torch",
    device: str | torch.device | None = None,
    dtype: torch.dtype | None = None,
    quantize: Quantization | None = None,
    compile: bool = False,
):
    """The `head` model saved in `directory`, to run on `backend`.

    Args:
        head: an `ErnieMFor*` class (or `ErnieMModel`).
        backend: "torch": `head.from_pretrained`, moved to `device`, in `dtype`; "onnxruntime": an
            `erniem.onnx.OnnxRuntimeModel` over the `model.onnx` that `erniem export onnx` wrote for this head
            (CPU and float32 only).
        quantize: for torch, see `erniem.acceleration.optimize`.
        compile: for torch, see `erniem.acceleration.optimize`.

    Raises:
        ValueError: unknown backend; for onnxruntime, a device other than the CPU, a dtype other than float32,
            or a graph exported for another head, or quantize/compile asked of it.
    """
    if backend not in _LOADERS:
        raise ValueError(f"unknown backend {backend!r}; valid backends: {', '.join(BACKENDS)}")
    if backend == "torch":
        from .acceleration import optimize

        return optimize(_torch(head, directory, device, dtype), quantize=quantize, compile=compile)
    if quantize is not None or compile:
        raise ValueError(f"quantize and compile apply to the torch backend, not {backend}")
    return _LOADERS[backend](head, directory, device, dtype)


def _torch(head: type, directory, device, dtype):
    model = head.from_pretrained(directory, dtype=dtype)
    return model.to(device) if device is not None else model


def _onnxruntime(head: type, directory, device, dtype):
    import torch

    from .onnx.runtime import OnnxRuntimeModel
    from .onnx.tasks import task_of_head

    if device is not None and torch.device(device).type != "cpu":
        raise ValueError(f"the onnxruntime backend runs on the CPU, not {device}")
    if dtype not in (None, torch.float32):
        raise ValueError(f"the onnxruntime backend runs the exported float32 graph, not {dtype}")
    model = OnnxRuntimeModel.from_pretrained(directory)
    if model.task != task_of_head(head):
        raise ValueError(f"{directory} holds a {model.task} graph; {head.__name__} needs {task_of_head(head)}")
    return model


_LOADERS = {"torch": _torch, "onnxruntime": _onnxruntime}
