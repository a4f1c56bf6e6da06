"""Faster inference for a loaded model: int8 linear layers (torchao) and `torch.compile`.

bf16 needs nothing from here: `model.to(torch.bfloat16)` (or `from_pretrained(..., dtype=torch.bfloat16)`) runs
the encoder's linear layers through oneDNN with fused bias, GELU and residual additions on CPU (`cpu_fusion`).
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

Quantization = Literal["int8"]


def _int8_config():
    try:
        from torchao.quantization import Int8DynamicActivationInt8WeightConfig
    except ImportError as error:
        raise ImportError("int8 quantization needs torchao: pip install 'erniem[int8]'") from error
    return Int8DynamicActivationInt8WeightConfig()


_QUANTIZATIONS = {"int8": _int8_config}


def optimize(model: nn.Module, quantize: Quantization | None = None, compile: bool = False) -> nn.Module:
    """Return `model`, in eval mode and with its weights frozen (`requires_grad_(False)`, which lets the fused CPU
    path keep them in oneDNN's layout: `cpu_fusion`), prepared for inference (quantization happens in place).

    Args:
        model: an erniem model or head, on the device and in the dtype it will run in.
        quantize: "int8": torchao's dynamic int8 quantization of every `nn.Linear` (int8 weights per output
            channel, activations quantized per token at run time, int32 accumulation). On CPU it is fast only
            compiled, where inductor turns it into oneDNN int8 matmuls (AMX or VNNI); eager it runs but slowly.
        compile: `torch.compile` with freezing (weights folded into the graph as constants), for calls under
            `torch.inference_mode()` or `torch.no_grad()`; each new batch shape compiles once.
    """
    if quantize is not None and quantize not in _QUANTIZATIONS:
        raise ValueError(f"quantize must be one of {sorted(_QUANTIZATIONS)} or None, got {quantize!r}.")
    model = model.eval().requires_grad_(False)
    if quantize is not None:
        from torchao.quantization import quantize_

        quantize_(model, _QUANTIZATIONS[quantize]())
    if compile:
        model = _compile_frozen(model)
    return model


def _compile_frozen(model: nn.Module) -> nn.Module:
    """`torch.compile(model)` with inductor's freezing switched on around every call.

    Compilation happens at the first call with each new shape, hence the patch around calls (a config patch
    undone after the call, nothing global); `torch.compile(..., options={"freezing": True})` does not reach the
    passes that pack int8 weights for oneDNN. The compiled module reads through to the model's attributes
    (config, device, dtype), so pipelines take it in place of the model.
    """
    compiled = torch.compile(model)
    compiled_forward = compiled.forward  # torch.compile's entry into the model

    def forward(*args, **kwargs):
        with torch._inductor.config.patch(freezing=True):
            return compiled_forward(*args, **kwargs)

    compiled.forward = forward
    return compiled
