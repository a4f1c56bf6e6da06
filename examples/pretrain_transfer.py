"""Does ERNIE-M's pretraining buy cross-lingual transfer? A small experiment, offline, on this machine.

1. Corpora: monolingual sentences in six languages (tests/data/multilingual.tsv: en, de, es, ru, ar, zh-Hans)
   and English-to-X translation pairs from Django's catalogues (BSD), split by English sentence: a tenth is held
   out for retrieval.
2. For each seed, one small ERNIE-M with the real 250,002-id vocabulary, pretrained with the same steps and
   batches on (a) MMLM, (b) MMLM + TLM, (c) MMLM + BTMLM + CAMLM + TLM; and, as the floor, (0) not pretrained.
3. Parallel-sentence retrieval on the held-out pairs: for each English sentence, is its translation the nearest
   of all held-out translations (mean-pooled last layer, cosine)? Both directions, averaged, per language; also
   with each language's mean embedding subtracted first ("centred"), which discounts the direction that all
   sentences of a small, barely trained model share.
4. Each encoder is fine-tuned for UIE on English texts only (examples/uie_data.py's templates), then extracts
   from texts in all six languages: English is in-language, the other five are zero-shot transfer.

python examples/pretrain_transfer.py [--workdir artifacts/pretrain-transfer] [--steps 300] [--seeds 1,2,3]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import time
from pathlib import Path

import torch
from transformers import TrainingArguments

import erniem
from erniem.cli.quiet import quiet
from erniem.pretraining import PretrainingOptions, pretrain
from erniem.pretraining.parallel_corpus import build_pairs
from erniem.uie import UIEPipeline
from erniem.uie.doccano import extraction_examples
from erniem.uie.training import train
from erniem.vocabulary import real_vocabulary

sys.path.insert(0, str(Path(__file__).parent))
import uie_data  # noqa: E402
from uie_demo import span_scores  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# The demo's languages, as the corpus and Django name them.
LANGUAGES = {"en": "en", "de": "de", "es": "es", "ru": "ru", "ar": "ar", "zh": "zh-Hans"}
RETRIEVAL = ("raw", "centred")
CONFIGURATIONS = {
    "none": None,
    "MMLM": {"mmlm": 1.0},
    "MMLM+TLM": {"mmlm": 1.0, "tlm": 1.0},
    "MMLM+BTMLM+CAMLM+TLM": {"mmlm": 1.0, "btmlm": 1.0, "camlm": 1.0, "tlm": 1.0},
}


def held_out(sentence: str) -> bool:
    """A tenth of the English sentences, the same in every language and run."""
    return hashlib.sha256(sentence.encode()).digest()[0] < 26


def corpora(work: Path) -> tuple[Path, Path, dict[str, list[tuple[str, str]]]]:
    """The monolingual TSV, the training pairs TSV, and the held-out pairs per language."""
    rows = (ROOT / "tests" / "data" / "multilingual.tsv").read_text(encoding="utf-8").splitlines()[1:]
    kept = [row.split("\t", 2) for row in rows]
    mono = work / "monolingual.tsv"
    texts = [f"{lang}\t{text}" for lang, _, text in kept if lang in LANGUAGES.values()]
    mono.write_text("lang\ttext\n" + "\n".join(texts) + "\n", encoding="utf-8")
    pairs, _ = build_pairs(languages=[code for code in LANGUAGES.values() if code != "en"])
    train_rows, held = [], {}
    for pair in pairs:
        if held_out(pair.source):
            held.setdefault(pair.target_language, []).append((pair.source, pair.target))
        else:
            train_rows.append(f"en\t{pair.target_language}\t{pair.source}\t{pair.target}")
    parallel = work / "pairs.tsv"
    header = "source_language\ttarget_language\tsource\ttarget\n"
    parallel.write_text(header + "\n".join(train_rows) + "\n", encoding="utf-8")
    print(f"monolingual sentences {len(texts)}, training pairs {len(train_rows)}, held-out pairs "
          + ", ".join(f"{code} {len(items)}" for code, items in sorted(held.items())))  # fmt: skip
    return mono, parallel, held


def initial_encoder(directory: Path, tokenizer, seed: int, arguments: argparse.Namespace) -> None:
    if arguments.reuse and (directory / "model.safetensors").is_file():
        return
    torch.manual_seed(seed)
    config = erniem.ErnieMConfig(
        vocab_size=len(tokenizer),
        hidden_size=arguments.hidden_size,
        num_hidden_layers=arguments.layers,
        num_attention_heads=4,
        intermediate_size=2 * arguments.hidden_size,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    erniem.ErnieMModel(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)


def pretrained(initial: Path, output: Path, weights, tokenizer, files, seed, arguments) -> Path:
    """The encoder pretrained on `weights`' objectives for `arguments.steps` steps, saved in `output` (with
    `--reuse`, the one already there)."""
    if arguments.reuse and (output / "model.safetensors").is_file():
        print(f"  reusing {output}")
        return output
    torch.manual_seed(seed)  # the same LM head to start from, whatever the objectives
    model = erniem.ErnieMForPreTraining.from_pretrained(initial)
    args = TrainingArguments(
        output_dir=str(output / "checkpoints"), max_steps=arguments.steps, per_device_train_batch_size=16,
        learning_rate=1e-3, warmup_steps=arguments.steps // 10, weight_decay=0.01,
        logging_steps=max(arguments.steps // 5, 1), save_strategy="no", report_to=[], disable_tqdm=True,
        use_cpu=True, seed=seed, optim="adamw_torch_fused",
    )  # fmt: skip
    options = PretrainingOptions(weights=weights, max_length=64, shuffle_buffer=2000)
    trainer = pretrain(model, tokenizer, args, monolingual=[str(files[0])], parallel=[str(files[1])], options=options)
    logged = [row for row in trainer.state.log_history if "loss" in row]
    print(f"  losses: first {logged[0]['loss']:.2f}, last {logged[-1]['loss']:.2f} "
          + " ".join(f"{k} {v:.2f}" for k, v in logged[-1].items() if k.endswith("_loss")))  # fmt: skip
    model.save_pretrained(output)
    tokenizer.save_pretrained(output)
    return output


@torch.no_grad()
def retrieval(encoder_directory: Path, tokenizer, held: dict[str, list[tuple[str, str]]], limit: int) -> dict:
    """Per language, how often a held-out sentence's nearest neighbour (cosine, mean-pooled) is its translation:
    `{"raw": {language: accuracy}, "centred": {...}}`."""
    model = erniem.ErnieMModel.from_pretrained(encoder_directory).eval()

    def embed(texts: list[str]) -> torch.Tensor:
        batch = tokenizer(
            texts, padding=True, truncation=True, max_length=64, return_attention_mask=True, return_tensors="pt"
        )
        states = model(batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(states.dtype)
        return (states * mask).sum(1) / mask.sum(1)

    def accuracy(english: torch.Tensor, translated: torch.Tensor) -> float:
        normalize = torch.nn.functional.normalize
        similarity = normalize(english, dim=-1) @ normalize(translated, dim=-1).T
        gold = torch.arange(len(similarity))
        forward = (similarity.argmax(1) == gold).float().mean()
        backward = (similarity.argmax(0) == gold).float().mean()
        return float((forward + backward) / 2)

    scores = {"raw": {}, "centred": {}}
    for language, items in sorted(held.items()):
        items = items[:limit]
        english, translated = embed([s for s, _ in items]), embed([t for _, t in items])
        scores["raw"][language] = accuracy(english, translated)
        scores["centred"][language] = accuracy(english - english.mean(0), translated - translated.mean(0))
    return scores


def uie_records(count_per_language: int, seed: int) -> dict[str, list[dict]]:
    records = uie_data.dataset(count_per_language * len(LANGUAGES), seed)
    by_language: dict[str, list[dict]] = {}
    for record in records:
        by_language.setdefault(record["language"], []).append(record)
    return by_language


def fine_tuned(encoder_directory: Path, output: Path, tokenizer, english: list[dict], seed, arguments) -> Path:
    if arguments.reuse and (output / "model.safetensors").is_file():
        return output
    torch.manual_seed(seed)
    model = erniem.ErnieMForInformationExtraction.from_pretrained(encoder_directory)
    model.ernie_m.embeddings.word_embeddings.weight.requires_grad_(False)  # keep what pretraining aligned
    examples = extraction_examples(english, schema_lang="en", negative_ratio=2, seed=seed)
    train(
        model, tokenizer, examples, output, max_seq_len=128, learning_rate=5e-4, num_train_epochs=arguments.epochs,
        per_device_train_batch_size=16, save_strategy="no", disable_tqdm=True, use_cpu=True, seed=seed,
        optim="adamw_torch_fused",
    )  # fmt: skip
    return output


def extraction_f1(model_directory: Path, tokenizer, records: dict[str, list[dict]]) -> dict[str, float]:
    model = erniem.ErnieMForInformationExtraction.from_pretrained(model_directory)
    pipeline = UIEPipeline(model, tokenizer, uie_data.SCHEMA, schema_lang="en", max_seq_len=128)
    return {
        language: span_scores(items, pipeline([r["text"] for r in items]))[0].f1 for language, items in records.items()
    }


def summary(results: list[dict]) -> str:
    """A Markdown table: per configuration, the mean (± standard deviation over seeds) of each figure."""
    languages = list(LANGUAGES)
    header = ["objectives", "retrieval", "retrieval, centred", *[f"UIE F1 {code}" for code in languages],
              "zero-shot mean"]  # fmt: skip
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]

    def cell(values: list[float]) -> str:
        mean = statistics.fmean(values)
        return f"{mean:.3f} ± {statistics.stdev(values):.3f}" if len(values) > 1 else f"{mean:.3f}"

    for name in CONFIGURATIONS:
        runs = [run for run in results if run["objectives"] == name]
        if not runs:
            continue
        retrieval = [cell([statistics.fmean(run["retrieval"][kind].values()) for run in runs]) for kind in RETRIEVAL]
        f1s = [cell([run["f1"][code] for run in runs]) for code in languages]
        zero_shot = [statistics.fmean(run["f1"][code] for code in languages if code != "en") for run in runs]
        lines.append(f"| {name} | " + " | ".join([*retrieval, *f1s, cell(zero_shot)]) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, default=Path("artifacts/pretrain-transfer"))
    parser.add_argument("--steps", type=int, default=300, help="pretraining steps of 16 examples, every objective mix")
    parser.add_argument("--seeds", default="1,2,3", help="comma-separated seeds; each runs every configuration")
    parser.add_argument("--records", type=int, default=1000, help="English UIE training records")
    parser.add_argument("--eval-records", type=int, default=40, help="UIE test records per language")
    parser.add_argument("--epochs", type=float, default=6, help="UIE fine-tuning epochs")
    parser.add_argument("--retrieval-pairs", type=int, default=200, help="held-out pairs per language, at most")
    parser.add_argument("--hidden-size", type=int, default=128)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--reuse", action="store_true", help="keep the models a previous run left in --workdir")
    parser.add_argument("--verbose", action="store_true", help="show the warnings of torch and other libraries")
    arguments = parser.parse_args()
    began = time.perf_counter()
    work = arguments.workdir
    work.mkdir(parents=True, exist_ok=True)
    vocabulary = real_vocabulary()
    tokenizer = erniem.ErnieMTokenizer(vocabulary / "sentencepiece.bpe.model", vocabulary / "vocab.txt")
    mono, parallel, held = corpora(work)
    english = uie_records(arguments.records, seed=100)["en"]
    test = uie_records(arguments.eval_records, seed=200)
    results = []
    for seed in [int(seed) for seed in arguments.seeds.split(",")]:
        initial = work / f"seed{seed}" / "initial"
        initial_encoder(initial, tokenizer, seed, arguments)
        for name, weights in CONFIGURATIONS.items():
            print(f"seed {seed}, {name}:", flush=True)
            folder = work / f"seed{seed}" / name.replace("+", "-").lower()
            encoder = initial
            if weights is not None:
                encoder = pretrained(
                    initial, folder / "pretrained", weights, tokenizer, (mono, parallel), seed, arguments
                )
            accuracy = retrieval(encoder, tokenizer, held, arguments.retrieval_pairs)
            uie = fine_tuned(encoder, folder / "uie", tokenizer, english, seed, arguments)
            f1 = extraction_f1(uie, tokenizer, test)
            results.append({"seed": seed, "objectives": name, "retrieval": accuracy, "f1": f1})
            print(f"  retrieval {statistics.fmean(accuracy['raw'].values()):.3f} "
                  f"(centred {statistics.fmean(accuracy['centred'].values()):.3f}); UIE F1 "
                  + ", ".join(f"{code} {value:.3f}" for code, value in f1.items()), flush=True)  # fmt: skip
    table = summary(results)
    (work / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    (work / "results.md").write_text(table + "\n", encoding="utf-8")
    minutes = (time.perf_counter() - began) / 60
    print(f"\n{table}\n\n{len(results)} runs in {minutes:.1f} minutes; results in {work}/results.md")
    return 0


if __name__ == "__main__":
    with quiet(verbose="--verbose" in sys.argv):
        sys.exit(main())
