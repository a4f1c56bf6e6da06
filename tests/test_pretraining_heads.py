"""The pretraining heads: the LM head against a hand computation, loading released-style checkpoints, fill-mask,
the optional language embeddings, and ErnieMForPreTraining's loss and two-step BTMLM."""

import math

import pytest
import torch
from tests.conftest import TINY
from tests.stub_tokenizer import StubTokenizer as Stub
from transformers import AutoConfig, AutoModelForMaskedLM, AutoModelForPreTraining, pipeline

import erniem
from erniem.pretraining import BTMLMCollator, MMLMCollator


def tiny(model_class, **config):
    torch.manual_seed(0)
    model = model_class(erniem.ErnieMConfig(**{**TINY, **config})).eval()
    with torch.no_grad():  # a bias that is not zero, so that the test sees it
        if hasattr(model, "lm_head"):
            model.lm_head.bias.normal_()
    return model


def test_lm_head_matches_a_hand_computation():
    model = tiny(erniem.ErnieMForMaskedLM)
    ids = torch.tensor([[0, 5, 6, 7, 2]])
    hidden = model.ernie_m(ids).last_hidden_state
    head = model.lm_head
    x = hidden @ head.dense.weight.T + head.dense.bias
    x = 0.5 * x * (1 + torch.erf(x / math.sqrt(2)))  # exact GELU
    x = (x - x.mean(-1, keepdim=True)) / torch.sqrt(x.var(-1, unbiased=False, keepdim=True) + 1e-5)
    x = x * head.layer_norm.weight + head.layer_norm.bias
    expected = x @ model.ernie_m.embeddings.word_embeddings.weight.T + head.bias
    torch.testing.assert_close(model(ids).logits, expected, rtol=1e-5, atol=1e-5)
    labels = torch.tensor([[-100, 9, -100, 11, -100]])
    loss = -(expected[0, 1].log_softmax(-1)[9] + expected[0, 3].log_softmax(-1)[11]) / 2
    torch.testing.assert_close(model(ids, labels=labels).loss, loss, rtol=1e-5, atol=1e-5)


def test_decoder_is_tied_to_the_word_embeddings():
    model = tiny(erniem.ErnieMForPreTraining)
    assert model.lm_head.decoder.weight is model.ernie_m.embeddings.word_embeddings.weight
    assert model.lm_head.decoder.bias is model.lm_head.bias


@pytest.mark.parametrize("head", [erniem.ErnieMForMaskedLM, erniem.ErnieMForPreTraining])
def test_an_encoder_checkpoint_loads_with_only_the_lm_head_missing(tmp_path, head):
    encoder = tiny(erniem.ErnieMModel)  # with a pooler, as the released checkpoints
    encoder.save_pretrained(tmp_path)
    model, info = head.from_pretrained(tmp_path, output_loading_info=True)
    assert set(info["missing_keys"]) == {
        "lm_head.dense.weight", "lm_head.dense.bias", "lm_head.layer_norm.weight", "lm_head.layer_norm.bias",
        "lm_head.bias", "lm_head.decoder.bias",
    }  # fmt: skip
    assert not info["unexpected_keys"] and not info["mismatched_keys"]
    ids = torch.tensor([[0, 5, 6, 2], [0, 8, 2, 1]])
    torch.testing.assert_close(model.ernie_m(ids).last_hidden_state, encoder(ids).last_hidden_state)
    assert not model.lm_head.bias.any()  # initialised to zero


def test_auto_classes_resolve_the_pretraining_heads(tmp_path):
    config = AutoConfig.for_model("ernie_m", **TINY)
    assert type(AutoModelForMaskedLM.from_config(config)) is erniem.ErnieMForMaskedLM
    assert type(AutoModelForPreTraining.from_config(config)) is erniem.ErnieMForPreTraining


def test_fill_mask_pipeline_finds_the_planted_token(tokenizer):
    """A one-layer model whose LM head is planted to score "▁Paris" highest fills the mask with it."""
    torch.manual_seed(0)
    config = erniem.ErnieMConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=1, num_attention_heads=4)
    model = erniem.ErnieMForMaskedLM(config).eval()
    paris = tokenizer.convert_tokens_to_ids("▁Paris")
    with torch.no_grad():
        model.lm_head.bias[paris] = 50.0
    fill = pipeline("fill-mask", model=model, tokenizer=tokenizer)
    results = fill(f"The capital of France is {tokenizer.mask_token}.", top_k=2)
    assert results[0]["token"] == paris and results[0]["sequence"] == "The capital of France is Paris."
    assert results[0]["score"] > 0.99 and results[1]["score"] < 0.01


