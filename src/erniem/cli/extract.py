"""`erniem extract`: a UIE schema over JSON Lines texts, one Taskflow-format result per input line."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .distributed import add_engine_options, run_on_ray
from .models import add_model_options, model_location
from .runtime import add_runtime_options, runtime_options
from .streaming import stream


def add_parser(commands) -> None:
    extract = commands.add_parser(
        "extract",
        help="extract what a UIE schema asks for from JSON Lines texts",
        description='Read lines {"text": ...} from IN (a file, or - for standard input) and write one result '
        "object per line, in order, to standard output, as PaddleNLP Taskflow's information_extraction "
        "returns it. A line that cannot be read is reported on standard error with its number; --on-error "
        "decides whether the run stops there (the default; results already written stay) or goes on, "
        "writing null in that line's place.",
    )
    extract.add_argument("input", metavar="IN", help="JSON Lines file, or - for standard input")
    add_model_options(extract, help="UIE-M model: a directory, or a published name (uie-m-base, uie-m-large)")
    extract.add_argument("--schema", required=True, type=Path, help="JSON file holding the schema")
    extract.add_argument("--schema-lang", choices=["zh", "en"], default="zh")
    extract.add_argument("--compat", choices=["fast", "taskflow"], default="fast")
    extract.add_argument("--position-prob", type=float, default=0.5)
    extract.add_argument("--max-seq-len", type=int, default=512)
    extract.add_argument("--batch-size", type=int, default=16)
    extract.add_argument("--split-sentence", action="store_true")
    extract.add_argument("--on-error", choices=["stop", "skip"], default="stop")
    add_runtime_options(extract)
    add_engine_options(extract)
    extract.set_defaults(run=run)


def _check_line(value, number: int) -> None:
    if not isinstance(value, dict) or not isinstance(value.get("text"), str):
        raise ValueError('expected an object {"text": "..."}')


def run(arguments: argparse.Namespace) -> int:
    from ..uie import UIEPipeline

    try:
        schema = json.loads(arguments.schema.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{arguments.schema} is not JSON: {error}") from None
    options = dict(
        schema_lang=arguments.schema_lang,
        compat=arguments.compat,
        position_prob=arguments.position_prob,
        max_seq_len=arguments.max_seq_len,
        batch_size=arguments.batch_size,
        split_sentence=arguments.split_sentence,
    )
    if arguments.engine == "ray":
        model = str(model_location(arguments))
        return run_on_ray(arguments, "extract", "extract", ("text",), model=model, schema=schema,
                          **runtime_options(arguments), **options)  # fmt: skip
    pipeline = UIEPipeline.from_pretrained(model_location(arguments), schema, **runtime_options(arguments), **options)
    return stream(
        "extract",
        arguments.input,
        _check_line,
        lambda values: pipeline([value["text"] for value in values]),
        arguments.on_error,
        warn=lambda value: None if value["text"].strip() else "empty text, nothing to extract",
    )
