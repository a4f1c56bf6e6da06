"""`erniem predict {classify,ner,qa,choice}`: fine-tuned task models over JSON Lines, one result per input line.

Lines are read in chunks (see `streaming`); within a chunk the task functions batch rows by length.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict

from ..backends import load_model
from ..tasks.skipped import filled
from .models import add_model_options, model_location
from .runtime import add_runtime_options, runtime_options
from .streaming import stream

ERRORS = "Bad lines are numbered on standard error; --on-error stops there or writes null."


def add_parser(commands) -> None:
    predict = commands.add_parser("predict", help="run a fine-tuned task model over JSON Lines")
    tasks = predict.add_subparsers(dest="task", required=True)
    _task(
        tasks, "classify", _classify, "sequence classification (texts or pairs)", "ErnieMForSequenceClassification",
        'Read lines {"text"} or {"text", "text_pair"} and write for each {"label", "score"}, or a list of the '
        "--top-k most probable.",
        max_length=512, top_k=True,
    )  # fmt: skip
    _task(
        tasks, "ner", _ner, "named-entity recognition", "ErnieMForTokenClassification",
        'Read lines {"text"} (words split at whitespace) or {"text", "words"} (the words, in order, as they occur '
        'in the text) and write for each a list of {"type", "text", "start", "end", "score"}, character offsets '
        "into the text.",
        max_length=512, stride=128,
    )  # fmt: skip
    qa = _task(
        tasks, "qa", _qa, "extractive question answering", "ErnieMForQuestionAnswering",
        'Read lines {"question", "context"} and write for each {"answer", "start", "end", "score"} (character '
        "offsets into the context), or a list of the --top-k best.",
        max_length=384, stride=128, top_k=True,
    )  # fmt: skip
    qa.add_argument("--max-answer-length", type=int, default=30)
    qa.add_argument("--allow-impossible", action="store_true", help="let the null answer compete")
    _task(
        tasks, "choice", _choice, "multiple choice", "ErnieMForMultipleChoice",
        'Read lines {"context", "choices": [two or more texts]} and write for each {"choice", "text", "scores"}: '
        "the chosen index, its text, and every choice's probability.",
        max_length=512,
    )  # fmt: skip


def _task(
    tasks, name: str, run, summary: str, head: str, description: str, max_length: int, stride: int | None = None,
    top_k: bool = False,
) -> argparse.ArgumentParser:  # fmt: skip
    """A `predict` subcommand with the options every task has, and `--stride`/`--top-k` where it has them."""
    task = tasks.add_parser(name, help=summary, description=f"{description} IN is a file, or - for standard input. "
                            f"{ERRORS}")  # fmt: skip
    task.add_argument("input", metavar="IN")
    add_model_options(task, help=f"{head} directory (model and tokenizer), or a published name")
    task.add_argument("--batch-size", type=int, default=16)
    task.add_argument("--max-length", type=int, default=max_length, help="tokens a row holds")
    if stride is not None:
        task.add_argument("--stride", type=int, default=stride, help="tokens shared by the windows of a long text")
    if top_k:
        task.add_argument("--top-k", type=int, default=1, help="write a list of the K best")
    add_runtime_options(task)
    task.add_argument("--on-error", choices=["stop", "skip"], default="stop")
    task.set_defaults(run=run)
    return task


def _load(head: str, arguments: argparse.Namespace):

    import erniem

    if getattr(arguments, "top_k", 1) < 1:
        raise ValueError(f"--top-k must be at least 1, got {arguments.top_k}")
    location = model_location(arguments)
    model = load_model(getattr(erniem, head), location, **runtime_options(arguments))
    return model, erniem.ErnieMTokenizerFast.from_pretrained(location)


def _strings(value, *keys: str, optional: tuple[str, ...] = ()) -> None:
    """Check that `value` is an object whose `keys` (and `optional` keys, when present) are non-empty strings."""
    if not isinstance(value, dict):
        raise ValueError("expected an object with " + ", ".join(repr(key) for key in keys))
    for key in keys + tuple(key for key in optional if key in value):
        if not filled(value.get(key)):
            raise ValueError(f"{key!r} must be a non-empty string")


def _ranked(found: list[list[dict]], top_k: int) -> list:
    """Each line's list, or (without --top-k) its best result alone (null when there is none)."""
    return [ranked if top_k > 1 else (ranked[0] if ranked else None) for ranked in found]


