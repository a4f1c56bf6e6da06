"""Multiple choice preprocessing, collation and accuracy, against hand-written expectations."""

from __future__ import annotations

import pytest
import torch

import erniem
from erniem.tasks.multiple_choice import ChoiceCollator, accuracy, encode_choices


def test_each_choice_is_paired_with_its_context(tokenizer):
    encoded = encode_choices(
        tokenizer, ["Where is Paris?", "Colour of snow?"], [["France", "Peru"], ["white", "red", "blue"]]
    )
    assert [len(rows) for rows in encoded["input_ids"]] == [2, 3]
    context = tokenizer("Where is Paris?", add_special_tokens=False)["input_ids"]
    choice = tokenizer("Peru", add_special_tokens=False)["input_ids"]
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    assert encoded["input_ids"][0][1] == [cls, *context, sep, sep, *choice, sep]


def test_collator_pads_and_refuses_ragged_batches(tokenizer):
    collate = ChoiceCollator(tokenizer.pad_token_id)
    batch = collate(
        [{"input_ids": [[0, 5, 2], [0, 6, 7, 2]], "labels": 1}, {"input_ids": [[0, 2], [0, 8, 2]], "labels": 0}]
    )
    assert batch["input_ids"].shape == (2, 2, 4) and batch["labels"].tolist() == [1, 0]
    assert batch["attention_mask"][1].tolist() == [[1, 1, 0, 0], [1, 1, 1, 0]]
    with pytest.raises(ValueError, match=r"as many choices; got \[2, 3\]"):
        collate([{"input_ids": [[0, 2], [0, 2]]}, {"input_ids": [[0, 2], [0, 2], [0, 2]]}])
    with pytest.raises(ValueError, match="example 0 has 1 choice"):
        encode_choices(tokenizer, ["x"], [["only"]])


def test_accuracy_and_the_model_take_the_batch(tokenizer):
    assert accuracy(torch.tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]]), torch.tensor([1, 1, 1])) == pytest.approx(2 / 3)
    config = erniem.ErnieMConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=1, num_attention_heads=4)
    model = erniem.ErnieMForMultipleChoice(config).eval()
    encoded = encode_choices(tokenizer, ["a", "b"], [["c", "d", "e"], ["f", "g", "h"]])
    batch = ChoiceCollator(tokenizer.pad_token_id)([{"input_ids": rows, "labels": 0} for rows in encoded["input_ids"]])
    assert model(**batch).logits.shape == (2, 3)
