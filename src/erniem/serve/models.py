"""What the service runs: a UIE-M pipeline for any schema, or one task model; loaded once, run batch by batch.

A batch group is what its items share: for extraction the schema (canonical JSON) and its language, for a task
the task's name. Costs are token counts, for the batcher's budget.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from ..tasks.lines import LINE_TASKS

TASKS = ("extract", *LINE_TASKS)
PIPELINES_KEPT = 64  # schemas whose pipeline objects are kept (they are small; the model is shared)


@dataclass
class ServedModel:
    """The model behind the service. `load()` runs once, in a worker thread, before `ready` turns true.

    Args:
        model: a directory, published name or Hub repository (see `erniem.catalog.resolve_model`).
        task: "extract" or a task of `erniem predict`.
        schema, schema_lang: the extraction schema for requests that bring none.
        runtime: `erniem.backends.load_model`'s keyword arguments (device, dtype, backend, quantize, compile).
        options: the pipeline's (extraction) or task's settings (batch_size, max_length, ...).
    """

    model: str | Path
    task: str = "extract"
    schema: object = None
    schema_lang: str = "zh"
    runtime: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)
    cache_dir: str | Path | None = None
    ready: bool = False

    def __post_init__(self):
        if self.task not in TASKS:
            raise ValueError(f"unknown task {self.task!r}; tasks: {', '.join(TASKS)}")
        if self.schema is not None:
            from ..uie.schema import parse_schema

            parse_schema(self.schema)
        self._pipelines: OrderedDict = OrderedDict()

    def load(self) -> None:
        import erniem

        from ..catalog import resolve_model

        location = resolve_model(self.model, self.cache_dir)
        if self.task == "extract":
            from ..uie import UIEPipeline

            loaded = UIEPipeline.from_pretrained(location, self.schema or ["-"], **self.runtime)
            self.network, self.tokenizer = loaded.model, loaded.tokenizer
            self.counter = erniem.ErnieMTokenizerFast.from_pretrained(location)
        else:
            from ..backends import load_model

            self.network = load_model(getattr(erniem, LINE_TASKS[self.task].head), location, **self.runtime)
            self.tokenizer = self.counter = erniem.ErnieMTokenizerFast.from_pretrained(location)
        self.ready = True

    def group(self, schema=None, schema_lang: str | None = None) -> tuple:
        """The batch group of a request: (task,) or ("extract", schema JSON, language)."""
        if self.task != "extract":
            return (self.task,)
        chosen = self.schema if schema is None else schema
        language = self.schema_lang if schema_lang is None else schema_lang
        return ("extract", json.dumps(chosen, ensure_ascii=False, sort_keys=True), language)

    def costs(self, values: list) -> list[int]:
        """Tokens of each item (a text, or a task input's texts), counted by the fast tokenizer in one call."""
        texts, owners = [], []
        for index, value in enumerate(values):
            found = [value] if isinstance(value, str) else [v for v in value.values() if isinstance(v, str)]
            if isinstance(value, dict) and isinstance(value.get("choices"), list):
                found += [choice for choice in value["choices"] if isinstance(choice, str)]
            texts += found
            owners += [index] * len(found)
        counts = [2] * len(values)  # [CLS] and [SEP]
        for owner, ids in zip(owners, self.counter(texts, add_special_tokens=False)["input_ids"], strict=True):
            counts[owner] += len(ids)
        return counts

    def run(self, group: tuple, values: list) -> list:
        if group[0] != "extract":
            return LINE_TASKS[self.task].run(self.network, self.tokenizer, values, self.options)
        return self._pipeline(group)(values)

    def _pipeline(self, group: tuple):
        from ..uie import UIEPipeline

        if group not in self._pipelines:
            schema = json.loads(group[1])
            self._pipelines[group] = UIEPipeline(self.network, self.tokenizer, schema, group[2], **self.options)
            if len(self._pipelines) > PIPELINES_KEPT:
                self._pipelines.popitem(last=False)
        self._pipelines.move_to_end(group)
        return self._pipelines[group]
