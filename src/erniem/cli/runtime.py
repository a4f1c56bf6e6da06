"""The options that say where and how a command's model runs: --device, --dtype, --backend, --quantize, --compile."""

from __future__ import annotations

import argparse

from ..backends import BACKENDS

# accepted spelling -> torch dtype name
DTYPES = {"float32": "float32", "fp32": "float32", "bfloat16": "bfloat16", "bf16": "bfloat16", "float16": "float16",
          "fp16": "float16"}  # fmt: skip


def add_runtime_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default=None, help="torch device, e.g. cuda (default: cpu)")
    parser.add_argument("--dtype", choices=list(DTYPES), default=None, help="bf16 is fast on CPUs with AMX")
    parser.add_argument("--backend", choices=BACKENDS, default="torch",
                        help="onnxruntime: run the model.onnx that `erniem export onnx` wrote in --model")  # fmt: skip
    parser.add_argument("--quantize", choices=["int8"], default=None,
                        help="int8 linear layers (torchao; extra int8); fast with --compile")  # fmt: skip
    parser.add_argument("--compile", action="store_true", help="torch.compile the model (once per batch shape)")


def runtime_options(arguments: argparse.Namespace) -> dict:
    """The keyword arguments of `erniem.backends.load_model` (and `UIEPipeline.from_pretrained`) they give."""
    import torch

    return dict(
        device=arguments.device or None,
        dtype=getattr(torch, DTYPES[arguments.dtype]) if arguments.dtype else None,
        backend=arguments.backend,
        quantize=arguments.quantize,
        compile=arguments.compile,
    )
