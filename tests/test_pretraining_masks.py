"""The pretraining masks: the paper's figures as exact matrices, and the leak tests that prove what a masked
position can see through every layer of a real model."""

import pytest
import torch
from tests.conftest import TINY
from tests.stub_tokenizer import StubTokenizer as Stub

import erniem
from erniem.pretraining import BTMLMCollator, CAMLMCollator, btmlm_mask, camlm_mask, full_mask


def matrix(rows: str) -> torch.Tensor:
    return torch.tensor([[c == "1" for c in row] for row in rows.split()])


# Fig. 1(c): x1 x2 [M] x3 | y4 y5 [M] y6 [M] y7
FIGURE_1C_SIDE = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1, 1, 1])
FIGURE_1C_MASKED = torch.tensor([0, 0, 1, 0, 0, 0, 1, 0, 1, 0], dtype=torch.bool)


def test_camlm_mask_is_figure_1c():
    # A masked token: the other sentence's unmasked tokens and its own sentence's masks (itself included).
    # An unmasked token (not drawn; the leak-free default): its own sentence's unmasked tokens.
    expected = matrix(
        """
        1101000000
        1101000000
        0010110101
        1101000000
        0000110101
        0000110101
        1101001010
        0000110101
        1101001010
        0000110101
        """
    )
    valid = torch.ones(10, dtype=torch.bool)
    assert torch.equal(camlm_mask(FIGURE_1C_SIDE, FIGURE_1C_MASKED, valid), expected)


def test_camlm_full_context_changes_only_the_unmasked_rows():
    valid = torch.ones(10, dtype=torch.bool)
    full = camlm_mask(FIGURE_1C_SIDE, FIGURE_1C_MASKED, valid, context="full")
    default = camlm_mask(FIGURE_1C_SIDE, FIGURE_1C_MASKED, valid)
    assert torch.equal(full[FIGURE_1C_MASKED], default[FIGURE_1C_MASKED])
    assert full[~FIGURE_1C_MASKED].all()
    with pytest.raises(ValueError, match="context"):
        camlm_mask(FIGURE_1C_SIDE, FIGURE_1C_MASKED, valid, context="both")


def test_btmlm_mask_is_figure_3():
    # Four source tokens, then three placeholders: the source sees itself; the placeholders see everything.
    side = torch.tensor([0, 0, 0, 0, 1, 1, 1])
    expected = matrix("1111000 1111000 1111000 1111000 1111111 1111111 1111111")
    assert torch.equal(btmlm_mask(side, torch.ones(7, dtype=torch.bool)), expected)


def test_padding_is_never_attended_and_attends_to_itself():
    valid = torch.tensor([1, 1, 1, 0, 0], dtype=torch.bool)
    side = torch.tensor([0, 0, 1, 1, 1])
    masked = torch.tensor([0, 1, 0, 0, 0], dtype=torch.bool)
    for mask in (full_mask(valid), camlm_mask(side, masked, valid), btmlm_mask(side, valid)):
        assert not mask[:3, 3:].any()
        assert torch.equal(mask[3:, :], torch.tensor([[0, 0, 0, 1, 0], [0, 0, 0, 0, 1]], dtype=torch.bool))


def tiny_model(attn_implementation: str, **config) -> erniem.ErnieMModel:
    torch.manual_seed(0)
    model = erniem.ErnieMModel(erniem.ErnieMConfig(**{**TINY, "num_hidden_layers": 3, **config}))
    return model.eval().to(torch.float64).set_attn_implementation(attn_implementation) or model


def states(model, batch: dict, input_ids: torch.Tensor) -> torch.Tensor:
    """Every layer's output, (layers + 1, batch, seq, hidden)."""
    out = model(input_ids, attention_mask=batch["attention_mask"], output_hidden_states=True)
    return torch.stack(out.hidden_states)


@pytest.fixture
def camlm_batch():
    generator = torch.Generator().manual_seed(3)
    collator = CAMLMCollator(Stub(), max_length=40)
    examples = [
        {"source_ids": list(range(10, 22)), "target_ids": list(range(40, 55))},
        {"source_ids": list(range(60, 66)), "target_ids": list(range(70, 74))},
    ]
    return collator(examples, generator=generator)


