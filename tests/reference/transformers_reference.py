"""Build tiny ERNIE-M checkpoints with transformers 4.39.3 and record its outputs on a fixed set of inputs.

Runs inside the reference virtualenv (see scripts/build_reference_env.sh), never in erniem's:

    .venv-ref/bin/python tests/reference/transformers_reference.py OUT_DIR

Writes OUT_DIR/models/<name>/ (saved by the reference's `save_pretrained`: pytorch_model.bin for the base
model and the token classifier, as the hub checkpoints are, model.safetensors for the others),
OUT_DIR/cases.safetensors (every input and every output tensor) and OUT_DIR/manifest.json (which model and
arguments each case uses, the tuple lengths of `return_dict=False`, the versions that produced them).
"""

import json
import sys
from pathlib import Path

import torch
import transformers
from safetensors.torch import save_file
from transformers import (
    ErnieMConfig,
    ErnieMForInformationExtraction,
    ErnieMForMultipleChoice,
    ErnieMForQuestionAnswering,
    ErnieMForSequenceClassification,
    ErnieMForTokenClassification,
    ErnieMModel,
)

VOCAB, HIDDEN, LAYERS, HEADS, FFN = 1000, 32, 3, 4, 37
HEAD_DIM = HIDDEN // HEADS
CLS, PAD, SEP = 0, 1, 2

# name -> (class, extra config, saved as pytorch_model.bin)
MODELS = {
    "base": (ErnieMModel, {}, True),
    "seq_single": (ErnieMForSequenceClassification, {"num_labels": 3}, False),
    "seq_regression": (ErnieMForSequenceClassification, {"num_labels": 1}, False),
    "seq_multi": (
        ErnieMForSequenceClassification,
        {"num_labels": 4, "problem_type": "multi_label_classification"},
        False,
    ),
    "token": (ErnieMForTokenClassification, {"num_labels": 5}, True),
    "qa": (ErnieMForQuestionAnswering, {}, False),
    "choice": (ErnieMForMultipleChoice, {}, False),
    "extraction": (ErnieMForInformationExtraction, {}, False),
}


def padded_batch(generator, lengths, width):
    """[CLS] random ids [SEP] rows padded with [PAD] to `width`, and their 0/1 mask."""
    ids = torch.full((len(lengths), width), PAD, dtype=torch.long)
    for row, length in enumerate(lengths):
        ids[row, :length] = torch.randint(3, VOCAB, (length,), generator=generator)
        ids[row, 0], ids[row, length - 1] = CLS, SEP
    return ids, (ids != PAD).long()


def build_cases(generator):
    """name -> (model name, keyword arguments). Every case runs in eval mode."""
    ids, mask = padded_batch(generator, [12, 7, 3], 12)
    long_ids, _ = padded_batch(generator, [512], 512)
    prefix = tuple(
        (
            torch.randn(3, HEADS, 4, HEAD_DIM, generator=generator),
            torch.randn(3, HEADS, 4, HEAD_DIM, generator=generator),
        )
        for _ in range(LAYERS)
    )
    prefix_mask = torch.cat([torch.ones(3, 4, dtype=torch.long), mask], dim=1)
    positions = torch.stack([torch.randperm(12, generator=generator) for _ in range(3)]) + 5
    head_mask = torch.ones(LAYERS, HEADS)
    head_mask[0, 1] = head_mask[2, 0] = head_mask[2, 3] = 0.0
    choice_ids, choice_mask = padded_batch(generator, [10, 8, 5, 10, 9, 4], 10)
    token_labels = torch.randint(0, 5, ids.shape, generator=generator).masked_fill(mask == 0, -100)
    span_labels = (torch.rand(ids.shape, generator=generator) < 0.2).float()
    cases = {
        "padded_mask": ("base", {"input_ids": ids, "attention_mask": mask}),
        "no_mask": ("base", {"input_ids": ids}),
        "position_ids": ("base", {"input_ids": ids, "attention_mask": mask, "position_ids": positions}),
        "inputs_embeds": (
            "base",
            {"inputs_embeds": torch.randn(3, 12, HIDDEN, generator=generator), "attention_mask": mask},
        ),
        "batch_of_one": ("base", {"input_ids": ids[:1, :9]}),
        "long_512": ("base", {"input_ids": long_ids}),
        "head_mask": ("base", {"input_ids": ids, "attention_mask": mask, "head_mask": head_mask}),
        "head_mask_1d": ("base", {"input_ids": ids, "head_mask": torch.tensor([1.0, 0.0, 1.0, 0.5])}),
        # With a prefix the reference needs a mask covering it (without one it crashes, a known defect).
        "prefix_mask": ("base", {"input_ids": ids, "past_key_values": prefix, "attention_mask": prefix_mask}),
        "seq_single": ("seq_single", {"input_ids": ids, "attention_mask": mask, "labels": torch.tensor([2, 0, 1])}),
        "seq_single_prefix": (
            "seq_single",
            {
                "input_ids": ids,
                "past_key_values": prefix,
                "attention_mask": prefix_mask,
                "labels": torch.tensor([1, 1, 0]),
            },
        ),
        "seq_regression": (
            "seq_regression",
            {"input_ids": ids, "attention_mask": mask, "labels": torch.tensor([0.5, -1.25, 3.0])},
        ),
        "seq_multi": (
            "seq_multi",
            {
                "input_ids": ids,
                "attention_mask": mask,
                "labels": torch.tensor([[1.0, 0, 1, 0], [0, 0, 0, 1], [1, 1, 1, 1]]),
            },
        ),
        "token": ("token", {"input_ids": ids, "attention_mask": mask, "labels": token_labels}),
        "token_no_mask": ("token", {"input_ids": ids, "labels": token_labels}),
        "qa": (
            "qa",
            {
                "input_ids": ids,
                "attention_mask": mask,
                "start_positions": torch.tensor([3, 1, 40]),  # 40 lies outside the sequence: ignored
                "end_positions": torch.tensor([5, 4, 2]),
            },
        ),
        "choice": (
            "choice",
            {
                "input_ids": choice_ids.view(2, 3, 10),
                "attention_mask": choice_mask.view(2, 3, 10),
                "labels": torch.tensor([2, 0]),
            },
        ),
        "choice_no_mask": ("choice", {"input_ids": choice_ids.view(2, 3, 10), "labels": torch.tensor([1, 1])}),
        "extraction": (
            "extraction",
            {
                "input_ids": ids,
                "attention_mask": mask,
                "start_positions": span_labels,
                "end_positions": span_labels.roll(1, 1),
            },
        ),
        "extraction_no_mask": ("extraction", {"input_ids": ids}),
    }
    return cases


