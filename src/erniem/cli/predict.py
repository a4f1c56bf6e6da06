"""`erniem predict {classify,ner,qa,choice}`: fine-tuned task models over JSON Lines, one result per input line.

Lines are read in chunks (see `streaming`); within a chunk the task functions batch rows by length.
"""

from __future__ import annotations

import argparse

from ..backends import load_model
from ..tasks.lines import LINE_TASKS
from .distributed import add_engine_options, run_on_ray
from .models import add_model_options, model_location
from .runtime import add_runtime_options, runtime_options
from .streaming import stream

ERRORS = "Bad lines are numbered on standard error; --on-error stops there or writes null."


DESCRIPTIONS = {  # task -> (help, description)
    "classify": ("sequence classification (texts or pairs)",
                 'Read lines {"text"} or {"text", "text_pair"} and write for each {"label", "score"}, or a list of '
                 "the --top-k most probable."),
    "ner": ("named-entity recognition",
            'Read lines {"text"} (words split at whitespace) or {"text", "words"} (the words, in order, as they '
            'occur in the text) and write for each a list of {"type", "text", "start", "end", "score"}, character '
            "offsets into the text."),
    "qa": ("extractive question answering",
           'Read lines {"question", "context"} and write for each {"answer", "start", "end", "score"} (character '
           "offsets into the context), or a list of the --top-k best."),
    "choice": ("multiple choice",
               'Read lines {"context", "choices": [two or more texts]} and write for each {"choice", "text", '
               '"scores"}: the chosen index, its text, and every choice\'s probability.'),
}  # fmt: skip
OPTIONS = ("batch_size", "max_length", "stride", "top_k", "max_answer_length", "allow_impossible")


def add_parser(commands) -> None:
    predict = commands.add_parser("predict", help="run a fine-tuned task model over JSON Lines")
    tasks = predict.add_subparsers(dest="task", required=True)
    for name, (summary, description) in DESCRIPTIONS.items():
        task = _task(tasks, name, summary, description)
        if name == "qa":
            task.add_argument("--max-answer-length", type=int, default=30)
            task.add_argument("--allow-impossible", action="store_true", help="let the null answer compete")


def _task(tasks, name: str, summary: str, description: str) -> argparse.ArgumentParser:
    """A `predict` subcommand with the options every task has, and `--stride`/`--top-k` where it has them."""
    line_task = LINE_TASKS[name]
    task = tasks.add_parser(name, help=summary, description=f"{description} IN is a file, or - for standard input. "
                            f"{ERRORS}")  # fmt: skip
    task.add_argument("input", metavar="IN")
    add_model_options(task, help=f"{line_task.head} directory (model and tokenizer), or a published name")
    task.add_argument("--batch-size", type=int, default=16)
    task.add_argument("--max-length", type=int, default=line_task.max_length, help="tokens a row holds")
    if line_task.stride is not None:
        task.add_argument("--stride", type=int, default=line_task.stride,
                          help="tokens shared by the windows of a long text")  # fmt: skip
    if line_task.top_k:
        task.add_argument("--top-k", type=int, default=1, help="write a list of the K best")
    add_runtime_options(task)
    task.add_argument("--on-error", choices=["stop", "skip"], default="stop")
    add_engine_options(task)
    task.set_defaults(run=_run)
    return task


def load_task_model(head: str, arguments: argparse.Namespace):
    """(model, fast tokenizer) of --model for the `head` class, with the runtime options."""
    import erniem

    location = model_location(arguments)
    model = load_model(getattr(erniem, head), location, **runtime_options(arguments))
    return model, erniem.ErnieMTokenizerFast.from_pretrained(location)


def _run(arguments: argparse.Namespace) -> int:
    if getattr(arguments, "top_k", 1) < 1:
        raise ValueError(f"--top-k must be at least 1, got {arguments.top_k}")
    task = LINE_TASKS[arguments.task]
    options = {name: getattr(arguments, name) for name in OPTIONS if hasattr(arguments, name)}
    if arguments.engine == "ray":
        from ..distributed import TASK_FIELDS

        model = str(model_location(arguments))
        return run_on_ray(arguments, f"predict {arguments.task}", arguments.task, TASK_FIELDS[arguments.task],
                          model=model, **runtime_options(arguments), **options)  # fmt: skip
    model, tokenizer = load_task_model(task.head, arguments)
    return stream(
        f"predict {arguments.task}",
        arguments.input,
        lambda value, number: task.check(value),
        lambda values: task.run(model, tokenizer, values, options),
        arguments.on_error,
    )
