"""Invariants of the model and heads that need no reference: batching, purity, dtypes, errors, round trips."""

from __future__ import annotations

import pytest
import torch
from tests.conftest import TINY, padded_ids

import erniem

IMPLEMENTATIONS = ("eager", "sdpa")
HEADS = (
    erniem.ErnieMForSequenceClassification,
    erniem.ErnieMForTokenClassification,
    erniem.ErnieMForQuestionAnswering,
    erniem.ErnieMForInformationExtraction,
)
# Largest deviation from fp32 of the tiny test model's last hidden state (LayerNorm outputs, |x| up to ~4) on
# non-padding positions. README.md lists the measured figures, base size included.
HALF_TOLERANCE = {torch.bfloat16: 0.05, torch.float16: 0.02}


def build(model_class=erniem.ErnieMModel, implementation: str = "sdpa", **overrides):
    torch.manual_seed(0)
    config = erniem.ErnieMConfig(**{**TINY, **overrides}, attn_implementation=implementation)
    return model_class(config).eval()


@pytest.mark.parametrize("convention", ["transformers", "paddlenlp"])
@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_row_alone_equals_row_in_padded_batch(implementation, convention):
    model = build(implementation=implementation, mask_convention=convention)
    ids, mask = padded_ids([11, 6, 3], 11)
    with torch.no_grad():
        batch = model(ids, attention_mask=mask)
        for row, length in enumerate(mask.sum(1).tolist()):
            alone = model(ids[row : row + 1, :length], attention_mask=mask[row : row + 1, :length])
            torch.testing.assert_close(
                batch.last_hidden_state[row, :length], alone.last_hidden_state[0], atol=1e-5, rtol=0
            )
            torch.testing.assert_close(batch.pooler_output[row], alone.pooler_output[0], atol=1e-5, rtol=0)


def test_default_mask_hides_padding_in_transformers_convention():
    model = build()
    ids, mask = padded_ids([9, 4], 9)
    with torch.no_grad():
        torch.testing.assert_close(model(ids).last_hidden_state, model(ids, attention_mask=mask).last_hidden_state)


def test_paddlenlp_convention_hides_id_zero_and_attends_padding():
    """PaddleNLP masks keys equal to 0 ([CLS]) with -1e4 and attends [PAD]: same as an explicit mask of ids != 0."""
    paddle = build(mask_convention="paddlenlp")
    ids, _ = padded_ids([9, 4], 9)
    with torch.no_grad():
        default = paddle(ids).last_hidden_state
        explicit = paddle(ids, attention_mask=(ids != 0).long()).last_hidden_state
        padding_hidden = paddle(ids, attention_mask=(ids != 1).long()).last_hidden_state
    torch.testing.assert_close(default, explicit, atol=1e-6, rtol=0)
    assert (default - padding_hidden).abs().max() > 1e-3  # [PAD] really is attended


def test_paddlenlp_fill_value_is_minus_ten_thousand():
    """A key hidden with -1e4 still weighs exp(-1e4 + score) = 0 in fp32, and a 4-D additive mask passes as is."""
    model = build(mask_convention="paddlenlp")
    ids, _ = padded_ids([7], 7)
    additive = torch.where(ids == 0, -1e4, 0.0)[:, None, None, :]
    with torch.no_grad():
        torch.testing.assert_close(model(ids).last_hidden_state, model(ids, attention_mask=additive).last_hidden_state)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_boolean_4d_mask_equals_2d_mask(implementation):
    model = build(implementation=implementation)
    ids, mask = padded_ids([8, 5], 8)
    with torch.no_grad():
        expected = model(ids, attention_mask=mask).last_hidden_state
        actual = model(ids, attention_mask=mask.bool()[:, None, None, :]).last_hidden_state
    torch.testing.assert_close(actual, expected)


def test_inputs_embeds_without_mask_attends_everything():
    model = build()
    ids, _ = padded_ids([6, 6], 6)
    with torch.no_grad():
        embeds = model.get_input_embeddings()(ids)
        torch.testing.assert_close(
            model(inputs_embeds=embeds).last_hidden_state,
            model(ids, attention_mask=torch.ones_like(ids)).last_hidden_state,
        )


def test_forward_leaves_every_input_untouched():
    model = build(erniem.ErnieMForSequenceClassification, implementation="eager")
    ids, mask = padded_ids([7, 4], 7)
    positions = torch.arange(7).expand(2, 7).clone()
    prefix = tuple((torch.randn(2, 4, 3, 8), torch.randn(2, 4, 3, 8)) for _ in range(2))
    head_mask = torch.tensor([1.0, 0.0, 1.0, 1.0])
    labels = torch.tensor([1, 0])
    arguments = dict(
        input_ids=ids,
        attention_mask=mask,
        position_ids=positions,
        past_key_values=prefix,
        head_mask=head_mask,
        labels=labels,
    )
    snapshot = {name: torch.utils._pytree.tree_map(torch.clone, value) for name, value in arguments.items()}
    model(**arguments)
    model(**arguments)  # twice: an in-place shift would show on the second call
    for name, value in arguments.items():
        for now, before in zip(
            torch.utils._pytree.tree_leaves(value), torch.utils._pytree.tree_leaves(snapshot[name]), strict=True
        ):
            assert torch.equal(now, before), f"{name} was modified"


