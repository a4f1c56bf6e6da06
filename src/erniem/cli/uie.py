"""`erniem uie convert-doccano | train | evaluate`: preparing data for, fine-tuning and scoring UIE models."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .models import add_model_options, model_location


def add_parser(commands) -> None:
    uie = commands.add_parser("uie", help="prepare data for, fine-tune and evaluate UIE models")
    tasks = uie.add_subparsers(dest="task", required=True)

    convert = tasks.add_parser(
        "convert-doccano",
        help="turn a doccano JSONL export into UIE examples (train/dev/test)",
        description="Write OUTPUT_DIR/{train,dev,test}.jsonl of examples {content, result_list, prompt}. "
        "Training examples get sampled negatives; dev and test get every negative.",
    )
    convert.add_argument("input", type=Path, metavar="EXPORT.jsonl")
    convert.add_argument("--output-dir", type=Path, required=True)
    convert.add_argument("--task-type", choices=["ext", "cls"], default="ext")
    convert.add_argument("--splits", type=float, nargs=3, default=[0.8, 0.1, 0.1], metavar=("TRAIN", "DEV", "TEST"))
    convert.add_argument("--negative-ratio", type=int, default=5)
    convert.add_argument("--schema-lang", choices=["zh", "en"], default="zh")
    convert.add_argument("--prompt-prefix", default="情感倾向", help="classification prompt (--task-type cls)")
    convert.add_argument("--options", nargs="+", default=["正向", "负向"], help="classification options")
    convert.add_argument("--seed", type=int, default=1000)
    convert.set_defaults(run=_convert_doccano)

    train = tasks.add_parser("train", help="fine-tune a UIE model on UIE examples")
    add_model_options(train, help="model to start from: a directory, or a published name (uie-m-base)")
    train.add_argument("--train", type=Path, required=True, help="training examples (JSONL)")
    train.add_argument("--dev", type=Path, help="examples scored after training")
    train.add_argument("--output", type=Path, required=True, help="where the fine-tuned model goes")
    train.add_argument("--overwrite", action="store_true", help="replace --output if it exists")
    train.add_argument("--epochs", type=float, default=10)
    train.add_argument("--learning-rate", type=float, default=1e-5)
    train.add_argument("--batch-size", type=int, default=16)
    train.add_argument("--max-seq-len", type=int, default=512)
    train.add_argument("--schema-lang", choices=["zh", "en"], default="zh")
    train.add_argument("--freeze-embeddings", action="store_true", help="keep the word embeddings fixed")
    train.add_argument("--seed", type=int, default=1000)
    train.set_defaults(run=_train)

    evaluate = tasks.add_parser("evaluate", help="exact-span precision, recall and F1 on UIE examples")
    add_model_options(evaluate)
    evaluate.add_argument("--data", type=Path, required=True, help="examples (JSONL)")
    evaluate.add_argument("--schema-lang", choices=["zh", "en"], default="zh")
    evaluate.add_argument("--max-seq-len", type=int, default=512)
    evaluate.add_argument("--position-prob", type=float, default=0.5)
    evaluate.add_argument("--json", action="store_true", help="print the scores as JSON")
    evaluate.set_defaults(run=_evaluate)


def _convert_doccano(arguments: argparse.Namespace) -> int:
    from ..files import staged_directory
    from ..uie import doccano
    from ..uie.jsonl import load_jsonl, write_jsonl

    records = load_jsonl(arguments.input)
    where = [f"{arguments.input}: record {number + 1}" for number in range(len(records))]
    parts = doccano.split(list(zip(records, where, strict=True)), arguments.splits, arguments.seed)
    with staged_directory(arguments.output_dir, overwrite=True) as staging:
        for name, part in zip(("train", "dev", "test"), parts, strict=True):
            chosen, places = [record for record, _ in part], [place for _, place in part]
            if arguments.task_type == "cls":
                examples = doccano.classification_examples(
                    chosen, arguments.prompt_prefix, arguments.options, name == "train", arguments.seed, places
                )
            else:
                ratio = arguments.negative_ratio if name == "train" else None
                examples = doccano.extraction_examples(chosen, arguments.schema_lang, ratio, arguments.seed, places)
            write_jsonl(staging / f"{name}.jsonl", examples)
            print(f"{name}: {len(chosen)} records, {len(examples)} examples")
    return 0


def _load(arguments: argparse.Namespace):
    from ..modeling import ErnieMForInformationExtraction
    from ..tokenization import ErnieMTokenizer

    directory = model_location(arguments)
    return ErnieMForInformationExtraction.from_pretrained(directory), ErnieMTokenizer.from_pretrained(directory)


def _train(arguments: argparse.Namespace) -> int:
    from ..files import staged_directory
    from ..uie.evaluation import evaluate
    from ..uie.jsonl import load_jsonl
    from ..uie.training import train

    model, tokenizer = _load(arguments)
    if arguments.freeze_embeddings:
        model.ernie_m.embeddings.word_embeddings.weight.requires_grad_(False)
    examples = load_jsonl(arguments.train)
    dev = load_jsonl(arguments.dev) if arguments.dev else None
    with staged_directory(arguments.output, arguments.overwrite) as staging:
        train(
            model,
            tokenizer,
            examples,
            staging,
            max_seq_len=arguments.max_seq_len,
            num_train_epochs=arguments.epochs,
            learning_rate=arguments.learning_rate,
            per_device_train_batch_size=arguments.batch_size,
            seed=arguments.seed,
            save_strategy="no",
            logging_steps=max(1, len(examples) // arguments.batch_size),
            disable_tqdm=not sys.stderr.isatty(),
        )
        (staging / "training_args.bin").unlink(missing_ok=True)  # a pickle: nothing a model directory needs
    print(f"saved {arguments.output}")
    if dev:
        scores = evaluate(model, tokenizer, dev, arguments.schema_lang, max_seq_len=arguments.max_seq_len)
        _print_scores(scores)
    return 0


def _evaluate(arguments: argparse.Namespace) -> int:
    from ..uie.evaluation import evaluate
    from ..uie.jsonl import load_jsonl

    model, tokenizer = _load(arguments)
    scores = evaluate(
        model,
        tokenizer,
        load_jsonl(arguments.data),
        arguments.schema_lang,
        max_seq_len=arguments.max_seq_len,
        position_prob=arguments.position_prob,
    )
    if arguments.json:
        print(json.dumps(scores, ensure_ascii=False, indent=2))
    else:
        _print_scores(scores)
    return 0


def _print_scores(scores: dict) -> None:
    rows = [("overall", scores["overall"]), *scores["items"].items()]
    width = max(len(name) for name, _ in rows)
    print(f"{'':{width}}  precision  recall     f1   gold")
    for name, score in rows:
        print(
            f"{name:{width}}  {score['precision']:9.3f}  {score['recall']:6.3f}  {score['f1']:5.3f}  {score['gold']:5d}"
        )
