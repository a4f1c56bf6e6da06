"""Skipping padding (`config.unpad_inputs`): every layer on kept positions only. What the kept positions and the
pooled first token get matches the live transformers 4.39.3 reference; the positions left out get zeros."""

from __future__ import annotations

import pytest
import torch
from tests.test_parity import ATOL, load

import erniem
from erniem.unpadding import Unpadded

# Reference cases with a 2-D padding mask, and the outputs that depend on the kept positions alone (the
# question-answering and extraction losses also read the logits of padding, so they are left out).
CASES = ["padded_mask", "position_ids", "inputs_embeds", "seq_single", "seq_regression", "seq_multi", "token",
         "qa", "choice", "extraction"]  # fmt: skip
READ_PADDING = {("qa", "loss"), ("extraction", "loss")}
DIMENSIONS = dict(vocab_size=300, hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=96)


def computed(mask: torch.Tensor) -> torch.Tensor:
    """The positions the unpadded run computes, worked out independently: attended ones and every first one."""
    keep = mask.reshape(-1, mask.shape[-1]) != 0
    return keep | (torch.arange(keep.shape[1]) == 0)


def assert_close_where_computed(actual, expected, keep: torch.Tensor, where: str) -> None:
    if isinstance(expected, tuple):
        for index, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_close_where_computed(a, e, keep, f"{where}[{index}]")
        return
    if expected.shape[:2] == keep.shape:  # per position: (batch, seq, ...)
        actual, expected = actual[keep], expected[keep]
    torch.testing.assert_close(actual, expected, atol=ATOL, rtol=0, msg=lambda m: f"{where}: {m}")


@pytest.mark.reference
@pytest.mark.parametrize("case", CASES)
def test_computed_positions_match_the_reference(reference, case):
    spec = reference.manifest["cases"][case]
    model = load(reference, spec["model"], "sdpa")
    model.config.unpad_inputs = True
    inputs, expected = reference.inputs(case), reference.outputs(case)
    keep = computed(inputs["attention_mask"])
    with torch.no_grad():
        outputs = model(**inputs, output_hidden_states=True)
    compared = [name for name in expected if name != "attentions" and (case, name) not in READ_PADDING]
    assert compared
    for name in compared:
        assert_close_where_computed(outputs[name], expected[name], keep, f"{case}.{name}")


def batch() -> tuple[torch.Tensor, torch.Tensor]:
    """Right padding in rows 1 and 2, left padding in row 3."""
    generator = torch.Generator().manual_seed(5)
    ids = torch.randint(3, 300, (4, 16), generator=generator)
    mask = (torch.arange(16)[None, :] < torch.tensor([[16], [11], [4], [16]])).long()
    mask[3, :6] = 0
    return ids.masked_fill(mask == 0, 1), mask


def model(**overrides) -> erniem.ErnieMModel:
    torch.manual_seed(0)
    config = erniem.ErnieMConfig(**DIMENSIONS, attn_implementation="sdpa", initializer_range=0.2, **overrides)
    return erniem.ErnieMModel(config).eval()


def run_both(encoder: erniem.ErnieMModel, **inputs):
    """The padded run and the unpadded one, with every hidden state."""
    with torch.no_grad():
        padded = encoder(**inputs, output_hidden_states=True)
        encoder.config.unpad_inputs = True
        unpadded = encoder(**inputs, output_hidden_states=True)
        encoder.config.unpad_inputs = False
    return padded, unpadded


def test_left_out_positions_are_zero_and_the_rest_match_the_padded_run():
    ids, mask = batch()
    padded, unpadded = run_both(model(), input_ids=ids, attention_mask=mask)
    keep = computed(mask)
    assert (~keep).sum() == 22  # 5 + 12 on the right, 5 on the left (the first position is computed)
    for index, (a, b) in enumerate(zip(padded.hidden_states, unpadded.hidden_states, strict=True)):
        torch.testing.assert_close(b[keep], a[keep], atol=1e-5, rtol=0, msg=f"hidden state {index}")
        assert torch.all(b[~keep] == 0)
    torch.testing.assert_close(unpadded.last_hidden_state, unpadded.hidden_states[-1], atol=0, rtol=0)
    torch.testing.assert_close(unpadded.pooler_output, padded.pooler_output, atol=1e-5, rtol=0)


