"""The token-classification pipeline reports each entity's word as the text at its offsets, spaces included."""

from __future__ import annotations

import pytest
import torch
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
