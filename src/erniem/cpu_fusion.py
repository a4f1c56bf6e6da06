"""Fused linear layers for inference on CPU (fp32, bf16): bias, activation and residual addition as oneDNN
post-ops.

In bf16 on a CPU with AMX the matmuls run several times faster than in fp32, which leaves the element-wise
work around them (copying the bias into the output, GELU, the residual addition) a large share of a layer's
time. oneDNN applies that work to the matmul's fp32 accumulator before it writes the output, in one pass, so
the fused layer is also closer to fp32 than the unfused one, which rounds to bf16 after every step. In fp32 the
saving is smaller (a few percent) and the results differ from the unfused layer's by float rounding only
(about 1e-6 relative, as sdpa differs from eager attention).

Weights that do not require grad (`model.requires_grad_(False)`, which `erniem.acceleration.optimize` does for
`UIEPipeline.from_pretrained` and the CLI) are laid out once in oneDNN's blocked format and kept (`packed_weight`),
for products of at most 2,048 rows, instead of being reordered by every call: on the encoder of base size
(`benchmarks/packing.py`), 1.23x (bf16) and 1.13x (fp32) faster at 1x16, 1.08x and 1.03x at 8x128; above 2,048 rows
packing measured no faster. The copies cost the size of the linear weights again (base: 162 MiB in bf16, 324 MiB in
fp32); they are made on the first fused forward, made anew when a weight is replaced or changed in place (its
version counter), dropped when the encoder layer is moved or converted (`.to()`), and freed with the model.
Trainable weights are never kept packed: an optimizer may update them without a trace in the version counter
(torch's fused AdamW does), and so may writes through `.data`.

Two more measured choices suit the kernels oneDNN (torch 2.13) runs on AMX: the query, key and value
projections run as one product over their concatenated weights where those are kept packed, or in bf16 from 512
rows on (`grouped_linear`: at 1,024 rows in bf16 one 2,304-wide product takes about half the time of three
768-wide ones), and bf16 products at most 1,024 wide over 513 to 1,024 rows run in 256-row pieces, about 1.5x
faster than in one call.

The encoder layer asks `applies` before each forward: autograd, training, `torch.compile` (which fuses on its
own), other devices and dtypes, adapters (LoRA), quantized or hooked linear layers all keep the plain path,
as does any code run under `plain_kernels()`.
"""

from __future__ import annotations

import contextlib
import functools
import weakref
from collections.abc import Iterable, Iterator, Sequence
from contextvars import ContextVar
from typing import NamedTuple

import torch
from torch import nn

# hidden_act -> (oneDNN post-op, its algorithm argument); GELU "none" is the exact (erf) GELU of ACT2FN["gelu"].
POST_OPS = {"gelu": ("gelu", "none"), "relu": ("relu", "")}

# bf16 products at most _NARROW wide over _SLOW_ROWS rows run about 1.5x faster as _PIECE_ROWS-row products
_NARROW, _SLOW_ROWS, _PIECE_ROWS = 1024, (512, 1024), 256
_STACK_ROWS = 512
_ENABLED: ContextVar[bool] = ContextVar("erniem_cpu_fusion", default=True)
# the row count oneDNN lays the weights out for, and the most rows for which the packed layout is used
_PACK_ROWS, _PACK_MAX_ROWS = 1024, 2048


class _Packed(NamedTuple):
    state: list  # what the weights were when packed: storage, offset, version; dtype, shape
    weights: list[torch.Tensor]  # held so that no other tensor can take their memory (and data_ptr) meanwhile
    weight: torch.Tensor  # the packed weight


_PACKED: weakref.WeakKeyDictionary[nn.Module, _Packed] = weakref.WeakKeyDictionary()  # goes with its module


@contextlib.contextmanager
def plain_kernels() -> Iterator[None]:
    """Run the code inside with unfused `nn.Linear` calls (to compare, or to rule the fused path out)."""
    token = _ENABLED.set(False)
    try:
        yield
    finally:
        _ENABLED.reset(token)


@functools.cache
def _dtype_supported(dtype: torch.dtype) -> bool:
    if dtype == torch.bfloat16:
        return torch.ops.mkldnn._is_mkldnn_bf16_supported()
    return dtype == torch.float32


def _plain_linear(module: nn.Module) -> bool:
    """True for an `nn.Linear` itself (not an adapter or quantized subclass) with ordinary weights and no hooks,
    which is all the fused call reproduces."""
    return (
        type(module) is nn.Linear
        and type(module.weight) is nn.Parameter
        and (module.bias is None or type(module.bias) is nn.Parameter)
        and not module._forward_hooks
        and not module._forward_pre_hooks
        and not hasattr(module, "_hf_hook")  # accelerate's offloading wraps forward
    )


