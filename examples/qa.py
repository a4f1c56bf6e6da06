"""Extractive question answering on template data in six languages (examples/task_data.py: a sentence about
made-up people, companies, places and dates, and a question for one of them, in the sentence's language).

Fine-tunes a small ERNIE-M (real vocabulary, fresh weights unless --model) with transformers' Trainer on
SQuAD-style windows, answers the held-out questions with `erniem.tasks.question_answering.answer_questions`
(answers as text with character offsets into the context) and scores them with SQuAD's exact match and F1.

    python examples/qa.py --output-dir artifacts/qa
    torchrun --nproc_per_node 2 examples/qa.py --output-dir artifacts/qa   # DDP, gloo on CPU
    erniem predict qa --model artifacts/qa/model questions.jsonl           # {"question", "context"} lines
"""

from __future__ import annotations

import sys
from pathlib import Path

from transformers import DataCollatorWithPadding

import erniem
from erniem.tasks.qa_features import AnswerSpan, encode_training
from erniem.tasks.qa_metrics import squad_scores
from erniem.tasks.question_answering import answer_questions

sys.path.insert(0, str(Path(__file__).parent))
import task_data  # noqa: E402
import task_training  # noqa: E402


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Train, answer the held-out questions, and return SQuAD's exact match and F1 (percent)."""
    options = task_training.parser(__doc__, max_steps=1500, learning_rate=1e-3)
    options.add_argument("--examples", type=int, default=2400, help="training questions (300 more are held out)")
    arguments = options.parse_args(argv)

    train = task_data.questions(arguments.examples, seed=0)
    tokenizer = task_training.tokenizer(arguments)
    model = task_training.model(erniem.ErnieMForQuestionAnswering, arguments, len(tokenizer))
    features, skipped = encode_training(
        tokenizer,
        [row["question"] for row in train],
        [row["context"] for row in train],
        [AnswerSpan(row["answer"], row["start"]) for row in train],
        max_length=128,
        stride=32,
    )
    trainer = task_training.train(model, arguments, features, DataCollatorWithPadding(tokenizer), tokenizer)
    if not trainer.is_world_process_zero():
        return {}
    print(f"training questions: {skipped.summary(len(train) - skipped.total)} ({len(features)} windows)")
    test = task_data.questions(300, seed=1)
    answers = answer_questions(
        model, tokenizer, [row["question"] for row in test], [row["context"] for row in test], max_length=128, stride=32
    )
    for row, (best,) in list(zip(test, answers, strict=True))[:4]:
        print(f"{row['context']}\n    {row['question']} -> {best.text!r} [{best.start}:{best.end}] {best.score:.2f}")
    scores = squad_scores([found[0].text if found else "" for found in answers], [[row["answer"]] for row in test])
    print(f"held-out: exact match {scores['exact_match']:.1f}, F1 {scores['f1']:.1f} on {len(test)} questions")
    return scores


if __name__ == "__main__":
    main()
