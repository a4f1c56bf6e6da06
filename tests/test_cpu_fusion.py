"""The fused CPU path of the encoder layer (fp32 and bf16 linear layers with oneDNN post-ops): taken exactly when it
may be, and as close to fp32 as the unfused bf16 path (or closer), on a padded batch with large weights."""

from __future__ import annotations

import copy
import gc
import weakref

import pytest
import torch

import erniem
from erniem import cpu_fusion
from erniem.acceleration import optimize

pytestmark = pytest.mark.skipif(
    not torch.ops.mkldnn._is_mkldnn_bf16_supported(), reason="this CPU has no oneDNN bf16 support"
)
DIMENSIONS = dict(vocab_size=300, hidden_size=64, num_hidden_layers=3, num_attention_heads=4, intermediate_size=256)


def batch() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(3)
    ids = torch.randint(3, 300, (3, 24), generator=generator)
    mask = (torch.arange(24)[None, :] < torch.tensor([[24], [17], [5]])).long()
    return ids.masked_fill(mask == 0, 1), mask


def model(**overrides) -> erniem.ErnieMModel:
    torch.manual_seed(0)
    config = erniem.ErnieMConfig(**{**DIMENSIONS, "initializer_range": 0.2, **overrides}, attn_implementation="sdpa")
    return erniem.ErnieMModel(config).eval()


PACKED_PER_LAYER = 4  # the grouped query, key and value projections; out_proj, linear1, linear2


@pytest.fixture
def fused_calls(monkeypatch) -> list[int]:
    """Counts the layers that ran fused: calls of `cpu_fusion.grouped_linear`, one per layer."""
    calls = []
    monkeypatch.setattr(cpu_fusion, "grouped_linear", counting(cpu_fusion.grouped_linear, calls))
    return calls


def counting(function, calls: list[int]):
    def counted(*args, **kwargs):
        calls.append(1)
        return function(*args, **kwargs)

    return counted


@pytest.mark.parametrize("hidden_act", ["gelu", "relu", "silu"])
def test_fused_bf16_matches_fp32_as_well_as_the_plain_path(fused_calls, hidden_act):
    fp32 = model(hidden_act=hidden_act)
    ids, mask = batch()
    with torch.inference_mode():
        with cpu_fusion.plain_kernels():
            expected = fp32(ids, attention_mask=mask)
        bf16 = fp32.to(torch.bfloat16)
        fused = bf16(ids, attention_mask=mask)
        assert len(fused_calls) == DIMENSIONS["num_hidden_layers"]
        with cpu_fusion.plain_kernels():
            plain = bf16(ids, attention_mask=mask)
    assert len(fused_calls) == DIMENSIONS["num_hidden_layers"]
    keep = mask.bool()
    for name in ("last_hidden_state", "pooler_output"):
        fused_error = (getattr(fused, name).float() - getattr(expected, name))[keep if name[0] == "l" else ...].abs()
        plain_error = (getattr(plain, name).float() - getattr(expected, name))[keep if name[0] == "l" else ...].abs()
        assert 0 < fused_error.max() <= 1.25 * plain_error.max(), name
        assert fused_error.mean() <= 1.1 * plain_error.mean(), name


def test_fused_path_is_left_where_it_cannot_apply(fused_calls):
    ids, mask = batch()
    bf16 = model().to(torch.bfloat16)
    bf16(ids, attention_mask=mask)  # autograd on
    with torch.no_grad():
        bf16.train()
        bf16(ids, attention_mask=mask)  # training
        bf16.eval()
        model().half()(ids, attention_mask=mask)  # fp16
        handle = bf16.encoder.layers[0].linear1.register_forward_hook(lambda module, args, output: None)
        bf16(ids, attention_mask=mask)  # a hook on layer 0 keeps that layer plain
        handle.remove()
    assert len(fused_calls) == (DIMENSIONS["num_hidden_layers"] - 1)


