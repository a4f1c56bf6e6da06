"""The token-classification pipeline reports each entity's word as the text at its offsets, spaces included."""

from __future__ import annotations

import pytest
import torch
from tests.conftest import small
from transformers import pipeline

import erniem
from erniem.pipelines import ErnieMTokenClassificationPipeline

TEXT = "I love New York City and Zürich."
LABELS = {0: "O", 1: "B-LOC", 2: "I-LOC"}


@pytest.fixture(scope="module")
def tagger(vocabulary):
    tokenizer = erniem.ErnieMTokenizerFast(vocabulary / "sentencepiece.bpe.model", vocabulary / "vocab.txt")
    config = erniem.ErnieMConfig(
        vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=1, num_attention_heads=4,
        id2label=LABELS, label2id={label: index for index, label in LABELS.items()},
    )  # fmt: skip
    model = erniem.ErnieMForTokenClassification(config).eval()
    with torch.no_grad():  # every token I-LOC: the whole sentence is one multi-word entity
        model.classifier.weight.zero_()
        model.classifier.bias.copy_(torch.tensor([0.0, 0.0, 5.0]))
    return model, tokenizer


@pytest.mark.parametrize("strategy", ["none", "simple", "first", "average", "max"])
def test_words_are_the_text_at_the_offsets(tagger, strategy):
    model, tokenizer = tagger
    tag = pipeline(
        "token-classification", model=model, tokenizer=tokenizer, aggregation_strategy=strategy,
        pipeline_class=ErnieMTokenClassificationPipeline,
    )  # fmt: skip
    entities = tag(TEXT)
    for entity in entities:
        assert TEXT[entity["start"] : entity["end"]] == entity["word"]
    if strategy == "none":  # one entity a token, spelt without its "▁"
        assert [e["word"] for e in entities[:3]] == ["I", "love", "New"]
    else:  # the stock pipeline spells the word strategies' entity "IloveNewYorkCityandZürich."
        assert [e["word"] for e in entities] == [TEXT]


def test_feature_extraction_gives_the_last_hidden_state(fast_tokenizer):
    model = small(erniem.ErnieMModel, fast_tokenizer)
    features = pipeline("feature-extraction", model=model, tokenizer=fast_tokenizer)("Grüße aus Köln")
    with torch.no_grad():
        expected = model(**fast_tokenizer("Grüße aus Köln", return_tensors="pt")).last_hidden_state
    assert torch.tensor(features) == pytest.approx(expected, abs=1e-5)


def test_text_classification_scores_are_the_models_softmax(fast_tokenizer):
    labels = {0: "negative", 1: "positive"}
    model = small(
        erniem.ErnieMForSequenceClassification,
        fast_tokenizer,
        id2label=labels,
        label2id={v: k for k, v in labels.items()},
    )
    result = pipeline("text-classification", model=model, tokenizer=fast_tokenizer, top_k=None)(["Très bien !"])[0]
    with torch.no_grad():
        probabilities = model(**fast_tokenizer("Très bien !", return_tensors="pt")).logits.softmax(-1)[0]
    assert {r["label"]: r["score"] for r in result} == pytest.approx(
        dict(zip(labels.values(), probabilities.tolist(), strict=True))
    )


def test_zero_shot_classification_asks_the_nli_head_each_label(fast_tokenizer):
    labels = {0: "entailment", 1: "neutral", 2: "contradiction"}
    model = small(
        erniem.ErnieMForSequenceClassification,
        fast_tokenizer,
        id2label=labels,
        label2id={v: k for k, v in labels.items()},
    )
    classify = pipeline("zero-shot-classification", model=model, tokenizer=fast_tokenizer)
    result = classify(
        "Der Zug hat Verspätung.", candidate_labels=["travel", "cooking"], hypothesis_template="This is about {}."
    )
    entailment = []
    with torch.no_grad():
        for label in ("travel", "cooking"):
            pair = fast_tokenizer("Der Zug hat Verspätung.", f"This is about {label}.", return_tensors="pt")
            entailment.append(model(**pair).logits[0, 0])
    expected = torch.stack(entailment).softmax(-1).tolist()
    assert dict(zip(result["labels"], result["scores"], strict=True)) == pytest.approx(
        dict(zip(["travel", "cooking"], expected, strict=True))
    )