def cloned(value):
    """A deep copy of tensors in nested tuples: the reference adds 2 to `position_ids` in place."""
    if isinstance(value, torch.Tensor):
        return value.clone()
    if isinstance(value, (tuple, list)):
        return type(value)(cloned(item) for item in value)
    return value


def flatten(prefix, value, into):
    """Store a tensor, or nested tuples of tensors, under `prefix/index/...` keys."""
    if isinstance(value, torch.Tensor):
        into[prefix] = value.detach().clone().contiguous()
    elif isinstance(value, (tuple, list)):
        for index, item in enumerate(value):
            flatten(f"{prefix}/{index}", item, into)
    elif value is not None:
        raise TypeError(f"cannot store {type(value)} at {prefix}")


def main(out_dir: Path) -> None:
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(1234)
    models = {}
    for name, (model_class, extra, as_bin) in MODELS.items():
        config = ErnieMConfig(
            vocab_size=VOCAB,
            hidden_size=HIDDEN,
            num_hidden_layers=LAYERS,
            num_attention_heads=HEADS,
            intermediate_size=FFN,
            type_vocab_size=16,  # present, and unused, in the hub's config.json
            **extra,
        )
        model = model_class(config).eval()
        with torch.no_grad():  # non-zero biases and LayerNorms, so that every parameter matters
            for parameter in model.parameters():
                parameter.add_(torch.randn(parameter.shape, generator=generator) * 0.05)
        model.save_pretrained(out_dir / "models" / name, safe_serialization=not as_bin)
        models[name] = model

    tensors, manifest = {}, {"versions": {"transformers": transformers.__version__, "torch": torch.__version__}}
    manifest["cases"] = {}
    for case, (model_name, kwargs) in build_cases(generator).items():
        model = models[model_name]
        for argument, value in kwargs.items():
            flatten(f"inputs/{case}/{argument}", value, tensors)
        with torch.no_grad():
            output = model(**cloned(kwargs), output_hidden_states=True, output_attentions=True, return_dict=True)
            tuple_output = None
            if model_name != "extraction":  # the reference crashes on return_dict=False there (a known defect)
                tuple_output = model(
                    **cloned(kwargs), output_hidden_states=True, output_attentions=True, return_dict=False
                )
        for field, value in output.items():
            flatten(f"outputs/{case}/{field}", value, tensors)
        manifest["cases"][case] = {
            "model": model_name,
            "arguments": sorted(kwargs),
            "outputs": sorted(output.keys()),
            "tuple_length": None if tuple_output is None else len(tuple_output),
        }
    save_file(tensors, str(out_dir / "cases.safetensors"))
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
