"""PaddleNLP ERNIE-M / UIE-M parameters and config to erniem's: rename rules as data, then assertions."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import torch

from .. import modeling
from ..configuration import ErnieMConfig

# PaddleNLP class name (config.json "architectures" / legacy "init_class") -> erniem class.
ARCHITECTURES = {
    "ErnieMModel": modeling.ErnieMModel,
    "UIEM": modeling.ErnieMForInformationExtraction,
    "ErnieMForSequenceClassification": modeling.ErnieMForSequenceClassification,
    "ErnieMForTokenClassification": modeling.ErnieMForTokenClassification,
    "ErnieMForQuestionAnswering": modeling.ErnieMForQuestionAnswering,
    "ErnieMForMultipleChoice": modeling.ErnieMForMultipleChoice,
}

# Ordered (pattern, replacement) rules; every matching rule applies, in this order.
RENAMES = [
    (r"^encoder\.(embeddings|encoder|pooler)\.", r"ernie_m.\1."),  # PaddleNLP <= 2.4 and UIE-M v1.0 prefix
    (r"\.self_attn\.([qkv])_proj\.", r".self_attn.self_attn.\1_proj."),  # transformers nests q/k/v one deeper
]
# Per architecture: PaddleNLP's extractive-QA head is `classifier`, transformers' `qa_outputs`.
HEAD_RENAMES = {modeling.ErnieMForQuestionAnswering: [(r"^classifier\.", "qa_outputs.")]}
# Paddle Linear weights are [in, out]; torch's are [out, in].
TRANSPOSED = re.compile(
    r"(\.(q_proj|k_proj|v_proj|out_proj|linear1|linear2|dense)\.weight"
    r"|^(classifier|qa_outputs|linear_start|linear_end)\.weight)$"
)
PREFIX = modeling.ErnieMPreTrainedModel.base_model_prefix + "."
CONFIG_FIELDS = (
    "vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "hidden_act", "hidden_dropout_prob",
    "attention_probs_dropout_prob", "max_position_embeddings", "initializer_range", "pad_token_id",
    "type_vocab_size", "id2label", "label2id", "num_labels",
)  # fmt: skip


def read_paddle_config(directory: Path) -> dict:
    """PaddleNLP's config: config.json (PaddleNLP >= 2.5) or the legacy model_config.json (`init_args`)."""
    if (directory / "config.json").is_file():
        return json.loads((directory / "config.json").read_text(encoding="utf-8"))
    if (directory / "model_config.json").is_file():
        legacy = json.loads((directory / "model_config.json").read_text(encoding="utf-8"))
        arguments = dict(legacy)
        for value in legacy.get("init_args", []):  # the base model's arguments, nested for heads
            if isinstance(value, dict):
                arguments.update(value.get("init_args", [{}])[0] if "init_args" in value else value)
        arguments.setdefault("architectures", [legacy.get("init_class", "ErnieMModel")])
        return arguments
    raise FileNotFoundError(f"{directory} has no config.json or model_config.json")


def architecture_of(paddle_config: dict) -> type[modeling.ErnieMPreTrainedModel]:
    names = paddle_config.get("architectures") or ["ErnieMModel"]
    if paddle_config.get("model_type", "ernie_m") != "ernie_m" or names[0] not in ARCHITECTURES:
        raise ValueError(
            f"not an ERNIE-M checkpoint: model_type {paddle_config.get('model_type')!r}, architectures {names}; "
            f"known: {sorted(ARCHITECTURES)}"
        )
    return ARCHITECTURES[names[0]]


def erniem_config(paddle_config: dict, parameters: dict[str, np.ndarray]) -> ErnieMConfig:
    """The ErnieMConfig of a PaddleNLP checkpoint, with PaddleNLP's mask semantics.

    The feed-forward width comes from the weights: PaddleNLP builds it 4 x hidden whatever its config says.
    """
    widths = {value.shape[1] for name, value in parameters.items() if name.endswith("linear1.weight")}
    if len(widths) != 1:
        raise ValueError(f"cannot read the feed-forward width: linear1 weights have widths {sorted(widths)}")
    fields = {name: paddle_config[name] for name in CONFIG_FIELDS if name in paddle_config}
    if "num_classes" in paddle_config and "num_labels" not in fields:
        fields["num_labels"] = paddle_config["num_classes"]
    architecture = architecture_of(paddle_config)
    return ErnieMConfig(
        **fields,
        intermediate_size=widths.pop(),
        layer_norm_eps=1e-5,  # PaddlePaddle's LayerNorm default; PaddleNLP's config does not record it
        mask_convention="paddlenlp",
        architectures=[architecture.__name__],
    )


def rename(name: str, architecture: type, target_has_prefix: bool) -> str:
    """A PaddleNLP parameter name as erniem's `architecture` names it."""
    for pattern, replacement in RENAMES + HEAD_RENAMES.get(architecture, []):
        name = re.sub(pattern, replacement, name)
    if target_has_prefix and not name.startswith(PREFIX) and not _is_head(name):
        name = PREFIX + name  # a base model saved without its prefix, loaded into a head
    if not target_has_prefix and name.startswith(PREFIX):
        name = name[len(PREFIX) :]
    return name


def _is_head(name: str) -> bool:
    return name.split(".")[0] in {"classifier", "qa_outputs", "linear_start", "linear_end"}


def convert_parameters(
    parameters: dict[str, np.ndarray], config: ErnieMConfig, progress=None
) -> dict[str, torch.Tensor]:
    """Rename and transpose PaddleNLP parameters into erniem's state dict, checking it is complete.

    Raises `ValueError` naming the key when a parameter is unused, missing, duplicated or of the wrong shape.
    `parameters` is emptied as it goes, so that each array is freed once converted.
    """
    architecture = getattr(modeling, config.architectures[0])
    with torch.device("meta"):
        expected = {name: tuple(value.shape) for name, value in architecture(config).state_dict().items()}
    target_has_prefix = any(name.startswith(PREFIX) for name in expected)
    converted: dict[str, torch.Tensor] = {}
    for source in sorted(parameters):
        target = rename(source, architecture, target_has_prefix)
        if target not in expected:
            raise ValueError(f"parameter {source!r} (as {target!r}) has no place in {architecture.__name__}")
        if target in converted:
            raise ValueError(f"parameters {source!r} and another both map to {target!r}")
        tensor = torch.from_numpy(np.ascontiguousarray(parameters.pop(source))).to(torch.float32)
        if TRANSPOSED.search(target):
            tensor = tensor.t().contiguous()
        if tuple(tensor.shape) != expected[target]:
            raise ValueError(f"{source!r}: shape {tuple(tensor.shape)} does not fit {target!r} {expected[target]}")
        converted[target] = tensor
        if progress is not None:
            progress.update(1)
    missing = sorted(set(expected) - set(converted))
    if missing:
        raise ValueError(f"the checkpoint lacks {len(missing)} parameters of {architecture.__name__}: {missing[:5]}")
    return converted
