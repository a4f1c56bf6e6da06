"""ONNX export of ERNIE-M models and heads, and an ONNX Runtime runner usable in place of the PyTorch head.

Needs the onnx extra (`pip install erniem[onnx]`); onnx, onnxscript and onnxruntime are imported only when used,
and torch and transformers only when one of the names below is (`erniem.lazy_exports`).
"""

from typing import TYPE_CHECKING

from ..lazy_exports import attach

__all__ = ["TASKS", "ExportReport", "OnnxRuntimeModel", "Task", "export_and_verify", "export_onnx"]

__getattr__, __dir__ = attach(
    __name__,
    {
        "export": ["ExportReport", "export_and_verify", "export_onnx"],
        "names": ["Task"],
        "runtime": ["OnnxRuntimeModel"],
        "tasks": ["TASKS"],
    },
)

if TYPE_CHECKING:
    from .export import ExportReport, export_and_verify, export_onnx
    from .names import Task
    from .runtime import OnnxRuntimeModel
    from .tasks import TASKS