def test_language_embeddings_are_optional_and_start_at_zero(tmp_path):
    plain = tiny(erniem.ErnieMModel)
    assert not any("language" in name for name in plain.state_dict())
    plain.save_pretrained(tmp_path)
    with_languages = erniem.ErnieMModel.from_pretrained(tmp_path, languages=["en", "de"], num_languages=2).eval()
    table = with_languages.embeddings.language_embeddings.weight
    assert table.shape == (2, TINY["hidden_size"]) and not table.any()
    ids = torch.tensor([[0, 5, 6, 2]])
    language_ids = torch.tensor([[1, 1, 1, 1]])
    torch.testing.assert_close(
        with_languages(ids, language_ids=language_ids).last_hidden_state, plain(ids).last_hidden_state, rtol=0, atol=0
    )
    with torch.no_grad():
        table[1] = 1.0
    assert not torch.allclose(with_languages(ids, language_ids=language_ids).last_hidden_state, plain(ids)[0])
    with pytest.raises(ValueError, match="no language table"):
        plain(ids, language_ids=language_ids)
    config = erniem.ErnieMConfig(**TINY, languages=["en", "de", "fr"])
    assert config.num_languages == 3
    with pytest.raises(ValueError, match="more than `num_languages`"):
        erniem.ErnieMConfig(**TINY, languages=["en", "de"], num_languages=1)


def test_pretraining_loss_is_the_masked_lm_loss_of_the_labelled_positions():
    model = tiny(erniem.ErnieMForPreTraining)
    masked_lm = erniem.ErnieMForMaskedLM(model.config).eval()
    masked_lm.load_state_dict(model.state_dict())
    batch = MMLMCollator(Stub(), masking=erniem.pretraining.MaskingOptions(rate=0.3))(
        [{"input_ids": list(range(10, 30))}, {"input_ids": list(range(40, 45))}], torch.Generator().manual_seed(1)
    )
    out = model(**batch)
    reference = masked_lm(**batch)
    labelled = batch["labels"] != -100
    torch.testing.assert_close(out.loss, reference.loss)
    torch.testing.assert_close(out.prediction_logits, reference.logits[labelled])


def test_btmlm_fills_the_placeholders_with_step_one_predictions_and_no_gradient_flows_through_them():
    model = tiny(erniem.ErnieMForPreTraining, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    collator = BTMLMCollator(Stub(), masking=erniem.pretraining.MaskingOptions(rate=0.3))
    batch = collator(
        [{"input_ids": list(range(10, 18))}, {"input_ids": list(range(30, 34))}], torch.Generator().manual_seed(2)
    )
    placeholders = batch["placeholder_mask"]

    # Step 1 by hand: the masked-LM logits of the step-1 input under its mask, best non-special token.
    logits = model.lm_head(
        model.ernie_m(batch["pseudo_input_ids"], attention_mask=batch["pseudo_attention_mask"]).last_hidden_state
    )[placeholders]
    logits[:, Stub.all_special_ids] = float("-inf")
    expected_ids = batch["input_ids"].clone()
    expected_ids[placeholders] = logits.argmax(-1)

    out = model(**batch)
    assert torch.equal(out.input_ids, expected_ids)
    assert torch.equal(batch["input_ids"][placeholders], torch.full((int(placeholders.sum()),), 98))  # unchanged
    out.loss.backward()
    gradients = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()

    # Step 2 alone, on those ids: the same loss and the same gradients, so step 1 adds none.
    step2 = {k: batch[k] for k in ("attention_mask", "position_ids", "labels")}
    again = model(input_ids=expected_ids, **step2)
    torch.testing.assert_close(again.loss, out.loss)
    again.loss.backward()
    for before, parameter in zip(gradients, model.parameters(), strict=True):
        torch.testing.assert_close(parameter.grad, before)


def test_btmlm_step_one_runs_without_dropout_in_training():
    model = tiny(erniem.ErnieMForPreTraining, hidden_dropout_prob=0.5, attention_probs_dropout_prob=0.5)
    batch = BTMLMCollator(Stub())([{"input_ids": list(range(10, 22))}], torch.Generator().manual_seed(4))
    placeholders = batch["placeholder_mask"]
    logits = model.lm_head(
        model.ernie_m(batch["pseudo_input_ids"], attention_mask=batch["pseudo_attention_mask"]).last_hidden_state
    )[placeholders]  # the model is in eval mode here
    logits[:, Stub.all_special_ids] = float("-inf")
    model.train()
    for _ in range(3):  # dropout would draw other tokens from call to call
        assert torch.equal(model(**batch).input_ids[placeholders], logits.argmax(-1))
    assert model.training and model.ernie_m.embeddings.dropout.training