def test_in_bf16_the_computed_positions_are_as_close_to_fp32_as_the_padded_run():
    ids, mask = batch()
    keep = computed(mask)
    with torch.no_grad():
        fp32 = model()(input_ids=ids, attention_mask=mask)
    padded, unpadded = run_both(model().to(torch.bfloat16), input_ids=ids, attention_mask=mask)
    assert torch.all(unpadded.last_hidden_state[~keep] == 0)

    def results(output) -> dict[str, torch.Tensor]:  # what does not depend on the left-out positions
        return {"states": output.last_hidden_state[keep].float(), "pooled": output.pooler_output.float()}

    expected = results(fp32)
    padded_errors, unpadded_errors = (
        {name: (value - expected[name]).abs() for name, value in results(output).items()}
        for output in (padded, unpadded)
    )
    for name in expected:
        assert unpadded_errors[name].max() <= 1.25 * padded_errors[name].max(), name
        assert unpadded_errors[name].mean() <= 1.1 * padded_errors[name].mean(), name


def test_runs_padded_where_nothing_is_padding_or_the_rule_is_paddlenlp():
    ids, mask = batch()
    with_cls = ids.clone()
    with_cls[:, 0] = with_cls[1, 5] = 0  # [CLS] first, and once more inside row 1
    silent = mask.clone()
    silent[2] = 0  # a row that attends to nothing: every key is masked, so the padded run attends to all
    for encoder, inputs in (
        (model(), {"input_ids": ids, "attention_mask": torch.ones_like(mask)}),
        (model(), {"input_ids": ids, "attention_mask": mask[:, None, None, :].bool()}),  # 4-D: not a padding mask
        (model(mask_convention="paddlenlp"), {"input_ids": with_cls}),  # masks [CLS] keys, not padding
        (model(), {"input_ids": ids, "attention_mask": silent}),
    ):
        padded, unpadded = run_both(encoder, **inputs)
        torch.testing.assert_close(unpadded.last_hidden_state, padded.last_hidden_state, atol=0, rtol=0)


@pytest.mark.parametrize("asked", ["output_attentions", "use_cache"])
def test_probabilities_and_keys_values_come_from_a_padded_run(asked):
    """Both cover every position, padding included, as in the reference."""
    ids, mask = batch()
    padded, unpadded = run_both(model(), input_ids=ids, attention_mask=mask, **{asked: True})
    name = "attentions" if asked == "output_attentions" else "cache"
    torch.testing.assert_close(unpadded[name], padded[name], atol=0, rtol=0)
    torch.testing.assert_close(unpadded.last_hidden_state, padded.last_hidden_state, atol=0, rtol=0)


def test_without_a_mask_the_pad_tokens_are_left_out():
    ids, mask = batch()
    padded, unpadded = run_both(model(), input_ids=ids)
    keep = computed(mask)
    torch.testing.assert_close(unpadded.last_hidden_state[keep], padded.last_hidden_state[keep], atol=1e-5, rtol=0)
    assert torch.all(unpadded.last_hidden_state[~keep] == 0)


def test_training_gives_the_padded_run_gradients():
    """A sequence classifier reads the first token only, so its loss and gradients do not depend on padding."""
    ids, mask = batch()
    gradients = []
    for unpad in (False, True):
        torch.manual_seed(0)
        config = erniem.ErnieMConfig(**DIMENSIONS, num_labels=3, hidden_dropout_prob=0.0,
                                     attention_probs_dropout_prob=0.0, unpad_inputs=unpad)  # fmt: skip
        classifier = erniem.ErnieMForSequenceClassification(config).train()
        classifier(input_ids=ids, attention_mask=mask, labels=torch.tensor([0, 2, 1, 1])).loss.backward()
        gradients.append({name: parameter.grad for name, parameter in classifier.named_parameters()})
    for name, gradient in gradients[0].items():
        torch.testing.assert_close(gradients[1][name], gradient, atol=1e-6, rtol=1e-5, msg=name)


