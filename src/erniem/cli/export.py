"""`erniem export onnx`: a model directory to ONNX, checked against PyTorch, written atomically."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..onnx.names import TASK_NAMES
from .models import add_model_options, model_location


def add_parser(commands) -> None:
    export = commands.add_parser("export", help="export a model for another runtime")
    formats = export.add_subparsers(dest="format", required=True)
    onnx = formats.add_parser(
        "onnx",
        help="export to ONNX (model.onnx) for ONNX Runtime",
        description="Write OUT/model.onnx with the configuration and tokenizer files of DIR, once ONNX Runtime has "
        "matched PyTorch within 1e-4 on padded inputs of other batch and sequence sizes than the export's. "
        "Needs the onnx extra: pip install erniem[onnx].",
    )
    add_model_options(onnx, help="model directory (erniem/transformers), or a published name")
    onnx.add_argument(
        "--task", choices=TASK_NAMES, required=True, metavar="TASK", help=f"the head to export: {', '.join(TASK_NAMES)}"
    )
    onnx.add_argument("--output", type=Path, required=True, metavar="OUT", help="directory to write")
    onnx.add_argument("--opset", type=int, default=None, help="ONNX opset (default: the exporter's)")
    onnx.add_argument("--overwrite", action="store_true", help="replace OUT if it is not empty")
    onnx.set_defaults(run=_onnx)


def _onnx(arguments: argparse.Namespace) -> int:
    from ..onnx import export_and_verify

    model = model_location(arguments)
    report = export_and_verify(
        model, arguments.output, arguments.task, opset=arguments.opset, overwrite=arguments.overwrite
    )
    print(f"exported {report.path} (max difference from PyTorch: {report.max_difference:.3g})")
    return 0
