"""The pretraining loop: transformers' `Trainer` over a stream of single-objective batches (`data.MixedBatches`),
with BTMLM's first step run inside the training step, without gradient (`ErnieMForPreTraining`).

Under `torchrun` every process reads its own share of the corpora; `resume_from_checkpoint` restores the model,
optimizer, scheduler and RNG states, and the data stream is replayed to where the checkpoint left it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import torch
from torch.utils.data import DataLoader
from transformers import Trainer, TrainingArguments

from ..modeling import PseudoTokens
from .collators import BTMLMCollator, CAMLMCollator, MMLMCollator, PairPositions, TLMCollator
from .corruption import MaskingOptions
from .data import CORPUS, MixedBatches
from .masks import CamlmContext

OBJECTIVES = tuple(CORPUS)


@dataclass
class PretrainingOptions:
    """What the objectives do where the paper leaves it open, and how the corpora are read.

    Args:
        weights: objective (`mmlm`, `tlm`, `camlm`, `btmlm`) -> weight; each batch's objective is drawn with
            these odds (default: the four, equally).
        max_length: tokens per example, special tokens included.
        masking: which tokens are predicted and how they are replaced (default 15%, 80/10/10).
        pair_positions: position ids across a pair: `"continuous"` (default) or `"restart"` at the second.
        camlm_context: what CAMLM's unmasked tokens attend to (`masks.camlm_mask`).
        placeholders: BTMLM's placeholder count; `None`: the sentence's length.
        target_language: BTMLM's placeholder language (with language embeddings); `None`: drawn.
        pseudo_tokens: BTMLM's step 1, `"greedy"` or `"sample"`.
        shuffle_buffer: sentences held to shuffle the streams.
    """

    weights: Mapping[str, float] = field(default_factory=lambda: dict.fromkeys(OBJECTIVES, 1.0))
    max_length: int = 128
    masking: MaskingOptions = field(default_factory=MaskingOptions)
    pair_positions: PairPositions = "continuous"
    camlm_context: CamlmContext = "own_sentence"
    placeholders: int | None = None
    target_language: str | None = None
    pseudo_tokens: PseudoTokens = "greedy"
    shuffle_buffer: int = 10_000

    def collators(self, tokenizer, languages: Sequence[str] | None) -> dict:
        """The collator of each weighted objective."""
        shared = dict(
            tokenizer=tokenizer,
            max_length=self.max_length,
            masking=self.masking,
            languages=languages,
            pair_positions=self.pair_positions,
        )
        build = {
            "mmlm": lambda: MMLMCollator(**shared),
            "tlm": lambda: TLMCollator(**shared),
            "camlm": lambda: CAMLMCollator(**shared, context=self.camlm_context),
            "btmlm": lambda: BTMLMCollator(
                **shared,
                placeholders=self.placeholders,
                target_language=self.target_language,
                pseudo_tokens=self.pseudo_tokens,
            ),
        }
        unknown = sorted(set(self.weights) - set(build))
        if unknown:
            raise ValueError(f"Unknown objectives {unknown}; choose among {list(OBJECTIVES)}.")
        return {objective: build[objective]() for objective in self.weights}


class PretrainingTrainer(Trainer):
    """`Trainer` over `MixedBatches`: each process reads its share, and the log adds each objective's mean loss
    since the last log (`mmlm_loss`, ...; this process's batches)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._objective_losses: dict[str, list[torch.Tensor]] = defaultdict(list)

    def get_train_dataloader(self) -> DataLoader:
        """The batches come collated from the dataset; none of `Trainer`'s own sharding or collation applies."""
        dataset = self.train_dataset
        if not isinstance(dataset, MixedBatches):
            raise TypeError(f"PretrainingTrainer trains on MixedBatches, not {type(dataset).__name__}.")
        dataset.shard(self.args.process_index, self.args.world_size)
        return DataLoader(
            dataset,
            batch_size=None,
            num_workers=self.args.dataloader_num_workers,
            pin_memory=self.args.dataloader_pin_memory,
        )

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        inputs = dict(inputs)
        objective = inputs.pop("objective")
        outputs = model(**inputs)
        self._objective_losses[objective].append(outputs.loss.detach())
        return (outputs.loss, outputs) if return_outputs else outputs.loss

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        if "loss" in logs:
            for objective, losses in self._objective_losses.items():
                logs[f"{objective}_loss"] = round(float(torch.stack(losses).mean()), 4)
            self._objective_losses.clear()
        super().log(logs, start_time)


def pretrain(
    model,
    tokenizer,
    args: TrainingArguments,
    monolingual: Sequence[str] = (),
    parallel: Sequence[str] = (),
    options: PretrainingOptions | None = None,
    resume_from_checkpoint: str | bool | None = None,
) -> PretrainingTrainer:
    """Continue pretraining `model` (an `ErnieMForPreTraining`) on the weighted objectives; return the trainer.

    `args.max_steps` sets the length of the run (the corpora are streams, read again when exhausted). With
    language embeddings (`model.config.languages`), every sentence needs a language, and the collators map it.
    """
    options = options or PretrainingOptions()
    if args.max_steps <= 0:
        raise ValueError("Pretraining reads endless streams: set TrainingArguments.max_steps.")
    batches = MixedBatches(
        tokenizer,
        options.collators(tokenizer, model.config.languages if model.config.num_languages else None),
        options.weights,
        monolingual=monolingual,
        parallel=parallel,
        batch_size=args.per_device_train_batch_size,
        shuffle_buffer=options.shuffle_buffer,
        seed=args.seed,
    )
    trainer = PretrainingTrainer(model=model, args=args, train_dataset=batches, processing_class=tokenizer)
    trainer.train(resume_from_checkpoint=resume_from_checkpoint)
    return trainer
