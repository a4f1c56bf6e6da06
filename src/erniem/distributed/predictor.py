"""The Ray Data actor: a UIE-M pipeline or a task model, loaded once per actor, answering batches of rows.

Each row's answer goes in the `result` column as a JSON string (nested results of varying types break Arrow
schemas), its problem, if any, in `error`; every input column is kept. A row whose input is missing or not
text, or that the model cannot take, gets `error` and a null `result` (`on_error="skip"`), or stops the job
naming the row (`"stop"`).
"""

from __future__ import annotations

import json
import math
import os

from ..tasks.lines import LINE_TASKS

TASK_FIELDS = {  # task -> the row's columns that make its input (the first ones required)
    "classify": ("text", "text_pair"),
    "ner": ("text", "words"),
    "qa": ("question", "context"),
    "choice": ("context", "choices"),
}


class BadRowError(ValueError):
    """A row that cannot be answered, under `on_error="stop"`."""


class Predictor:
    """`Predictor(...)(batch)` -> the batch with `result` and `error` columns (Arrow tables)."""

    def __init__(
        self,
        task: str,
        model,
        schema=None,
        schema_lang: str = "zh",
        text_column: str = "text",
        on_error: str = "skip",
        runtime: dict | None = None,
        options: dict | None = None,
    ):
        import torch

        threads = os.environ.get("OMP_NUM_THREADS")  # Ray sets it to the actor's CPUs
        if threads and threads.isdigit():
            torch.set_num_threads(int(threads))
        self.task, self.text_column, self.on_error = task, text_column, on_error
        runtime, options = runtime or {}, options or {}
        if task == "extract":
            from ..uie import UIEPipeline

            pipeline = UIEPipeline.from_pretrained(model, schema, schema_lang=schema_lang, **runtime, **options)
            self.check, self.run = _check_text, pipeline
        else:
            import erniem

            from ..backends import load_model

            line_task = LINE_TASKS[task]
            network = load_model(getattr(erniem, line_task.head), model, **runtime)
            tokenizer = erniem.ErnieMTokenizerFast.from_pretrained(model)
            self.check = line_task.check
            self.run = lambda values: line_task.run(network, tokenizer, values, options)

    def __call__(self, batch):
        import pyarrow as pa

        rows = batch.to_pylist()
        results: list = [None] * len(rows)
        errors: list = [None] * len(rows)
        good: list[tuple[int, object]] = []
        for position, row in enumerate(rows):
            if row.get("error") is not None:  # found on reading (erniem.distributed.files)
                errors[position] = row["error"]
                continue
            value = self._value(row)
            try:
                self.check(value)
                good.append((position, value))
            except ValueError as error:
                errors[position] = str(error)
        for (position, _), (answer, problem) in zip(good, self._answers([v for _, v in good]), strict=True):
            results[position], errors[position] = answer, problem
        if self.on_error == "stop":
            for position, problem in enumerate(errors):
                if problem is not None:
                    raise BadRowError(f"{_name(rows[position], position)}: {problem}")
        kept = batch.drop_columns([name for name in ("result", "error") if name in batch.column_names])
        answers = [None if answer is None else json.dumps(answer, ensure_ascii=False) for answer in results]
        return kept.append_column("result", pa.array(answers, pa.string())).append_column(
            "error", pa.array(errors, pa.string())
        )

    def _value(self, row: dict):
        if self.task == "extract":
            return _plain(row.get(self.text_column))
        return {key: _plain(row[key]) for key in TASK_FIELDS[self.task] if _plain(row.get(key)) is not None}

    def _answers(self, values: list) -> list[tuple[object, str | None]]:
        """(answer, None) per value; when the batch fails, value by value, so one bad input fails alone."""
        try:
            return [(answer, None) for answer in self.run(values)] if values else []
        except Exception as error:  # the model cannot take one of them (or this one)
            if len(values) == 1:
                return [(None, f"{type(error).__name__}: {error}")]
        return [answer for value in values for answer in self._answers([value])]


def _check_text(value) -> None:
    if not isinstance(value, str):
        raise ValueError(f"the text is {'missing' if value is None else type(value).__name__}, not a string")


def _plain(value):
    """A cell as plain Python: NaN (a missing value in pandas) as None."""
    return None if isinstance(value, float) and math.isnan(value) else value


def _name(row: dict, position: int) -> str:
    return f"row id {row['id']!r}" if row.get("id") is not None else f"row {position} of its batch"