def test_cache_fed_back_as_prefix_equals_one_long_sequence():
    """With one layer, keys/values cached from a first half and fed back as a prefix reproduce the second half
    of a single forward over both halves (positions continue after the prefix)."""
    model = build(num_hidden_layers=1)
    first_half, _ = padded_ids([5], 5, seed=1)
    second_half, _ = padded_ids([4], 4, seed=2)
    with torch.no_grad():
        cached = model(first_half, use_cache=True)
        continued = model(second_half, past_key_values=cached.past_key_values, use_cache=True)
        whole = model(torch.cat([first_half, second_half], dim=1))
    assert cached.cache[0][0].shape == (1, 4, 5, 8) and continued.cache[0][0].shape == (1, 4, 9, 8)
    torch.testing.assert_close(continued.last_hidden_state, whole.last_hidden_state[:, 5:], atol=1e-5, rtol=0)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_half_precision_runs_close_to_fp32(dtype, implementation):
    model = build(implementation=implementation)
    ids, mask = padded_ids([12, 7, 3], 12)
    with torch.no_grad():
        expected = model(ids, attention_mask=mask).last_hidden_state
        model.to(dtype)
        for arguments in ({"attention_mask": mask}, {}):  # an explicit mask, and the default one
            output = model(ids, **arguments)
            assert output.last_hidden_state.dtype == dtype and output.pooler_output.dtype == dtype
            deviation = (output.last_hidden_state.float() - expected)[mask.bool()].abs().max().item()
            assert deviation <= HALF_TOLERANCE[dtype], deviation


def test_save_and_load_round_trip_is_bit_exact(tmp_path):
    for model_class in (erniem.ErnieMModel, *HEADS, erniem.ErnieMForMultipleChoice):
        model = build(model_class)
        model.save_pretrained(tmp_path / model_class.__name__)
        assert (tmp_path / model_class.__name__ / "model.safetensors").exists()
        assert not (tmp_path / model_class.__name__ / "pytorch_model.bin").exists()
        loaded, info = model_class.from_pretrained(tmp_path / model_class.__name__, output_loading_info=True)
        assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"]
        original, reloaded = model.state_dict(), loaded.state_dict()
        assert original.keys() == reloaded.keys()
        for key, tensor in original.items():
            assert torch.equal(tensor, reloaded[key]), key


def test_parameter_names_are_those_of_transformers_4():
    names = set(build(erniem.ErnieMForSequenceClassification).state_dict())
    assert "ernie_m.embeddings.word_embeddings.weight" in names
    assert "ernie_m.embeddings.layer_norm.weight" in names
    assert "ernie_m.encoder.layers.1.self_attn.self_attn.q_proj.weight" in names
    assert "ernie_m.encoder.layers.1.self_attn.out_proj.bias" in names
    assert {"ernie_m.encoder.layers.0.linear1.weight", "ernie_m.encoder.layers.0.norm2.bias"} <= names
    assert {"ernie_m.pooler.dense.weight", "classifier.weight"} <= names
    extraction = set(build(erniem.ErnieMForInformationExtraction).state_dict())
    assert {"linear_start.weight", "linear_end.bias"} <= extraction


def test_multiple_choice_reshapes_choices():
    model = build(erniem.ErnieMForMultipleChoice)
    ids, mask = padded_ids([6, 4, 6, 5], 6)
    with torch.no_grad():
        output = model(ids.view(2, 2, 6), attention_mask=mask.view(2, 2, 6), labels=torch.tensor([0, 1]))
        flat = model.ernie_m(ids, attention_mask=mask).pooler_output
    expected = model.classifier(flat).view(2, 2)
    torch.testing.assert_close(output.logits, expected)
    torch.testing.assert_close(output.loss, torch.nn.functional.cross_entropy(expected, torch.tensor([0, 1])))


