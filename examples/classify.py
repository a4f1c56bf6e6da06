"""Topic classification on the chatterbot corpus (dialogue lines in 28 languages, BSD licence, from PyPI).

Fine-tunes a small ERNIE-M (real vocabulary, fresh weights: no pretrained checkpoint is reachable offline)
with transformers' Trainer to tell a line's topic (food, history, sports, ...), and reports held-out accuracy
per language. Runs on one process or several:

    python examples/classify.py --languages english --output-dir artifacts/classify
    torchrun --nproc_per_node 2 examples/classify.py --output-dir artifacts/classify  # DDP, gloo on CPU
    python examples/classify.py ... --resume      # continue from the last checkpoint in --output-dir

`--eval-languages` scores other languages' lines too (cross-lingual transfer; meaningful with pretrained weights).
"""

from __future__ import annotations

import argparse
import hashlib
import os
from importlib import resources

import torch
import yaml

import erniem
from erniem.vocabulary import real_vocabulary


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


class Lines(torch.utils.data.Dataset):
    def __init__(self, tokenizer, rows: list[tuple[str, str]], label2id: dict[str, int]):
        self.encoded = tokenizer([line for line, _ in rows], truncation=True, max_length=64)["input_ids"]
        self.labels = [label2id[topic] for _, topic in rows]

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> dict:
        return {"input_ids": self.encoded[index], "labels": self.labels[index]}


def main() -> None:
    from transformers import DataCollatorWithPadding, Trainer, TrainingArguments
    from transformers.trainer_utils import get_last_checkpoint

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--languages", nargs="+", default=["english"])
    parser.add_argument("--eval-languages", nargs="*", default=[])
    parser.add_argument("--output-dir", default="artifacts/classify")
    parser.add_argument("--max-steps", type=int, default=600)
    parser.add_argument("--save-steps", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--learning-rate", type=float, default=5e-4)
    parser.add_argument("--logging-steps", type=int, default=50)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    arguments = parser.parse_args()

    rows = [(line, topic, language) for language in arguments.languages for line, topic in topic_lines(language)]
    topics = sorted({topic for _, topic, _ in rows})
    label2id = {topic: index for index, topic in enumerate(topics)}
    vocabulary = real_vocabulary()
    tokenizer = erniem.ErnieMTokenizer(vocabulary / "sentencepiece.bpe.model", vocabulary / "vocab.txt")
    torch.manual_seed(arguments.seed)
    config = erniem.ErnieMConfig(
        vocab_size=len(tokenizer), hidden_size=128, num_hidden_layers=2, num_attention_heads=4,
        intermediate_size=256, num_labels=len(topics), id2label=dict(enumerate(topics)), label2id=label2id,
    )  # fmt: skip
    model = erniem.ErnieMForSequenceClassification(config)
    model.ernie_m.embeddings.word_embeddings.weight.requires_grad_(False)  # fresh weights: keep them fixed
    train = Lines(tokenizer, [(line, topic) for line, topic, _ in rows if not held_out(line)], label2id)
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    trainer = Trainer(
        model=model,
        args=TrainingArguments(
            output_dir=arguments.output_dir,
            max_steps=arguments.max_steps,
            save_steps=arguments.save_steps,
            per_device_train_batch_size=arguments.batch_size,
            learning_rate=arguments.learning_rate,
            logging_steps=arguments.logging_steps,
            seed=arguments.seed,
            report_to=[],
            use_cpu=not torch.cuda.is_available(),
            ddp_backend="gloo" if distributed and not torch.cuda.is_available() else None,
            dataloader_pin_memory=torch.cuda.is_available(),
            disable_tqdm=True,
        ),
        train_dataset=train,
        data_collator=DataCollatorWithPadding(tokenizer),
    )
    checkpoint = get_last_checkpoint(arguments.output_dir) if arguments.resume else None
    if arguments.resume and checkpoint is None:
        raise SystemExit(f"--resume: no checkpoint in {arguments.output_dir}")
    if trainer.is_world_process_zero():
        print(f"processes {trainer.args.world_size}" + (f", resuming from {checkpoint}" if checkpoint else ""))
    trainer.train(resume_from_checkpoint=checkpoint)
    if not trainer.is_world_process_zero():
        return
    model.eval()
    for language in [*arguments.languages, *arguments.eval_languages]:
        test = [(line, topic) for line, topic in topic_lines(language) if held_out(line) and topic in label2id]
        batch = tokenizer([line for line, _ in test], padding=True, truncation=True, max_length=64, return_tensors="pt")
        with torch.no_grad():
            predicted = model(**batch).logits.argmax(-1).tolist()
        right = sum(p == label2id[topic] for p, (_, topic) in zip(predicted, test, strict=True))
        print(f"{language}: held-out accuracy {right / len(test):.3f} on {len(test)} lines ({len(topics)} topics)")
    print(f"global step {trainer.state.global_step}")


if __name__ == "__main__":
    main()
