"""Topic classification on the chatterbot corpus (dialogue lines in 28 languages, BSD licence, from PyPI).

Fine-tunes a small ERNIE-M (real vocabulary, fresh weights unless --model: no pretrained checkpoint is
reachable offline) with transformers' Trainer to tell a line's topic (food, history, sports, ...), and reports
held-out accuracy per language. Runs on one process or several:

    python examples/classify.py --languages english --output-dir artifacts/classify
    torchrun --nproc_per_node 2 examples/classify.py --output-dir artifacts/classify  # DDP, gloo on CPU
    python examples/classify.py ... --resume      # continue from the last checkpoint in --output-dir

Cross-lingual transfer: `--eval-languages spanish german ...` scores other languages' held-out lines with the
model trained on `--languages` (meaningful with pretrained multilingual weights, `--model DIR`).
"""

from __future__ import annotations

import hashlib
import sys
from importlib import resources
from pathlib import Path

import yaml
from transformers import DataCollatorWithPadding

import erniem
from erniem.tasks.classification import classify, encode_texts

sys.path.insert(0, str(Path(__file__).parent))
import task_training  # noqa: E402


def topic_lines(language: str) -> list[tuple[str, str]]:
    """(line, topic) for every distinct dialogue line of a language in the chatterbot corpus."""
    folder = resources.files("chatterbot_corpus") / "data" / language
    if not folder.is_dir():
        raise ValueError(f"the chatterbot corpus has no language {language!r}")
    lines = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yml"):
            continue
        document = yaml.safe_load(entry.read_text(encoding="utf-8"))
        topic = document["categories"][0]
        for conversation in document.get("conversations", []):
            for line in conversation:
                if isinstance(line, str) and line.strip():
                    lines.setdefault(line.strip(), topic)
    return sorted(lines.items())


def held_out(line: str) -> bool:
    """One line in five, chosen by a hash of its text (the same on every process and run)."""
    return hashlib.sha256(line.encode()).digest()[0] % 5 == 0


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Train, evaluate and return the held-out accuracy of each language."""
    options = task_training.parser(__doc__, max_steps=600, learning_rate=5e-4)
    options.add_argument("--languages", nargs="+", default=["english"])
    options.add_argument("--eval-languages", nargs="*", default=[])
    arguments = options.parse_args(argv)

    rows = [row for language in arguments.languages for row in topic_lines(language)]
    topics = sorted({topic for _, topic in rows})
    tokenizer = task_training.tokenizer(arguments)
    model = task_training.model(erniem.ErnieMForSequenceClassification, arguments, len(tokenizer), topics)
    train_rows = [(line, topic) for line, topic in rows if not held_out(line)]
    features, skipped = encode_texts(
        tokenizer, [line for line, _ in train_rows], [topic for _, topic in train_rows], model.config.label2id,
        max_length=64,
    )  # fmt: skip
    trainer = task_training.train(model, arguments, features, DataCollatorWithPadding(tokenizer), tokenizer)
    if not trainer.is_world_process_zero():
        return {}
    print(f"training lines: {skipped.summary(len(features))}")
    accuracy = {}
    for language in [*arguments.languages, *arguments.eval_languages]:
        test = [(line, topic) for line, topic in topic_lines(language) if held_out(line)]
        unknown = sum(topic not in model.config.label2id for _, topic in test)
        test = [(line, topic) for line, topic in test if topic in model.config.label2id]
        predicted = classify(model, tokenizer, [line for line, _ in test], max_length=64)
        right = sum(best[0].label == topic for best, (_, topic) in zip(predicted, test, strict=True))
        accuracy[language] = right / len(test)
        note = f"; {unknown} lines of topics not trained on left out" if unknown else ""
        print(f"{language}: held-out accuracy {accuracy[language]:.3f} on {len(test)} lines{note}")
    print(f"global step {trainer.state.global_step}")
    return accuracy


if __name__ == "__main__":
    main()
