"""Label names of a task head: checking that a model's config names the labels a dataset uses."""

from __future__ import annotations

import re
from collections.abc import Iterable

_DEFAULT_NAME = re.compile(r"LABEL_\d+")


def config_label2id(config, labels: Iterable[str]) -> dict[str, int]:
    """The config's `label2id`, after checking that it names every one of `labels`.

    Use it when fine-tuning or evaluating a model whose head already exists: the data's labels must be the
    head's. (A fresh head gets its names from the data: `ErnieMConfig(id2label=..., label2id=...)`.)

    Raises:
        ValueError: the config's labels are transformers' placeholders (`LABEL_0`, ...), or some labels are
            missing from it (named, with the labels it has).
    """
    label2id = {name: int(index) for index, name in config.id2label.items()}
    if all(_DEFAULT_NAME.fullmatch(name) for name in label2id):
        raise ValueError(
            "the model config names no labels (id2label holds transformers' LABEL_0, LABEL_1, ... placeholders); "
            "save the model with id2label and label2id set to the task's labels"
        )
    missing = sorted(set(labels) - set(label2id))
    if missing:
        raise ValueError(f"labels missing from the model config: {missing}; it has {sorted(label2id)}")
    return label2id