def _classify(arguments: argparse.Namespace) -> int:
    from ..tasks.classification import classify

    model, tokenizer = _load("ErnieMForSequenceClassification", arguments)

    def check(value, number: int) -> None:
        _strings(value, "text", optional=("text_pair",))

    def run(values: list) -> list:
        pairs = [value.get("text_pair") for value in values]
        if any(pair is None for pair in pairs) and any(pair is not None for pair in pairs):
            return [run([value])[0] for value in values]  # a chunk mixing single texts and pairs
        found = classify(
            model, tokenizer, [value["text"] for value in values], None if pairs[0] is None else pairs,
            top_k=arguments.top_k, batch_size=arguments.batch_size, max_length=arguments.max_length,
        )  # fmt: skip
        return _ranked([[asdict(label) for label in labels] for labels in found], arguments.top_k)

    return stream("predict classify", arguments.input, check, run, arguments.on_error)


def _ner(arguments: argparse.Namespace) -> int:
    from ..tasks.entity_recognition import recognize, word_spans

    model, tokenizer = _load("ErnieMForTokenClassification", arguments)

    def check(value, number: int) -> None:
        if not isinstance(value, dict) or not isinstance(value.get("text"), str):
            raise ValueError('expected an object {"text": "..."} or {"text": "...", "words": [...]}')
        if "words" in value:
            if not isinstance(value["words"], list):
                raise ValueError("'words' must be a list of strings")
            word_spans(value["text"], value["words"])

    def run(values: list) -> list:
        words = [value.get("words") for value in values]  # None: split at whitespace
        found = recognize(
            model, tokenizer, [value["text"] for value in values], words, max_length=arguments.max_length,
            stride=arguments.stride, batch_size=arguments.batch_size,
        )  # fmt: skip
        return [[asdict(entity) for entity in entities] for entities in found]

    return stream("predict ner", arguments.input, check, run, arguments.on_error)


def _qa(arguments: argparse.Namespace) -> int:
    from ..tasks.question_answering import answer_questions

    model, tokenizer = _load("ErnieMForQuestionAnswering", arguments)

    def check(value, number: int) -> None:
        _strings(value, "question", "context")

    def run(values: list) -> list:
        found = answer_questions(
            model, tokenizer, [value["question"] for value in values], [value["context"] for value in values],
            top_k=arguments.top_k, max_length=arguments.max_length, stride=arguments.stride,
            max_answer_length=arguments.max_answer_length, batch_size=arguments.batch_size,
            allow_impossible=arguments.allow_impossible,
        )  # fmt: skip
        as_dicts = [[{"answer": a.text, "start": a.start, "end": a.end, "score": a.score} for a in f] for f in found]
        return _ranked(as_dicts, arguments.top_k)

    return stream("predict qa", arguments.input, check, run, arguments.on_error)


def _choice(arguments: argparse.Namespace) -> int:
    from ..tasks.multiple_choice import choose

    model, tokenizer = _load("ErnieMForMultipleChoice", arguments)

    def check(value, number: int) -> None:
        _strings(value, "context")
        options = value.get("choices")
        if not isinstance(options, list) or len(options) < 2:
            raise ValueError("'choices' must be a list of two or more texts")
        for index, option in enumerate(options):
            if not filled(option):
                raise ValueError(f"choice {index} must be a non-empty string")

    def run(values: list) -> list:
        found = choose(
            model, tokenizer, [value["context"] for value in values], [value["choices"] for value in values],
            batch_size=arguments.batch_size, max_length=arguments.max_length,
        )  # fmt: skip
        return [{"choice": c.index, "text": c.text, "scores": c.scores} for c in found]

    return stream("predict choice", arguments.input, check, run, arguments.on_error)
