"""Build a small ERNIE-M with the real 250,002-id vocabulary, save it, reload it through AutoModel, run a batch.

python examples/quickstart.py [--output artifacts/quickstart-model]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from transformers import AutoModel, AutoTokenizer

import erniem
from erniem.files import staged_directory
from erniem.vocabulary import real_vocabulary

TEXTS = [
    "ERNIE-M reads 96 languages.",
    "Der schnelle braune Fuchs springt über den faulen Hund.",
    "北京是中国的首都，有两千多万人口。",
    "ｶﾞｰﾃﾞﾝ e\u0301te\u0301 — 👩🏽\u200d💻",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=Path("artifacts/quickstart-model"))
    arguments = parser.parse_args()

    torch.manual_seed(0)
    config = erniem.ErnieMConfig(hidden_size=128, num_hidden_layers=4, num_attention_heads=4, intermediate_size=512)
    model = erniem.ErnieMModel(config).eval()
    print(
        f"built ErnieMModel: vocabulary {config.vocab_size:,}, hidden {config.hidden_size}, "
        f"{config.num_hidden_layers} layers, {sum(p.numel() for p in model.parameters()):,} parameters"
    )

    vocabulary = real_vocabulary()
    tokenizer = erniem.ErnieMTokenizer(str(vocabulary / "sentencepiece.bpe.model"), str(vocabulary / "vocab.txt"))
    with staged_directory(arguments.output, overwrite=True) as staging:  # no half-written checkpoint is left
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
    for path in sorted(arguments.output.iterdir()):
        print(f"saved {path} ({path.stat().st_size:,} bytes)")

    model = AutoModel.from_pretrained(arguments.output).eval()
    tokenizer = AutoTokenizer.from_pretrained(arguments.output)
    print(f"AutoModel -> {type(model).__name__}, AutoTokenizer -> {type(tokenizer).__name__}")

    batch = tokenizer(TEXTS, padding=True, return_offsets_mapping=True, return_attention_mask=True)
    for row, text in enumerate(TEXTS):
        length = sum(batch["attention_mask"][row])
        pieces = [
            f"{token}@{text[start:end]!r}" if end else token
            for token, (start, end) in zip(
                tokenizer.convert_ids_to_tokens(batch["input_ids"][row][:length]),
                batch["offset_mapping"][row][:length],
                strict=True,
            )
        ]
        print(f"{text!r}: {length} tokens, words {batch.word_ids(row)[:length]}")
        print("   ", " ".join(pieces))

    input_ids = torch.tensor(batch["input_ids"])
    attention_mask = torch.tensor(batch["attention_mask"])
    with torch.no_grad():
        output = model(input_ids=input_ids, attention_mask=attention_mask)
        alone = model(input_ids=input_ids[:1, : int(attention_mask[0].sum())])
    print(
        f"last_hidden_state {tuple(output.last_hidden_state.shape)}, pooler_output {tuple(output.pooler_output.shape)}"
    )
    for row in range(len(TEXTS)):
        print(
            f"  row {row}: pooled norm {output.pooler_output[row].norm():.4f}, "
            f"[CLS] state starts {[round(v, 4) for v in output.last_hidden_state[row, 0, :4].tolist()]}"
        )
    length = int(attention_mask[0].sum())
    difference = (output.last_hidden_state[0, :length] - alone.last_hidden_state[0]).abs().max().item()
    print(f"row 0 in the padded batch vs alone: max |difference| = {difference:.1e}")


if __name__ == "__main__":
    main()