def test_pad_and_unpad_place_rows_where_the_mask_says():
    keep = torch.tensor([[True, True, False], [False, True, True]])
    unpadded = Unpadded.from_keep(keep)
    assert unpadded.indices.tolist() == [0, 1, 3, 4, 5]  # row 1's first position is added
    assert unpadded.spans == ((0, 0, 2), (2, 3, 5))  # ... but is not one of its keys
    states = torch.arange(2 * 3 * 2, dtype=torch.float32).view(2, 3, 2)
    rows = unpadded.unpad(states)
    assert rows.tolist() == [[0, 1], [2, 3], [6, 7], [8, 9], [10, 11]]
    assert unpadded.pad(rows).tolist() == [[[0, 1], [2, 3], [0, 0]], [[6, 7], [8, 9], [10, 11]]]
    assert not unpadded.complete and Unpadded.from_keep(torch.ones(2, 3, dtype=torch.bool)).complete


def rows_computed(model: torch.nn.Module, grad: bool = False, **inputs) -> int:
    """How many positions the first encoder layer ran on."""
    seen = []
    layer = model.base_model.encoder.layers[0]
    handle = layer.norm1.register_forward_pre_hook(lambda module, args: seen.append(args[0].shape[:-1].numel()))
    try:
        with torch.set_grad_enabled(grad):
            model(**inputs)
    finally:
        handle.remove()
    return seen[0]


def masked_batch() -> tuple[torch.Tensor, torch.Tensor]:
    """Four [PAD]-padded rows of 48 positions (lengths 48, 20, 10, 30: 21 masked per row) and their mask."""
    ids = torch.randint(3, 300, (4, 48), generator=torch.Generator().manual_seed(6))
    mask = (torch.arange(48)[None, :] < torch.tensor([[48], [20], [10], [30]])).long()
    return ids.masked_fill(mask == 0, 1), mask


@pytest.mark.parametrize("head", ["sequence", "choice"])
def test_by_default_only_the_heads_reading_the_first_token_skip_padding(head):
    ids, mask = masked_batch()
    kept = int(computed(mask).sum())
    classes = {"sequence": erniem.ErnieMForSequenceClassification, "choice": erniem.ErnieMForMultipleChoice}
    flat = {"input_ids": ids, "attention_mask": mask}
    inputs = flat
    if head == "choice":  # (batch, choices, seq): two questions with two choices each
        inputs = {name: value.view(2, 2, -1) for name, value in flat.items()}
    torch.manual_seed(0)
    pooled = classes[head](erniem.ErnieMConfig(**DIMENSIONS)).eval()
    assert pooled.config.unpad_inputs is None
    assert rows_computed(pooled, **inputs) == kept
    assert rows_computed(pooled, **inputs, output_hidden_states=True) == ids.numel()  # states cover every position
    assert rows_computed(pooled, grad=True, **inputs) == ids.numel()  # not under autograd unless asked
    little = mask.clone()
    little[1:, :33] = 1  # 15 masked per row: too few to gain from running attention row by row
    shaped = {**inputs, "attention_mask": little.view(inputs["attention_mask"].shape)}
    assert rows_computed(pooled, **shaped) == ids.numel()
    pooled.config.unpad_inputs = False
    assert rows_computed(pooled, **inputs) == ids.numel()
    for per_position in (erniem.ErnieMModel, erniem.ErnieMForTokenClassification):
        assert rows_computed(per_position(erniem.ErnieMConfig(**DIMENSIONS)).eval(), **flat) == ids.numel()


@pytest.mark.parametrize("head", [erniem.ErnieMForSequenceClassification, erniem.ErnieMForMultipleChoice])
def test_compiled_heads_run_padded_by_default_in_one_graph(head):
    """Under torch.compile the default computes every position: the kept positions change from batch to batch."""
    ids, mask = masked_batch()
    inputs = {"input_ids": ids, "attention_mask": mask}
    if head is erniem.ErnieMForMultipleChoice:
        inputs = {name: value.view(2, 2, -1) for name, value in inputs.items()}
    torch.manual_seed(0)
    model = head(erniem.ErnieMConfig(**DIMENSIONS)).eval()
    compiled = torch.compile(model, backend="eager", fullgraph=True)  # a graph break raises
    with torch.inference_mode():
        torch.testing.assert_close(compiled(**inputs).logits, model(**inputs).logits, atol=1e-5, rtol=0)


def test_the_option_must_be_a_boolean_or_none():
    assert erniem.ErnieMConfig(**DIMENSIONS).unpad_inputs is None
    with pytest.raises(ValueError, match="unpad_inputs"):
        erniem.ErnieMConfig(**DIMENSIONS, unpad_inputs="yes")
