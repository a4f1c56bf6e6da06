"""Multiple choice on template data in six languages (examples/task_data.py: a sentence and a question for one
of its companies, places or dates; as choices, the sentence's entity asked for and (up to) three of other types;
sentences with three entities give three choices, and training keeps the four-choice ones, as a batch needs
the same count in every example).

Fine-tunes a small ERNIE-M (real vocabulary, fresh weights unless --model) with transformers' Trainer on
`[CLS] context [SEP] [SEP] question choice [SEP]` rows, one per choice, and reports held-out accuracy.

    python examples/choice.py --output-dir artifacts/choice
    torchrun --nproc_per_node 2 examples/choice.py --output-dir artifacts/choice   # DDP, gloo on CPU
    erniem predict choice --model artifacts/choice/model items.jsonl             # {"context", "choices"} lines
"""

from __future__ import annotations

import sys
from pathlib import Path

import erniem
from erniem.tasks.multiple_choice import ChoiceCollator, choose, encode_training

sys.path.insert(0, str(Path(__file__).parent))
import task_data  # noqa: E402
import task_training  # noqa: E402


def endings(row: dict) -> list[str]:
    """The second text of each choice's row: the question, then the choice (as SWAG appends endings)."""
    return [f"{row['question']} {choice}" for choice in row["choices"]]


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Train, choose the held-out answers, and return the accuracy."""
    options = task_training.parser(__doc__, max_steps=3000, learning_rate=5e-4, dropout=0.0)
    options.add_argument("--examples", type=int, default=4000, help="training questions (300 more are held out)")
    arguments = options.parse_args(argv)

    train = task_data.choices(arguments.examples, seed=0)
    tokenizer = task_training.tokenizer(arguments)
    model = task_training.model(erniem.ErnieMForMultipleChoice, arguments, len(tokenizer))
    features, skipped = encode_training(
        tokenizer, [row["context"] for row in train], [endings(row) for row in train],
        [row["label"] for row in train], max_length=128,
    )  # fmt: skip
    trainer = task_training.train(model, arguments, features, ChoiceCollator(tokenizer.pad_token_id), tokenizer)
    if not trainer.is_world_process_zero():
        return {}
    print(f"training questions: {skipped.summary(len(features))}")
    test = task_data.choices(300, seed=1)
    chosen = choose(model, tokenizer, [row["context"] for row in test], [endings(row) for row in test])
    for row, choice in list(zip(test, chosen, strict=True))[:3]:
        print(
            f"{row['context']} {row['question']}\n    {row['choices']} -> {row['choices'][choice.index]!r} "
            f"({choice.scores[choice.index]:.2f})"
        )
    accuracy = sum(c.index == row["label"] for c, row in zip(chosen, test, strict=True)) / len(test)
    chance = sum(1 / len(row["choices"]) for row in test) / len(test)
    print(f"held-out accuracy {accuracy:.3f} on {len(test)} questions (chance {chance:.3f})")
    return {"accuracy": accuracy, "chance": chance}


if __name__ == "__main__":
    main()
