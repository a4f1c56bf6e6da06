"""Training: transformers.Trainer lowers every head's loss; gradient checkpointing and torch.compile agree."""

from __future__ import annotations

import pytest
import torch
from tests.conftest import TINY, padded_ids
from transformers import Trainer, TrainingArguments

import erniem

pytest.importorskip("accelerate", reason="transformers.Trainer needs accelerate (extra `train`)")

ROWS, WIDTH = 16, 10


class Rows(torch.utils.data.Dataset):
    def __init__(self, features: dict[str, torch.Tensor]):
        self.features = features

    def __len__(self) -> int:
        return len(self.features["input_ids"])

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return {name: value[index] for name, value in self.features.items()}


def dataset_for(model_class) -> Rows:
    generator = torch.Generator().manual_seed(7)
    ids, mask = padded_ids([WIDTH - (i % 4) for i in range(ROWS)], WIDTH, seed=3)
    features = {"input_ids": ids, "attention_mask": mask}
    if model_class is erniem.ErnieMForSequenceClassification:
        features["labels"] = torch.randint(0, 2, (ROWS,), generator=generator)
    elif model_class is erniem.ErnieMForTokenClassification:
        features["labels"] = torch.randint(0, 2, (ROWS, WIDTH), generator=generator).masked_fill(mask == 0, -100)
    elif model_class is erniem.ErnieMForQuestionAnswering:
        features["start_positions"] = torch.randint(1, 5, (ROWS,), generator=generator)
        features["end_positions"] = features["start_positions"] + 1
    elif model_class is erniem.ErnieMForInformationExtraction:
        start = torch.zeros(ROWS, WIDTH)
        start[torch.arange(ROWS), torch.randint(1, 5, (ROWS,), generator=generator)] = 1.0
        features["start_positions"], features["end_positions"] = start, start.roll(1, dims=1)
    elif model_class is erniem.ErnieMForMultipleChoice:
        features = {name: value.view(ROWS // 2, 2, WIDTH) for name, value in features.items()}
        features["labels"] = torch.randint(0, 2, (ROWS // 2,), generator=generator)
    return Rows(features)


@pytest.mark.parametrize(
    "model_class",
    [
        erniem.ErnieMForSequenceClassification,
        erniem.ErnieMForTokenClassification,
        erniem.ErnieMForQuestionAnswering,
        erniem.ErnieMForInformationExtraction,
        erniem.ErnieMForMultipleChoice,
    ],
)
def test_trainer_lowers_the_loss_of_every_head(model_class, tmp_path):
    torch.manual_seed(0)
    model = model_class(erniem.ErnieMConfig(**TINY))
    data = dataset_for(model_class)
    arguments = TrainingArguments(
        output_dir=str(tmp_path),
        max_steps=20,
        per_device_train_batch_size=8,
        per_device_eval_batch_size=8,
        learning_rate=1e-2,
        report_to=[],
        save_strategy="no",
        logging_strategy="no",
        use_cpu=True,
        seed=0,
        gradient_accumulation_steps=1,
        # Trainer recognises `start_positions`/`end_positions` as labels only for *QuestionAnswering classes.
        label_names=["start_positions", "end_positions"]
        if model_class is erniem.ErnieMForInformationExtraction
        else None,
    )
    trainer = Trainer(model=model, args=arguments, train_dataset=data, eval_dataset=data)
    before = trainer.evaluate()["eval_loss"]
    trainer.train()
    after = trainer.evaluate()["eval_loss"]
    assert after < 0.8 * before, (before, after)


def test_gradient_checkpointing_gives_the_same_gradients():
    ids, mask = padded_ids([8, 5], 8)
    labels = torch.tensor([1, 0])
    gradients = []
    for checkpointing in (False, True):
        torch.manual_seed(0)
        model = erniem.ErnieMForSequenceClassification(
            erniem.ErnieMConfig(**TINY, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
        )
        if checkpointing:
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
            assert model.is_gradient_checkpointing
        model.train()
        model(ids, attention_mask=mask, labels=labels).loss.backward()
        gradients.append({name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None})
    assert gradients[0].keys() == gradients[1].keys()
    for name, gradient in gradients[0].items():
        torch.testing.assert_close(gradients[1][name], gradient, atol=1e-6, rtol=1e-5, msg=name)


@pytest.mark.parametrize("backend", ["eager", "inductor"])
def test_torch_compile_matches_eager_execution(backend):
    torch.manual_seed(0)
    model = erniem.ErnieMForTokenClassification(erniem.ErnieMConfig(**TINY)).eval()
    ids, mask = padded_ids([9, 6], 9)
    compiled = torch.compile(model, backend=backend, fullgraph=True)
    with torch.no_grad():
        expected = model(ids, attention_mask=mask).logits
        actual = compiled(ids, attention_mask=mask).logits
    torch.testing.assert_close(actual, expected, atol=1e-5, rtol=1e-5)
