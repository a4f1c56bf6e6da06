"""`erniem pretrain`: continue pretraining a model on ERNIE-M's objectives (MMLM, TLM, CAMLM, BTMLM)."""

from __future__ import annotations

import argparse
from pathlib import Path

from .models import add_model_options, model_location

OBJECTIVES = ("mmlm", "tlm", "camlm", "btmlm")


def add_parser(commands) -> None:
    pretrain = commands.add_parser(
        "pretrain",
        help="continue pretraining on ERNIE-M's objectives (MMLM, TLM, CAMLM, BTMLM)",
        description="Train DIR|NAME on monolingual text (MMLM, BTMLM) and translation pairs (TLM, CAMLM), each batch "
        "one objective drawn by weight. The corpora are streamed; checkpoints go to OUT/checkpoint-N, the final "
        "model (with its LM head) to OUT/model. Runs under torchrun for several processes.",
    )
    add_model_options(pretrain, help="model to start from: a directory, a published name (ernie-m-base), or a Hub id")
    pretrain.add_argument(
        "--monolingual",
        nargs="+",
        default=[],
        metavar="FILE",
        help="text (one sentence a line) or TSV with a text column; LANG=FILE gives a language",
    )
    pretrain.add_argument(
        "--parallel",
        nargs="+",
        default=[],
        metavar="FILE",
        help="TSV with source, target[, source_language, target_language] columns",
    )
    pretrain.add_argument("--objectives", default="mmlm,tlm,camlm,btmlm", help="comma-separated (default: all four)")
    pretrain.add_argument("--weights", help="comma-separated weights, one per objective (default: equal)")
    pretrain.add_argument("--output", type=Path, required=True, metavar="OUT")
    pretrain.add_argument("--max-steps", type=int, default=1000)
    pretrain.add_argument("--batch-size", type=int, default=32, help="examples per batch and process")
    pretrain.add_argument("--gradient-accumulation", type=int, default=1)
    pretrain.add_argument("--learning-rate", type=float, default=5e-5)
    pretrain.add_argument("--warmup-steps", type=int, default=0)
    pretrain.add_argument("--max-length", type=int, default=128, help="tokens per example, special tokens included")
    pretrain.add_argument("--mask-rate", type=float, default=0.15)
    pretrain.add_argument("--pair-positions", choices=["continuous", "restart"], default="continuous")
    pretrain.add_argument(
        "--camlm-context",
        choices=["own_sentence", "full"],
        default="own_sentence",
        help="what CAMLM's unmasked tokens attend to (full: as drawn, leaks from layer 2)",
    )
    pretrain.add_argument("--placeholders", type=int, help="BTMLM placeholders (default: the sentence's length)")
    pretrain.add_argument("--pseudo-tokens", choices=["greedy", "sample"], default="greedy")
    pretrain.add_argument("--languages", help="comma-separated codes: add a language embedding table (zeros)")
    pretrain.add_argument("--target-language", help="BTMLM placeholders' language (with --languages)")
    pretrain.add_argument("--save-steps", type=int, default=500)
    pretrain.add_argument("--logging-steps", type=int, default=50)
    pretrain.add_argument("--seed", type=int, default=42)
    pretrain.add_argument("--bf16", action="store_true", help="bf16 autocast")
    pretrain.add_argument("--resume", nargs="?", const="last", metavar="CHECKPOINT",
                          help="resume from CHECKPOINT, or from the last one in OUT")  # fmt: skip
    pretrain.set_defaults(run=_pretrain)


def weights(objectives: str, weights: str | None) -> dict[str, float]:
    """--objectives and --weights as {objective: weight}; `ValueError` naming what is wrong."""
    names = [name.strip() for name in objectives.split(",") if name.strip()]
    unknown = [name for name in names if name not in OBJECTIVES]
    if unknown or not names or len(set(names)) != len(names):
        raise ValueError(f"--objectives takes distinct names among {', '.join(OBJECTIVES)}; got {objectives!r}.")
    if weights is None:
        return dict.fromkeys(names, 1.0)
    values = weights.split(",")
    if len(values) != len(names):
        raise ValueError(f"--weights has {len(values)} values for {len(names)} objectives.")
    try:
        return {name: float(value) for name, value in zip(names, values, strict=True)}
    except ValueError:
        raise ValueError(f"--weights must be numbers, got {weights!r}.") from None


def _pretrain(arguments: argparse.Namespace) -> int:
    options_weights = weights(arguments.objectives, arguments.weights)
    import torch
    from transformers import AutoTokenizer, TrainingArguments
    from transformers.trainer_utils import get_last_checkpoint

    from ..files import staged_directory
    from ..modeling import ErnieMForPreTraining
    from ..pretraining import PretrainingOptions, pretrain
    from ..pretraining.corruption import MaskingOptions

    resume = arguments.resume
    if resume == "last":
        resume = get_last_checkpoint(str(arguments.output)) if arguments.output.is_dir() else None
        if resume is None:
            raise ValueError(f"--resume: no checkpoint in {arguments.output}.")
    location = model_location(arguments)
    extra = {}
    if arguments.languages:
        codes = [code.strip() for code in arguments.languages.split(",") if code.strip()]
        extra = {"languages": codes, "num_languages": len(codes)}  # config overrides, set as given
    model = ErnieMForPreTraining.from_pretrained(location, **extra)
    tokenizer = AutoTokenizer.from_pretrained(location)
    args = TrainingArguments(
        output_dir=str(arguments.output),
        max_steps=arguments.max_steps,
        per_device_train_batch_size=arguments.batch_size,
        gradient_accumulation_steps=arguments.gradient_accumulation,
        learning_rate=arguments.learning_rate,
        warmup_steps=arguments.warmup_steps,
        save_steps=arguments.save_steps,
        logging_steps=arguments.logging_steps,
        seed=arguments.seed,
        bf16=arguments.bf16,
        optim="adamw_torch_fused",
        # transformers runs torchrun's processes as one DDP group on a machine without an accelerator only so
        use_cpu=not _accelerator_available(torch),
        report_to=[],
        disable_tqdm=True,
    )
    options = PretrainingOptions(
        weights=options_weights,
        max_length=arguments.max_length,
        masking=MaskingOptions(rate=arguments.mask_rate),
        pair_positions=arguments.pair_positions,
        camlm_context=arguments.camlm_context,
        placeholders=arguments.placeholders,
        target_language=arguments.target_language,
        pseudo_tokens=arguments.pseudo_tokens,
    )
    trainer = pretrain(model, tokenizer, args, arguments.monolingual, arguments.parallel, options, resume)
    if trainer.is_world_process_zero():
        with staged_directory(arguments.output / "model", overwrite=True) as staging:
            trainer.model.save_pretrained(staging)
            tokenizer.save_pretrained(staging)
        last = next((row for row in reversed(trainer.state.log_history) if "loss" in row), {})
        losses = " ".join(f"{key} {value:.3f}" for key, value in last.items() if key.endswith("loss"))
        print(f"pretrained {trainer.state.global_step} steps ({losses}) -> {arguments.output / 'model'}")
    return 0


def _accelerator_available(torch) -> bool:
    """A GPU or another accelerator torch can use (`torch.accelerator` is there from torch 2.6)."""
    accelerator = getattr(torch, "accelerator", None)
    return accelerator.is_available() if accelerator is not None else torch.cuda.is_available()