@pytest.mark.parametrize("attn_implementation", ["eager", "sdpa"])
def test_camlm_masked_positions_do_not_see_their_own_context_at_any_layer(camlm_batch, attn_implementation):
    model = tiny_model(attn_implementation)
    ids, labels = camlm_batch["input_ids"], camlm_batch["labels"]
    row = 0
    side_end = 1 + 12 + 1  # [CLS] source [SEP]
    masked = (labels[row] != -100).nonzero().squeeze(1)
    source_masked = masked[masked < side_end]
    own_context = [p for p in range(1, side_end - 1) if p not in source_masked.tolist()]
    target_words = [p for p in range(side_end + 1, len(ids[row]) - 1) if labels[row, p] == -100]
    assert len(source_masked) and own_context and target_words

    before = states(model, camlm_batch, ids)
    changed = ids.clone()
    changed[row, own_context] = 97  # every unmasked source word replaced
    after = states(model, camlm_batch, changed)
    torch.testing.assert_close(after[:, row, source_masked], before[:, row, source_masked], atol=1e-6, rtol=0)

    changed = ids.clone()
    changed[row, target_words[0]] = 97  # one unmasked target word
    after = states(model, camlm_batch, changed)
    assert (after[-1, row, source_masked] - before[-1, row, source_masked]).abs().max() > 1e-3


def test_camlm_full_context_leaks_from_the_second_layer_on(camlm_batch):
    """The check can fail: with unmasked tokens attending across sentences, own context reaches a masked token."""
    model = tiny_model("eager")
    ids, labels = camlm_batch["input_ids"], camlm_batch["labels"]
    masked = (labels[0] != -100).nonzero().squeeze(1)
    source_masked = masked[masked < 14]
    side = torch.tensor([0] * 14 + [1] * (ids.shape[1] - 14))
    valid = ids[0] != Stub.pad_token_id
    leaky = dict(attention_mask=camlm_mask(side, labels[0] != -100, valid, context="full")[None])
    own_context = [p for p in range(1, 13) if p not in source_masked.tolist()]
    changed = ids[:1].clone()
    changed[0, own_context] = 97
    before, after = states(model, leaky, ids[:1]), states(model, leaky, changed)
    torch.testing.assert_close(after[1, 0, source_masked], before[1, 0, source_masked], atol=1e-6, rtol=0)
    assert (after[2, 0, source_masked] - before[2, 0, source_masked]).abs().max() > 1e-6


@pytest.mark.parametrize("attn_implementation", ["eager", "sdpa"])
def test_btmlm_placeholders_depend_on_the_source_and_placeholders_alone(attn_implementation):
    model = tiny_model(attn_implementation)
    collator = BTMLMCollator(Stub(), max_length=40)
    batch = collator(
        [{"input_ids": list(range(10, 15))}, {"input_ids": list(range(20, 32))}],
        generator=torch.Generator().manual_seed(0),
    )
    step1 = {"attention_mask": batch["pseudo_attention_mask"]}
    ids, placeholders = batch["pseudo_input_ids"], batch["placeholder_mask"]
    row = 0  # the shorter example: it has padding after it
    padding = (ids[row] == Stub.pad_token_id).nonzero().squeeze(1)
    source = torch.arange(1, 6)
    assert len(padding) and placeholders[row].sum() == 5

    before = states(model, step1, ids)
    changed = ids.clone()
    changed[row, padding] = 97  # whatever sits in the padding
    changed[1] = 50  # and the other example
    after = states(model, step1, changed)
    torch.testing.assert_close(after[:, row, placeholders[row]], before[:, row, placeholders[row]], atol=1e-6, rtol=0)

    changed = ids.clone()
    changed[row, placeholders[row]] = 97  # the source never sees the placeholders
    after = states(model, step1, changed)
    torch.testing.assert_close(after[:, row, source], before[:, row, source], atol=1e-6, rtol=0)

    changed = ids.clone()
    changed[row, 2] = 97  # one source word: every placeholder's output moves
    after = states(model, step1, changed)
    moved = (after[-1, row, placeholders[row]] - before[-1, row, placeholders[row]]).abs().amax(-1)
    assert (moved > 1e-3).all()


@pytest.mark.parametrize("attn_implementation", ["eager", "sdpa"])
def test_3d_and_4d_masks_agree_with_2d_padding_masks(attn_implementation):
    model = tiny_model(attn_implementation)
    ids = torch.tensor([[0, 10, 11, 12, 2], [0, 20, 2, 1, 1]])
    two_d = (ids != 1).long()
    per_query = full_mask(two_d[0].bool())[None].repeat(2, 1, 1)
    per_query[1] = full_mask(two_d[1].bool())
    expected = model(ids, attention_mask=two_d).last_hidden_state
    for mask in (per_query, per_query[:, None]):
        got = model(ids, attention_mask=mask).last_hidden_state
        torch.testing.assert_close(got[two_d.bool()], expected[two_d.bool()])
    with pytest.raises(ValueError, match="3-D attention_mask must be"):
        model(ids, attention_mask=per_query[:, :3])
