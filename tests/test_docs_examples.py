"""The usage examples of the transformers 4.x ErnieM documentation, run against erniem on a local model.

Each test is the documented example with `transformers.ErnieM*` imported from erniem and the hub name
replaced by a local directory holding a small randomly initialised model and the real tokenizer.
"""

from __future__ import annotations

import shutil

import pytest
import torch
from transformers import AutoTokenizer

import erniem
from erniem import (
    ErnieMForMultipleChoice,
    ErnieMForQuestionAnswering,
    ErnieMForSequenceClassification,
    ErnieMForTokenClassification,
    ErnieMModel,
)


@pytest.fixture(scope="module")
def checkpoint(vocabulary, tmp_path_factory) -> str:
    """A local stand-in for susnato/ernie-m-base_pytorch: real vocabulary, tiny dimensions."""
    directory = tmp_path_factory.mktemp("ernie-m-small")
    torch.manual_seed(0)
    config = erniem.ErnieMConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64)
    ErnieMModel(config).save_pretrained(directory)
    for name in ("sentencepiece.bpe.model", "vocab.txt"):
        shutil.copy(vocabulary / name, directory / name)
    erniem.ErnieMTokenizer(str(directory / "sentencepiece.bpe.model"), str(directory / "vocab.txt")).save_pretrained(
        directory
    )
    return str(directory)


def test_model_example(checkpoint):
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    model = ErnieMModel.from_pretrained(checkpoint)

    inputs = tokenizer("Hello, my dog is cute", return_tensors="pt")
    outputs = model(**inputs)

    last_hidden_states = outputs.last_hidden_state
    assert last_hidden_states.shape == (1, inputs["input_ids"].shape[1], 32)


def test_single_label_classification_example(checkpoint):
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    model = ErnieMForSequenceClassification.from_pretrained(checkpoint)

    inputs = tokenizer("Hello, my dog is cute", return_tensors="pt")

    with torch.no_grad():
        logits = model(**inputs).logits

    predicted_class_id = logits.argmax().item()
    assert predicted_class_id in (0, 1)

    num_labels = len(model.config.id2label)
    model = ErnieMForSequenceClassification.from_pretrained(checkpoint, num_labels=num_labels)

    labels = torch.tensor([1])
    loss = model(**inputs, labels=labels).loss
    assert loss.ndim == 0 and loss > 0


def test_multi_label_classification_example(checkpoint):
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    model = ErnieMForSequenceClassification.from_pretrained(checkpoint, problem_type="multi_label_classification")

    inputs = tokenizer("Hello, my dog is cute", return_tensors="pt")

    with torch.no_grad():
        logits = model(**inputs).logits

    predicted_class_ids = torch.arange(0, logits.shape[-1])[torch.sigmoid(logits).squeeze(dim=0) > 0.5]

    num_labels = len(model.config.id2label)
    model = ErnieMForSequenceClassification.from_pretrained(
        checkpoint, num_labels=num_labels, problem_type="multi_label_classification"
    )

    labels = torch.sum(
        torch.nn.functional.one_hot(predicted_class_ids[None, :].clone(), num_classes=num_labels), dim=1
    ).to(torch.float)
    loss = model(**inputs, labels=labels).loss
    assert loss.ndim == 0 and loss > 0


def test_multiple_choice_example(checkpoint):
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    model = ErnieMForMultipleChoice.from_pretrained(checkpoint)

    prompt = "In Italy, pizza served in formal settings, such as at a restaurant, is presented unsliced."
    choice0 = "It is eaten with a fork and a knife."
    choice1 = "It is eaten while held in the hand."
    labels = torch.tensor(0).unsqueeze(0)

    encoding = tokenizer([prompt, prompt], [choice0, choice1], return_tensors="pt", padding=True)
    outputs = model(**{k: v.unsqueeze(0) for k, v in encoding.items()}, labels=labels)

    loss = outputs.loss
    logits = outputs.logits
    assert logits.shape == (1, 2) and loss > 0


def test_token_classification_example(checkpoint):
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    model = ErnieMForTokenClassification.from_pretrained(checkpoint)

    inputs = tokenizer(
        "HuggingFace is a company based in Paris and New York", add_special_tokens=False, return_tensors="pt"
    )

    with torch.no_grad():
        logits = model(**inputs).logits

    predicted_token_class_ids = logits.argmax(-1)

    predicted_tokens_classes = [model.config.id2label[t.item()] for t in predicted_token_class_ids[0]]
    assert len(predicted_tokens_classes) == inputs["input_ids"].shape[1]

    labels = predicted_token_class_ids
    loss = model(**inputs, labels=labels).loss
    assert loss > 0


def test_question_answering_example(checkpoint):
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    model = ErnieMForQuestionAnswering.from_pretrained(checkpoint)

    question, text = "Who was Jim Henson?", "Jim Henson was a nice puppet"

    inputs = tokenizer(question, text, return_tensors="pt")
    with torch.no_grad():
        outputs = model(**inputs)

    answer_start_index = outputs.start_logits.argmax()
    answer_end_index = outputs.end_logits.argmax()

    predict_answer_tokens = inputs.input_ids[0, answer_start_index : answer_end_index + 1]
    assert predict_answer_tokens.ndim == 1

    target_start_index = torch.tensor([14])
    target_end_index = torch.tensor([15])

    outputs = model(**inputs, start_positions=target_start_index, end_positions=target_end_index)
    loss = outputs.loss
    assert loss > 0
