"""Fine-tuning UIE models on examples `{"content", "prompt", "result_list": [{"text", "start", "end"}]}`.

The example format is PaddleNLP's (what `erniem uie convert-doccano` writes): character offsets into the
content, end exclusive; a classification answer lies in the prompt and has negative offsets (prompt
character `i` is `i - len(prompt) - 1`). Each example becomes one feature per token window of its content
(the windows and inputs of the pipeline's fast mode), with 0/1 start and end labels per token; the loss is
the model's span binary cross-entropy.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import torch

from ..modeling import default_key_mask
from .encoding import batch_inputs, text_room, token_windows, window_input


@dataclass(frozen=True)
class Feature:
    """One (prompt, content window) input of an example, with its gold spans' token labels."""

    example: int  # index of the example it comes from
    input_ids: list[int]
    offsets: list[tuple[int, int]]  # the prompt's relative to the prompt, the window's to its first character
    shift: int  # the window's first character in the content
    start_labels: list[float]
    end_labels: list[float]


def check_example(example, where: str) -> None:
    """Raise ValueError naming `where` unless `example` is a well-formed UIE example."""
    if not isinstance(example, dict):
        raise ValueError(f"{where}: an example is a JSON object, got {type(example).__name__}")
    for key, kind in (("content", str), ("prompt", str), ("result_list", list)):
        if not isinstance(example.get(key), kind):
            raise ValueError(f"{where}: {key!r} must be a {kind.__name__}")
    if not example["prompt"].strip():
        raise ValueError(f"{where}: the prompt is empty")
    prompt_length = len(example["prompt"]) + 1
    for number, span in enumerate(example["result_list"]):
        start, end = (span.get("start"), span.get("end")) if isinstance(span, dict) else (None, None)
        if not (isinstance(start, int) and isinstance(end, int) and start < end):
            raise ValueError(f"{where}: result {number} needs integer start < end")
        inside = 0 <= start and end <= len(example["content"])
        if not inside and not (-prompt_length <= start and end <= -1):
            raise ValueError(f"{where}: result {number} ({start}, {end}) lies outside the content and the prompt")


def build_features(tokenizer, examples: Sequence[dict], max_seq_len: int = 512, stride: int = 32) -> list[Feature]:
    """Token windows of every example, labelled. A gold span cut by a window border is left out of that
    window (the overlap of `stride` tokens keeps it whole in the next one, if it is shorter)."""
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    contents = tokenizer([e["content"] for e in examples], add_special_tokens=False, return_offsets_mapping=True)
    prompts = tokenizer([e["prompt"] for e in examples], add_special_tokens=False, return_offsets_mapping=True)
    features = []
    for index, example in enumerate(examples):
        prompt = (prompts["input_ids"][index], prompts["offset_mapping"][index])
        content = (contents["input_ids"][index], contents["offset_mapping"][index])
        room = text_room(example["prompt"], len(prompt[0]), max_seq_len)
        for first, last in token_windows(len(content[0]), room, stride):
            ids, offsets, shift = window_input(prompt, content, (first, last), cls, sep)
            starts, ends = [0.0] * len(ids), [0.0] * len(ids)
            prompt_end = 1 + len(prompt[0])  # the first [SEP]
            for span in example["result_list"]:
                if span["start"] < 0:  # in the prompt
                    base = len(example["prompt"]) + 1
                    token_range = range(1, prompt_end)
                    start, end = span["start"] + base, span["end"] + base
                else:
                    token_range = range(prompt_end + 2, len(ids) - 1)
                    start, end = span["start"] - shift, span["end"] - shift
                start_token = _token_at(offsets, token_range, start)
                end_token = _token_at(offsets, token_range, end - 1)
                if start_token is not None and end_token is not None:
                    starts[start_token] = ends[end_token] = 1.0
            features.append(Feature(index, ids, offsets, shift, starts, ends))
    return features


def _token_at(offsets, token_range: range, char: int) -> int | None:
    """The token in `token_range` whose characters hold `char`."""
    for token in token_range:
        if offsets[token][0] <= char < offsets[token][1]:
            return token
    return None


class FeatureDataset(torch.utils.data.Dataset):
    def __init__(self, features: Sequence[Feature]):
        self.features = list(features)

    def __len__(self) -> int:
        return len(self.features)

    def __getitem__(self, index: int) -> Feature:
        return self.features[index]


@dataclass
class SpanCollator:
    """Batches features as the pipeline's fast mode does (see `batch_inputs`), labels 0 on the padding."""

    pad_token_id: int
    max_seq_len: int
    masked_token_id: int | None
    fill_value: float

    @classmethod
    def for_model(cls, model, tokenizer, max_seq_len: int) -> SpanCollator:
        return cls(tokenizer.pad_token_id, max_seq_len, *default_key_mask(model.config, model.dtype))

    def __call__(self, features: Iterable[Feature]) -> dict[str, torch.Tensor]:
        features = list(features)
        inputs = batch_inputs(
            [f.input_ids for f in features], self.pad_token_id, self.max_seq_len, self.masked_token_id, self.fill_value
        )
        width = inputs["input_ids"].shape[1]
        for name, attribute in (("start_positions", "start_labels"), ("end_positions", "end_labels")):
            labels = torch.zeros(len(features), width)
            for row, feature in enumerate(features):
                values = getattr(feature, attribute)
                labels[row, : len(values)] = torch.tensor(values)
            inputs[name] = labels
        return inputs


def train(
    model,
    tokenizer,
    train_examples: Sequence[dict],
    output_dir,
    eval_examples: Sequence[dict] | None = None,
    max_seq_len: int = 512,
    stride: int = 32,
    **training_arguments,
):
    """Fine-tune `model` with transformers' Trainer and save it with its tokenizer in `output_dir`.

    `training_arguments` go to `transformers.TrainingArguments` (learning_rate, num_train_epochs, ...).
    Returns the Trainer.
    """
    from transformers import Trainer, TrainingArguments

    for number, example in enumerate(train_examples):
        check_example(example, f"training example {number}")
    defaults = {"report_to": [], "dataloader_pin_memory": torch.cuda.is_available()}
    arguments = TrainingArguments(
        output_dir=str(output_dir),
        label_names=["start_positions", "end_positions"],
        remove_unused_columns=False,
        **{**defaults, **training_arguments},
    )
    trainer = Trainer(
        model=model,
        args=arguments,
        train_dataset=FeatureDataset(build_features(tokenizer, train_examples, max_seq_len, stride)),
        eval_dataset=(
            FeatureDataset(build_features(tokenizer, eval_examples, max_seq_len, stride)) if eval_examples else None
        ),
        data_collator=SpanCollator.for_model(model, tokenizer, max_seq_len),
    )
    trainer.train()
    trainer.save_model(str(output_dir))
    tokenizer.save_pretrained(str(output_dir))
    return trainer
