"""`erniem predict qa`: task models over JSON Lines, one result per input line."""

from __future__ import annotations

import argparse
from pathlib import Path

from .streaming import stream


def add_parser(commands) -> None:
    predict = commands.add_parser("predict", help="run a fine-tuned task model over JSON Lines")
    tasks = predict.add_subparsers(dest="task", required=True)
    qa = tasks.add_parser(
        "qa",
        help="extractive question answering",
        description='Read lines {"question", "context"} from IN (a file, or - for standard input) and write for '
        'each {"answer", "start", "end", "score"} (character offsets into the context), or a list of the '
        "--top-k best. Bad lines are numbered on standard error; --on-error stops there or writes null.",
    )
    qa.add_argument("input", metavar="IN")
    qa.add_argument("--model", type=Path, required=True, help="ErnieMForQuestionAnswering directory")
    qa.add_argument("--top-k", type=int, default=1)
    qa.add_argument("--max-length", type=int, default=384)
    qa.add_argument("--stride", type=int, default=128)
    qa.add_argument("--max-answer-length", type=int, default=30)
    qa.add_argument("--batch-size", type=int, default=16)
    qa.add_argument("--allow-impossible", action="store_true", help="let the null answer compete")
    qa.add_argument("--on-error", choices=["stop", "skip"], default="stop")
    qa.set_defaults(run=_qa)


def _check_qa(value, number: int) -> None:
    if not isinstance(value, dict):
        raise ValueError('expected an object {"question": "...", "context": "..."}')
    for key in ("question", "context"):
        if not isinstance(value.get(key), str) or not value[key].strip():
            raise ValueError(f"{key!r} must be a non-empty string")


def _qa(arguments: argparse.Namespace) -> int:
    from ..modeling import ErnieMForQuestionAnswering
    from ..tasks.question_answering import answer_questions
    from ..tokenization_fast import ErnieMTokenizerFast

    if arguments.top_k < 1:
        raise ValueError(f"--top-k must be at least 1, got {arguments.top_k}")
    model = ErnieMForQuestionAnswering.from_pretrained(arguments.model)
    tokenizer = ErnieMTokenizerFast.from_pretrained(arguments.model)

    def answer(values: list) -> list:
        found = answer_questions(
            model,
            tokenizer,
            [value["question"] for value in values],
            [value["context"] for value in values],
            top_k=arguments.top_k,
            max_length=arguments.max_length,
            stride=arguments.stride,
            max_answer_length=arguments.max_answer_length,
            batch_size=arguments.batch_size,
            allow_impossible=arguments.allow_impossible,
        )
        as_dicts = [[{"answer": a.text, "start": a.start, "end": a.end, "score": a.score} for a in f] for f in found]
        return [ranked if arguments.top_k > 1 else (ranked[0] if ranked else None) for ranked in as_dicts]

    return stream("predict qa", arguments.input, _check_qa, answer, arguments.on_error)
