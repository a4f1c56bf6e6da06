"""How far bf16 and fp16 forwards drift from fp32, for the tiny test model and at base size (random weights).

    python benchmarks/precision.py

Prints the largest absolute difference from the fp32 run on the last hidden state (non-padding positions)
and on the pooled output, for a batch of 3 rows padded to 64 tokens, sdpa attention.
"""

from __future__ import annotations

import torch

import erniem

SIZES = {
    "tiny (tests)": dict(
        vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37
    ),
    "base": dict(
        vocab_size=250002, hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072
    ),
}


def main() -> None:
    print(f"{'size':<14} {'dtype':<10} {'max |Δ| hidden':>15} {'max |Δ| pooled':>15}")
    for name, dimensions in SIZES.items():
        torch.manual_seed(0)
        model = erniem.ErnieMModel(erniem.ErnieMConfig(**dimensions)).eval()
        generator = torch.Generator().manual_seed(0)
        ids = torch.randint(3, dimensions["vocab_size"], (3, 64), generator=generator)
        mask = (torch.arange(64)[None, :] < torch.tensor([[64], [40], [9]])).long()
        ids = ids.masked_fill(mask == 0, 1)
        with torch.no_grad():
            expected = model(ids, attention_mask=mask)
            for dtype in (torch.bfloat16, torch.float16):
                output = model.to(dtype)(ids, attention_mask=mask)
                model.float()
                hidden = (output.last_hidden_state.float() - expected.last_hidden_state)[mask.bool()].abs().max()
                pooled = (output.pooler_output.float() - expected.pooler_output).abs().max()
                print(f"{name:<14} {str(dtype).removeprefix('torch.'):<10} {hidden:>15.4f} {pooled:>15.4f}")


if __name__ == "__main__":
    main()