def test_fused_fp32_differs_from_the_plain_path_by_rounding_only(fused_calls):
    fp32 = model()
    ids, mask = batch()
    with torch.inference_mode():
        fused = fp32(ids, attention_mask=mask)
        with cpu_fusion.plain_kernels():
            plain = fp32(ids, attention_mask=mask)
    assert len(fused_calls) == DIMENSIONS["num_hidden_layers"]
    torch.testing.assert_close(fused.last_hidden_state, plain.last_hidden_state, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(fused.pooler_output, plain.pooler_output, atol=1e-5, rtol=1e-5)


def test_lora_adapters_keep_the_plain_path(fused_calls):
    peft = pytest.importorskip("peft")
    ids, mask = batch()
    adapted = peft.get_peft_model(
        model(), peft.LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    )
    adapted = adapted.to(torch.bfloat16).eval()
    with torch.inference_mode():
        output = adapted(input_ids=ids, attention_mask=mask).last_hidden_state
        merged = adapted.merge_and_unload()(ids, attention_mask=mask).last_hidden_state
    assert len(fused_calls) == DIMENSIONS["num_hidden_layers"]  # only the merged model ran fused
    torch.testing.assert_close(output[mask.bool()], merged[mask.bool()], atol=0.1, rtol=0.05)


def test_fused_path_handles_prefix_keys_and_cache(fused_calls):
    ids, mask = batch()
    bf16 = model().to(torch.bfloat16)
    prefix = tuple((torch.randn(3, 4, 2, 16).bfloat16(), torch.randn(3, 4, 2, 16).bfloat16()) for _ in range(3))
    with torch.inference_mode():
        fused = bf16(ids, attention_mask=mask, past_key_values=prefix, use_cache=True)
        with cpu_fusion.plain_kernels():
            plain = bf16(ids, attention_mask=mask, past_key_values=prefix, use_cache=True)
    assert fused_calls
    keep = mask.bool()
    torch.testing.assert_close(fused.last_hidden_state[keep], plain.last_hidden_state[keep], atol=0.1, rtol=0.05)
    for (fused_key, _), (plain_key, _) in zip(fused.past_key_values, plain.past_key_values, strict=True):
        assert fused_key.shape == plain_key.shape == (3, 4, 26, 16)


@pytest.mark.parametrize("rows", [300, 768, 1024, 1500])  # one call, 256-row pieces (513..1024), one call
@pytest.mark.parametrize("post_op", ["none", "gelu", "residual"])
def test_linear_matches_one_unfused_product_at_every_row_count(rows, post_op):
    torch.manual_seed(rows)
    module = torch.nn.Linear(96, 64).bfloat16().eval()
    inputs, residual = torch.randn(rows // 3, 3, 96).bfloat16(), torch.randn(rows // 3, 3, 64).bfloat16()
    with torch.inference_mode():
        output = cpu_fusion.linear(
            module,
            inputs,
            activation="gelu" if post_op == "gelu" else None,
            residual=residual if post_op == "residual" else None,
        )
        expected = torch.nn.functional.linear(inputs.float(), module.weight.float(), module.bias.float())
        expected = {"gelu": torch.nn.functional.gelu(expected), "residual": expected + residual.float()}.get(
            post_op, expected
        )
    assert output.shape == expected.shape and output.dtype == torch.bfloat16
    torch.testing.assert_close(output.float(), expected, rtol=1e-2, atol=2e-2)


@pytest.mark.parametrize("rows", [64, 600])  # trainable: three calls, one call over the concatenated weights
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("frozen", [False, True])  # frozen: one call over the packed weights
def test_grouped_linear_gives_each_output(rows, bias, frozen):
    torch.manual_seed(rows)
    modules = [
        torch.nn.Linear(96, width, bias=bias or index == 1).bfloat16().requires_grad_(not frozen)
        for index, width in enumerate((64, 32, 64))
    ]
    inputs = torch.randn(2, rows // 2, 96).bfloat16()
    with torch.inference_mode():
        outputs = cpu_fusion.grouped_linear(modules, inputs)
        expected = [module.float()(inputs.float()) for module in modules]
    assert [output.shape for output in outputs] == [(2, rows // 2, width) for width in (64, 32, 64)]
    for output, expected_output in zip(outputs, expected, strict=True):
        torch.testing.assert_close(output.float(), expected_output, rtol=1e-2, atol=2e-2)


def test_fused_bf16_on_a_large_batch_stays_as_close_to_fp32_as_the_plain_path():
    generator = torch.Generator().manual_seed(5)
    ids = torch.randint(3, 300, (16, 48), generator=generator)  # 768 rows: stacked projections, 256-row pieces
    mask = (torch.arange(48)[None, :] < torch.randint(20, 49, (16, 1), generator=generator)).long()
    fp32 = model()
    with torch.inference_mode():
        expected = fp32(ids, attention_mask=mask).last_hidden_state
        bf16 = fp32.to(torch.bfloat16)
        fused = bf16(ids, attention_mask=mask).last_hidden_state.float()
        with cpu_fusion.plain_kernels():
            plain = bf16(ids, attention_mask=mask).last_hidden_state.float()
    keep = mask.bool()
    fused_error, plain_error = (fused - expected)[keep].abs(), (plain - expected)[keep].abs()
    assert fused_error.max() <= 1.25 * plain_error.max()
    assert fused_error.mean() <= 1.1 * plain_error.mean()


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize(
    "change",
    [
        lambda model, source: model.load_state_dict(source.state_dict()),  # copied in place
        lambda model, source: [  # tensors replaced
            setattr(parameter, "data", other.data.clone())
            for parameter, other in zip(model.parameters(), source.parameters(), strict=True)
        ],
    ],
    ids=["in-place", "replaced"],
)
def test_packed_weights_follow_changed_weights(dtype, change):
    ids, mask = batch()
    changed, source = model().to(dtype).requires_grad_(False), model(initializer_range=0.5).to(dtype)
    with torch.inference_mode():
        changed(ids, attention_mask=mask)  # packs the first weights
    assert changed.encoder.layers[0].linear1 in cpu_fusion._PACKED
    change(changed, source)
    with torch.inference_mode():
        output = changed(ids, attention_mask=mask).last_hidden_state
        expected = source(ids, attention_mask=mask).last_hidden_state
    torch.testing.assert_close(output, expected, atol=0, rtol=0)


def test_packed_weights_of_a_copy_and_of_inference_tensors():
    ids, mask = batch()
    with torch.inference_mode():
        original = model().requires_grad_(False)
        expected = original(ids, attention_mask=mask).last_hidden_state
        copied = copy.deepcopy(original)
        torch.testing.assert_close(copied(ids, attention_mask=mask).last_hidden_state, expected, atol=0, rtol=0)
        inference_weights = model()  # built under inference_mode: no version counter, so never kept packed
        inference_weights.encoder.layers[0].linear1.weight.mul_(2)
        with cpu_fusion.plain_kernels():
            plain = inference_weights(ids, attention_mask=mask).last_hidden_state
        fused = inference_weights(ids, attention_mask=mask).last_hidden_state
    assert not torch.allclose(plain, expected)
    torch.testing.assert_close(fused, plain, atol=1e-5, rtol=1e-5)


def test_packed_weights_are_freed_with_their_model():
    ids, mask = batch()
    fused = optimize(model())  # eval mode, weights frozen
    with torch.inference_mode():
        fused(ids, attention_mask=mask)
    owners = [weakref.ref(module) for module in fused.modules() if module in cpu_fusion._PACKED]
    assert len(owners) == PACKED_PER_LAYER * DIMENSIONS["num_hidden_layers"]
    gc.collect()
    before = len(cpu_fusion._PACKED)
    del fused
    gc.collect()
    assert all(owner() is None for owner in owners)
    assert len(cpu_fusion._PACKED) == before - len(owners)


def test_trainable_weights_are_never_kept_packed():
    """torch's fused AdamW updates weights without bumping their version counter: a kept layout would go stale."""
    ids, mask = batch()
    trained = model()
    optimizer = torch.optim.AdamW(trained.parameters(), lr=0.1, fused=True)
    with torch.no_grad():
        trained(ids, attention_mask=mask)
    trained(ids, attention_mask=mask).last_hidden_state.square().mean().backward()
    optimizer.step()
    with torch.no_grad():
        output = trained(ids, attention_mask=mask).last_hidden_state
        with cpu_fusion.plain_kernels():
            expected = trained(ids, attention_mask=mask).last_hidden_state
    assert not any(module in cpu_fusion._PACKED for module in trained.modules())
    torch.testing.assert_close(output, expected, atol=1e-5, rtol=1e-5)


def test_packed_weights_are_dropped_when_the_model_moves():
    ids, mask = batch()
    fused = optimize(model())
    with torch.inference_mode():
        fused(ids, attention_mask=mask)
    assert fused.encoder.layers[0].linear1 in cpu_fusion._PACKED
    bf16 = fused.to(torch.bfloat16)
    assert not any(module in cpu_fusion._PACKED for module in fused.modules())
    with torch.inference_mode():
        output = bf16(ids, attention_mask=mask).last_hidden_state
        with cpu_fusion.plain_kernels():
            expected = bf16(ids, attention_mask=mask).last_hidden_state
    assert bf16.encoder.layers[0].linear1 in cpu_fusion._PACKED
    keep = mask.bool()
    torch.testing.assert_close(output[keep], expected[keep], atol=0.1, rtol=0.05)
