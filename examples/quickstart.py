"""Build a small ERNIE-M with the real 250,002-id vocabulary, save it, reload it through AutoModel, run a batch.

python examples/quickstart.py [--output artifacts/quickstart-model]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import torch
from transformers import AutoModel

import erniem


def save_atomically(model: erniem.ErnieMModel, destination: Path) -> None:
    """Write into a temporary sibling folder, then move it into place: no half-written checkpoint is left."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=destination.parent))
    try:
        model.save_pretrained(staging)
        if destination.exists():
            shutil.rmtree(destination)
        staging.rename(destination)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


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

    save_atomically(model, arguments.output)
    for path in sorted(arguments.output.iterdir()):
        print(f"saved {path} ({path.stat().st_size:,} bytes)")

    reloaded = AutoModel.from_pretrained(arguments.output).eval()
    print(f"AutoModel.from_pretrained -> {type(reloaded).__module__}.{type(reloaded).__name__}")

    # [CLS]=0 ... [SEP]=2, padded with [PAD]=1; ids from across the vocabulary.
    input_ids = torch.tensor(
        [
            [0, 35378, 4, 759, 10269, 83, 99942, 5, 2],
            [0, 6, 124084, 1294, 2, 1, 1, 1, 1],
            [0, 249999, 2, 1, 1, 1, 1, 1, 1],
        ]
    )
    attention_mask = (input_ids != config.pad_token_id).long()
    with torch.no_grad():
        output = reloaded(input_ids=input_ids, attention_mask=attention_mask)
        original = model(input_ids=input_ids, attention_mask=attention_mask)
        alone = reloaded(input_ids=input_ids[1:2, :5])

    print(f"input_ids {tuple(input_ids.shape)}, real tokens per row {attention_mask.sum(1).tolist()}")
    print(
        f"last_hidden_state {tuple(output.last_hidden_state.shape)}, pooler_output {tuple(output.pooler_output.shape)}"
    )
    for row in range(len(input_ids)):
        cls = output.last_hidden_state[row, 0, :4].tolist()
        print(
            f"  row {row}: [CLS] state starts {[round(v, 4) for v in cls]}, "
            f"pooled norm {output.pooler_output[row].norm():.4f}"
        )
    reload_difference = (output.last_hidden_state - original.last_hidden_state).abs().max().item()
    padding_difference = (output.last_hidden_state[1, :5] - alone.last_hidden_state[0]).abs().max().item()
    print(f"saved and reloaded model vs original: max |difference| = {reload_difference:.1e}")
    print(f"row 1 in the padded batch vs row 1 alone: max |difference| = {padding_difference:.1e}")


if __name__ == "__main__":
    main()
