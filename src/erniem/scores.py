"""Precision, recall and F1 from counts of gold, predicted and correct items."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class Score:
    """Counts of gold, predicted and correct items, and the precision, recall and F1 they give."""

    gold: int = 0
    predicted: int = 0
    correct: int = 0

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.correct / self.gold if self.gold else 0.0

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0

    def add(self, gold: set, predicted: set) -> None:
        self.gold += len(gold)
        self.predicted += len(predicted)
        self.correct += len(gold & predicted)

    def to_dict(self) -> dict:
        return {**asdict(self), "precision": self.precision, "recall": self.recall, "f1": self.f1}
