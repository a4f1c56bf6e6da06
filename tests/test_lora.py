"""PEFT LoRA on ERNIE-M's attention projections: it trains, saves an adapter, and the adapter loads back."""

from __future__ import annotations

import pytest
import torch
from tests.conftest import TINY, padded_ids

import erniem

peft = pytest.importorskip("peft", reason="LoRA needs peft (extra `train`)")


def test_lora_adapter_trains_saves_and_loads_back(tmp_path):
    torch.manual_seed(0)
    config = erniem.ErnieMConfig(**TINY, num_labels=2)
    base = erniem.ErnieMForSequenceClassification(config)
    base.save_pretrained(tmp_path / "base")
    lora = peft.LoraConfig(task_type="SEQ_CLS", r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"])
    model = peft.get_peft_model(base, lora)
    trainable = {name for name, parameter in model.named_parameters() if parameter.requires_grad}
    assert any("q_proj.lora_A" in name for name in trainable) and any("v_proj.lora_B" in name for name in trainable)
    assert not any("word_embeddings" in name or "linear1" in name for name in trainable)

    ids, mask = padded_ids([10, 8, 6, 9], 10)
    labels = torch.tensor([0, 1, 0, 1])
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=5e-2)
    model.train()
    losses = []
    for _ in range(30):
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]

    model.eval()
    model.save_pretrained(tmp_path / "adapter")
    assert (tmp_path / "adapter" / "adapter_model.safetensors").is_file()
    with torch.no_grad():
        expected = model(input_ids=ids, attention_mask=mask).logits
    reloaded = peft.PeftModel.from_pretrained(
        erniem.ErnieMForSequenceClassification.from_pretrained(tmp_path / "base"), tmp_path / "adapter"
    ).eval()
    with torch.no_grad():
        assert torch.allclose(reloaded(input_ids=ids, attention_mask=mask).logits, expected, atol=1e-5)