def test_information_extraction_loss_is_mean_of_two_bces():
    model = build(erniem.ErnieMForInformationExtraction)
    ids, mask = padded_ids([6, 4], 6)
    start = torch.zeros(2, 6)
    start[0, 2] = start[1, 1] = 1.0
    end = torch.zeros(2, 6)
    end[0, 3] = end[1, 1] = 1.0
    with torch.no_grad():
        output = model(ids, attention_mask=mask, start_positions=start, end_positions=end)
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    expected = (bce(output.start_logits, start) + bce(output.end_logits, end)) / 2
    torch.testing.assert_close(output.loss, expected)
    probabilities = torch.sigmoid(output.start_logits)
    assert ((probabilities > 0) & (probabilities < 1)).all()


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda m: m(torch.zeros(1, 513, dtype=torch.long)), "more than the 512 positions"),
        (lambda m: m(torch.zeros(1, 4, dtype=torch.long), position_ids=torch.tensor([[0, 1, 2, 512]])), "position_ids"),
        (lambda m: m(torch.zeros(1, 4, dtype=torch.long), position_ids=torch.tensor([[0, -1, 2, 3]])), "position_ids"),
        (lambda m: m(), "exactly one of"),
        (lambda m: m(torch.zeros(1, 4, dtype=torch.long), inputs_embeds=torch.zeros(1, 4, 32)), "exactly one of"),
        (lambda m: m(torch.zeros(1, 4, dtype=torch.long), attention_mask=torch.ones(1, 5)), "attention_mask must be"),
        (lambda m: m(torch.zeros(1, 4, dtype=torch.long), head_mask=torch.ones(3)), "head_mask must be"),
        (
            lambda m: m(torch.zeros(1, 4, dtype=torch.long), past_key_values=((torch.zeros(1, 4, 2, 8),) * 2,)),
            "past_key_values has 1 entries",
        ),
        (
            lambda m: m(torch.zeros(1, 4, dtype=torch.long), past_key_values=((torch.zeros(1, 2, 2, 8),) * 2,) * 2),
            "past_key_values tensors must be",
        ),
    ],
)
def test_bad_input_gives_a_clear_error(call, message):
    with pytest.raises(ValueError, match=message):
        call(build())


def test_prefix_counts_towards_the_position_limit():
    model = build(max_position_embeddings=12)
    prefix = tuple((torch.zeros(1, 4, 3, 8), torch.zeros(1, 4, 3, 8)) for _ in range(2))
    model(torch.zeros(1, 7, dtype=torch.long), past_key_values=prefix)  # 3 + 7 = 10 positions: fits
    with pytest.raises(ValueError, match="after a prefix of 3"):
        model(torch.zeros(1, 8, dtype=torch.long), past_key_values=prefix)


def test_information_extraction_rejects_index_labels():
    model = build(erniem.ErnieMForInformationExtraction)
    ids, _ = padded_ids([5], 5)
    with pytest.raises(ValueError, match="0/1 labels"):
        model(ids, start_positions=torch.tensor([2]), end_positions=torch.tensor([3]))
    with pytest.raises(ValueError, match="both"):
        model(ids, start_positions=torch.zeros(1, 5))


def test_output_attentions_and_head_mask_fall_back_to_eager_under_sdpa():
    sdpa, eager = build(implementation="sdpa"), build(implementation="eager")
    ids, mask = padded_ids([6, 3], 6)
    head_mask = torch.tensor([[1.0, 0.0, 1.0, 1.0], [0.0, 1.0, 1.0, 0.5]])
    with torch.no_grad():
        a = sdpa(ids, attention_mask=mask, head_mask=head_mask, output_attentions=True)
        b = eager(ids, attention_mask=mask, head_mask=head_mask, output_attentions=True)
    torch.testing.assert_close(a.last_hidden_state, b.last_hidden_state)
    assert len(a.attentions) == 2 and a.attentions[0].shape == (2, 4, 6, 6)
    assert torch.all(a.attentions[0][:, 1] == 0)  # the silenced head


def test_flash_attention_is_refused_clearly_where_unavailable():
    if torch.cuda.is_available():
        pytest.skip("a GPU may support flash attention")
    with pytest.raises((ImportError, ValueError)):
        build(implementation="flash_attention_2")


def test_set_attn_implementation_switches_the_attention_that_runs(monkeypatch):
    """The attention function is looked up in transformers' AttentionInterface on every call, so switching a built
    model (heads included) between implementations, or to a function the user registers, takes effect."""
    model = build(erniem.ErnieMForSequenceClassification, implementation="sdpa", unpad_inputs=False)
    ids, mask = padded_ids([6, 3], 6)
    ran = []

    def recording(name, function):
        def attention(*args, **kwargs):
            ran.append(name)
            return function(*args, **kwargs)

        return attention

    eager = erniem.modeling.eager_attention_forward
    monkeypatch.setattr(erniem.modeling, "eager_attention_forward", recording("eager", eager))
    sdpa = torch.nn.functional.scaled_dot_product_attention
    monkeypatch.setattr(torch.nn.functional, "scaled_dot_product_attention", recording("sdpa", sdpa))
    interface = erniem.modeling.ALL_ATTENTION_FUNCTIONS
    monkeypatch.setitem(interface, "recording_eager", recording("registered", eager))

    logits = {}
    for implementation in ("sdpa", "eager", "recording_eager", "sdpa"):
        model.set_attn_implementation(implementation)
        assert model.config._attn_implementation == implementation
        assert model.ernie_m.config._attn_implementation == implementation
        ran.clear()
        with torch.no_grad():
            logits[implementation] = model(ids, attention_mask=mask).logits
        expected = {"sdpa": "sdpa", "eager": "eager", "recording_eager": "registered"}[implementation]
        assert ran == [expected] * TINY["num_hidden_layers"]
    torch.testing.assert_close(logits["eager"], logits["sdpa"])
    torch.testing.assert_close(logits["recording_eager"], logits["sdpa"])
