"""ONNX export of ERNIE-M models and heads, and an ONNX Runtime runner usable in place of the PyTorch head.

Needs the onnx extra (`pip install erniem[onnx]`); onnx, onnxscript and onnxruntime are imported only when used.
"""

from .export import ExportReport, export_and_verify, export_onnx
from .runtime import OnnxRuntimeModel
from .tasks import TASKS, Task

__all__ = ["TASKS", "ExportReport", "OnnxRuntimeModel", "Task", "export_and_verify", "export_onnx"]