def applies(hidden_states: torch.Tensor, linears: list[nn.Module]) -> bool:
    """Whether the layer calling `linears` may run them fused on `hidden_states` (batch, seq, hidden), or
    (tokens, hidden) rows when the encoder skips padding."""
    return (
        not torch.compiler.is_compiling()  # first: dynamo does not trace what follows
        and _ENABLED.get()
        and hidden_states.device.type == "cpu"
        and not torch.is_grad_enabled()
        and torch.backends.mkldnn.is_available()
        and _dtype_supported(hidden_states.dtype)
        and not nn.modules.module._global_forward_hooks
        and not nn.modules.module._global_forward_pre_hooks
        and all(_plain_linear(linear) and not linear.training for linear in linears)
    )


def linear(
    module: nn.Linear, inputs: torch.Tensor, activation: str | None = None, residual: torch.Tensor | None = None
) -> torch.Tensor:
    """`activation(module(inputs))` or `module(inputs) + residual` in one oneDNN call.

    Args:
        inputs: (..., in_features).
        activation: a key of `POST_OPS`; give at most one of `activation` and `residual`.
        residual: (..., out_features), added to the output.
    """
    rows = inputs.numel() // inputs.shape[-1]
    slow_shape = module.out_features <= _NARROW and _SLOW_ROWS[0] < rows <= _SLOW_ROWS[1]
    if not (inputs.dtype == torch.bfloat16 and slow_shape):
        return _linear(module, inputs, activation, residual)
    flat_inputs = inputs.reshape(rows, -1)
    flat_residual = residual.reshape(rows, -1) if residual is not None else None
    outputs = [
        _linear(
            module,
            flat_inputs[start : start + _PIECE_ROWS],
            activation,
            flat_residual[start : start + _PIECE_ROWS] if flat_residual is not None else None,
        )
        for start in range(0, rows, _PIECE_ROWS)
    ]
    return torch.cat(outputs).view(*inputs.shape[:-1], module.out_features)


def _linear(
    module: nn.Linear, inputs: torch.Tensor, activation: str | None, residual: torch.Tensor | None
) -> torch.Tensor:
    packable = _packable([module.weight], inputs.numel() // inputs.shape[-1])
    weight = packed_weight(module, [module.weight]) if packable else module.weight
    if residual is not None:
        return torch.ops.mkldnn._linear_pointwise.binary(inputs, residual, weight, module.bias, "add")
    post_op, algorithm = POST_OPS[activation] if activation is not None else ("none", "")
    return torch.ops.mkldnn._linear_pointwise(inputs, weight, module.bias, post_op, [], algorithm)


def grouped_linear(linears: Sequence[nn.Linear], inputs: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """`tuple(linear(inputs) for linear in linears)`, as views of one oneDNN call over the concatenated weights
    where they are kept packed, or in bf16 from _STACK_ROWS rows on (below, and in fp32, concatenating the weights
    at every call costs about what the wider product saves)."""
    weights = [module.weight for module in linears]
    rows = inputs.numel() // inputs.shape[-1]
    if _packable(weights, rows):
        weight = packed_weight(linears[0], weights)
    elif inputs.dtype == torch.bfloat16 and rows >= _STACK_ROWS:
        weight = torch.cat(weights)
    else:
        return tuple(linear(module, inputs) for module in linears)
    biases = [
        module.bias if module.bias is not None else module.weight.new_zeros(module.out_features) for module in linears
    ]
    stacked = torch.ops.mkldnn._linear_pointwise(inputs, weight, torch.cat(biases), "none", [], "")
    return stacked.split([module.out_features for module in linears], dim=-1)


def _packable(weights: list[torch.Tensor], rows: int) -> bool:
    """Whether a product over `rows` rows may use `weights` kept packed: not above _PACK_MAX_ROWS rows (where the
    packed layout measured no faster), and only weights that require no grad and have a version counter (an
    inference tensor, made under `torch.inference_mode`, has none to tell a change by)."""
    return rows <= _PACK_MAX_ROWS and not any(weight.requires_grad or weight.is_inference() for weight in weights)


def release(modules: Iterable[nn.Module]) -> None:
    """Drop the packed weights kept for `modules` (their memory is freed once nothing else holds it)."""
    for module in modules:
        _PACKED.pop(module, None)


def packed_weight(owner: nn.Module, weights: list[torch.Tensor]) -> torch.Tensor:
    """`weights` concatenated along the output features in oneDNN's layout, kept for `owner` while none of them is
    replaced or changed in place (the caller checked `_packable`)."""
    state = [(weight.untyped_storage().data_ptr(), weight.storage_offset(), weight._version) for weight in weights]
    state += [(weight.dtype, weight.shape) for weight in weights]
    entry = _PACKED.get(owner)
    if entry is None or entry.state != state:
        weight = weights[0] if len(weights) == 1 else torch.cat(weights)
        entry = _PACKED[owner] = _Packed(state, weights, torch.ops.mkldnn._reorder_linear_weight(weight, _PACK_ROWS))
    return entry.weight
