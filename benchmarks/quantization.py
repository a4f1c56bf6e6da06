"""What bf16 and int8 cost in accuracy: a topic classifier fine-tuned by examples/classify.py, evaluated on its
held-out lines in fp32, bf16 and int8 (torchao dynamic quantization, eager and compiled).

    python benchmarks/quantization.py [--steps 600] [--directory DIR]

Trains the example's small model (2 layers, 128 wide, real vocabulary, 21 chatterbot topics) unless DIR already
holds one, then prints held-out accuracy and the largest logit difference from fp32 for each precision. Needs
the extras `train`, `int8` and chatterbot-corpus (installed with `test`).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import torch

import erniem
from erniem.acceleration import optimize
from erniem.tasks.classification import classify

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--steps", type=int, default=600)
    options.add_argument("--directory", type=Path, help="the example's OUTPUT_DIR (default: a temporary one)")
    arguments = options.parse_args()
    if arguments.directory:
        measure(arguments.directory, arguments.steps)
    else:
        with tempfile.TemporaryDirectory(prefix="erniem-classifier-") as scratch:
            measure(Path(scratch), arguments.steps)


def measure(directory: Path, steps: int) -> None:
    import classify as example

    if not (directory / "model" / "config.json").is_file():
        example.main(["--output-dir", str(directory), "--max-steps", str(steps), "--save-steps",
                      str(steps)])  # fmt: skip
    lines = [(line, topic) for line, topic in example.topic_lines("english") if example.held_out(line)]
    texts = [line for line, _ in lines]
    tokenizer = erniem.ErnieMTokenizerFast.from_pretrained(directory / "model")
    encoded = tokenizer(texts, padding=True, truncation=True, max_length=64, return_tensors="pt",
                        return_attention_mask=True)  # fmt: skip
    load = erniem.ErnieMForSequenceClassification.from_pretrained
    models = {
        "fp32": lambda: load(directory / "model"),
        "bf16": lambda: load(directory / "model", dtype=torch.bfloat16),
        "int8 (torchao, eager)": lambda: optimize(load(directory / "model"), quantize="int8"),
        "int8 (torchao, compiled)": lambda: optimize(load(directory / "model"), quantize="int8", compile=True),
    }
    expected = None
    print(f"{len(lines)} held-out lines, 21 topics")
    print("| precision | held-out accuracy | vs fp32 (points) | max abs Δ logit |")
    print("|---|---|---|---|")
    for name, build in models.items():
        model = build()
        predicted = classify(model, tokenizer, texts, max_length=64)
        accuracy = sum(best[0].label == topic for best, (_, topic) in zip(predicted, lines, strict=True)) / len(lines)
        with torch.inference_mode():
            logits = model(**encoded).logits.float()
        if expected is None:
            expected, baseline = logits, accuracy
        print(f"| {name} | {accuracy:.3f} | {100 * (accuracy - baseline):+.1f} | "
              f"{(logits - expected).abs().max():.4f} |")  # fmt: skip


if __name__ == "__main__":
    main()
