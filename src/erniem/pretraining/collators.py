"""One collator per pretraining objective: token ids in, model inputs out.

Each takes examples of token ids without special tokens, `{"input_ids": [...], "language": "en"}` for a
monolingual sentence (MMLM, BTMLM) or `{"source_ids": [...], "target_ids": [...], "source_language": "en",
"target_language": "de"}` for a translation pair (TLM, CAMLM), and returns padded tensors: `input_ids`,
`attention_mask` (batch, seq, seq) of booleans (True: attend), `position_ids`, `labels` (-100 where nothing is
predicted) and, when `languages` is given, `language_ids`. Sentences are laid out as the fine-tuning code does,
`[CLS] a [SEP]` and `[CLS] a [SEP] [SEP] b [SEP]`, and cut to fit `max_length`.

What the paper leaves open is a parameter: `masking` (default 15%, 80/10/10), `pair_positions` (default
continuous across a pair, as in fine-tuning), CAMLM's `context`, BTMLM's `placeholders` (default: as many as the
sentence has tokens), `target_language` and `pseudo_tokens` (default greedy).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, get_args

import torch
from torch.nn.utils.rnn import pad_sequence

from ..modeling import PseudoTokens
from .corruption import MaskingOptions, choose, corrupt
from .masks import CamlmContext, btmlm_mask, camlm_mask, full_mask

PairPositions = Literal["continuous", "restart"]

# Padding value of each per-token tensor; masks are built after padding.
_PADDING = {
    "input_ids": None,  # the tokenizer's pad id
    "pseudo_input_ids": None,
    "labels": -100,
    "position_ids": 0,
    "language_ids": 0,
    "placeholder_mask": False,
}


@dataclass
class _Layout:
    """One example laid out: ids (n,), the side of each position (n,), which positions the words occupy (n,), and
    the language of each side."""

    ids: torch.Tensor
    side: torch.Tensor
    words: torch.Tensor
    languages: tuple[str | None, str | None] = (None, None)

    @classmethod
    def of(cls, ids: list[int], side: list[int], words: list[bool], languages: tuple) -> _Layout:
        return cls(torch.tensor(ids), torch.tensor(side), torch.tensor(words, dtype=torch.bool), languages)


@dataclass
class _Collator:
    """What the four collators share: the special ids, the layout, masking, padding and the masks."""

    tokenizer: object
    max_length: int = 128
    masking: MaskingOptions = field(default_factory=MaskingOptions)
    languages: Sequence[str] | None = None
    pair_positions: PairPositions = "continuous"

    def __post_init__(self):
        tokenizer = self.tokenizer
        if self.pair_positions not in get_args(PairPositions):
            raise ValueError(f"pair_positions must be one of {get_args(PairPositions)}, got {self.pair_positions!r}.")
        for name in ("cls_token_id", "sep_token_id", "mask_token_id", "pad_token_id"):
            if getattr(tokenizer, name) is None:
                raise ValueError(f"The tokenizer has no {name.removesuffix('_id')}, which pretraining needs.")
        self.special_ids = torch.tensor(sorted(set(tokenizer.all_special_ids)))
        keep = torch.ones(len(tokenizer), dtype=torch.bool)
        keep[self.special_ids] = False
        self.random_ids = keep.nonzero().squeeze(1)  # what the 10% random replacements draw from
        self.language_index = {code: index for index, code in enumerate(self.languages or ())}

    def __call__(self, examples: Sequence[dict], generator: torch.Generator | None = None) -> dict:
        """Collate `examples` (see the module's docstring); `generator` drives every random choice."""
        if not examples:
            raise ValueError("Cannot collate an empty batch.")
        rows = [self._example(example, generator) for example in examples]
        batch = {name: self._pad([row[name] for row in rows], name) for name in rows[0] if name in _PADDING}
        side, valid = self._pad([row["side"] for row in rows], "side"), self._pad([row["valid"] for row in rows], "")
        masked = self._pad([row["masked"] for row in rows], "")
        for name, build in self._masks().items():
            batch[name] = torch.stack([build(s, m, v) for s, m, v in zip(side, masked, valid, strict=True)])
        return batch | self._extras()

    def _example(self, example: dict, generator: torch.Generator | None) -> dict:
        raise NotImplementedError

    def _masks(self) -> dict:
        """Name -> function of (side, masked, valid) giving that example's (seq, seq) mask."""
        return {"attention_mask": lambda side, masked, valid: full_mask(valid)}

    def _extras(self) -> dict:
        return {}

    # Layouts

    def _single(self, ids: Sequence[int], language: str | None) -> _Layout:
        ids = list(ids)[: self.max_length - 2]
        cls, sep = self.tokenizer.cls_token_id, self.tokenizer.sep_token_id
        return _Layout.of([cls, *ids, sep], [0] * (len(ids) + 2), [False, *[True] * len(ids), False], (language, None))

    def _pair(self, first: Sequence[int], second: Sequence[int], languages: tuple) -> _Layout:
        budget = self.max_length - 4
        if budget < 2:
            raise ValueError(f"max_length {self.max_length} leaves no room for a pair.")
        first_length = min(len(first), max(budget - len(second), (budget + 1) // 2))
        second_length = min(len(second), budget - first_length)
        first, second = list(first)[:first_length], list(second)[:second_length]
        cls, sep = self.tokenizer.cls_token_id, self.tokenizer.sep_token_id
        ids = [cls, *first, sep, sep, *second, sep]
        side = [0] * (len(first) + 2) + [1] * (len(second) + 2)
        words = [False, *[True] * len(first), False, False, *[True] * len(second), False]
        return _Layout.of(ids, side, words, languages)

    # Per-example tensors

    def _masked_lm(self, layout: _Layout, generator: torch.Generator | None) -> dict:
        """Input ids with each sentence's chosen words corrupted, labels there, and the per-token tensors."""
        ids, side, words = layout.ids, layout.side, layout.words
        chosen = torch.zeros(len(ids), dtype=torch.bool)
        for index in (0, 1):
            positions = (words & (side == index)).nonzero().squeeze(1)
            chosen[positions] = choose(len(positions), self.masking.rate, generator)
        corrupted = corrupt(ids, chosen, self.tokenizer.mask_token_id, self.random_ids, self.masking, generator)
        labels = torch.where(chosen, ids, -100)
        return {"input_ids": corrupted, "labels": labels, "masked": chosen} | self._positions(layout)

    def _positions(self, layout: _Layout) -> dict:
        side = layout.side
        positions = torch.arange(len(side))
        if self.pair_positions == "restart":
            positions = positions - torch.where(side == 1, int((side == 0).sum()), 0)
        tensors = {"position_ids": positions, "side": side, "valid": torch.ones(len(side), dtype=torch.bool)}
        if self.languages is not None:
            first, second = layout.languages
            first_id = self._language_id(first)
            second_id = self._language_id(second) if second is not None else first_id
            tensors["language_ids"] = torch.where(side == 0, first_id, second_id)
        return tensors

    def _language_id(self, code: str | None) -> int:
        if code is None:
            raise ValueError("A sentence has no language, which a model with language embeddings needs.")
        if code not in self.language_index:
            raise ValueError(f"Language {code!r} has no language embedding; the model knows {list(self.languages)}.")
        return self.language_index[code]

    def _pad(self, tensors: list[torch.Tensor], name: str) -> torch.Tensor:
        value = _PADDING.get(name, 0)
        return pad_sequence(
            tensors, batch_first=True, padding_value=self.tokenizer.pad_token_id if value is None else value
        )


@dataclass
class MMLMCollator(_Collator):
    """Multilingual masked LM: one sentence, full attention."""

    def _example(self, example: dict, generator: torch.Generator | None) -> dict:
        return self._masked_lm(self._single(example["input_ids"], example.get("language")), generator)


@dataclass
class TLMCollator(_Collator):
    """Translation LM: a sentence and its translation, words masked on both sides, full attention."""

    def _example(self, example: dict, generator: torch.Generator | None) -> dict:
        languages = (example.get("source_language"), example.get("target_language"))
        return self._masked_lm(self._pair(example["source_ids"], example["target_ids"], languages), generator)


@dataclass
class CAMLMCollator(TLMCollator):
    """Cross-attention masked LM: as TLM, under the mask of `masks.camlm_mask` (`context` picks what unmasked
    tokens see)."""

    context: CamlmContext = "own_sentence"

    def __post_init__(self):
        super().__post_init__()
        if self.context not in get_args(CamlmContext):
            raise ValueError(f"context must be one of {get_args(CamlmContext)}, got {self.context!r}.")

    def _masks(self) -> dict:
        return {"attention_mask": lambda side, masked, valid: camlm_mask(side, masked, valid, self.context)}


@dataclass
class BTMLMCollator(_Collator):
    """Back-translation masked LM, both steps' inputs (see `ErnieMForPreTraining`).

    Step 1 (`pseudo_input_ids`, `pseudo_attention_mask` of `masks.btmlm_mask`): the sentence, then `[MASK]`
    placeholders. Step 2 (`input_ids`, full `attention_mask`, `labels`): the sentence with words masked, then the
    placeholders that the model fills with step 1's pseudo tokens. `placeholder_mask` marks them.

    Args:
        placeholders: how many placeholders; `None` (default): as many as the sentence has tokens.
        target_language: the language the placeholders carry (with language embeddings); `None`: drawn among
            `languages` other than the sentence's own.
        pseudo_tokens: `"greedy"` or `"sample"` (see `ErnieMForPreTraining.predict_pseudo_tokens`).
    """

    placeholders: int | None = None
    target_language: str | None = None
    pseudo_tokens: PseudoTokens = "greedy"

    def __post_init__(self):
        super().__post_init__()
        if self.pseudo_tokens not in get_args(PseudoTokens):
            raise ValueError(f"pseudo_tokens must be one of {get_args(PseudoTokens)}, got {self.pseudo_tokens!r}.")
        if self.placeholders is not None and not 0 < self.placeholders <= self.max_length - 5:
            raise ValueError(f"placeholders must lie in [1, {self.max_length - 5}], got {self.placeholders!r}.")
        if self.target_language is not None and self.languages is not None:
            self._language_id(self.target_language)

    def _example(self, example: dict, generator: torch.Generator | None) -> dict:
        ids = list(example["input_ids"])
        if self.placeholders is None:
            ids = ids[: (self.max_length - 4) // 2]
            count = len(ids)
        else:
            ids, count = ids[: self.max_length - 4 - self.placeholders], self.placeholders
        source = example.get("language")
        layout = self._pair(ids, [self.tokenizer.mask_token_id] * count, (source, self._target(source, generator)))
        placeholders = layout.words & (layout.side == 1)  # the second "sentence" is the placeholders
        layout.words = layout.words & (layout.side == 0)  # only the sentence's own words are masked and predicted
        return self._masked_lm(layout, generator) | {
            "pseudo_input_ids": layout.ids,
            "placeholder_mask": placeholders,
        }

    def _target(self, source: str | None, generator: torch.Generator | None) -> str | None:
        """The placeholders' language: `target_language`, else one of the other `languages` at random."""
        if self.languages is None:
            return None
        if self.target_language is not None:
            return self.target_language
        others = [code for code in self.languages if code != source] or list(self.languages)
        return others[int(torch.randint(len(others), (1,), generator=generator))]

    def _masks(self) -> dict:
        return super()._masks() | {"pseudo_attention_mask": lambda side, masked, valid: btmlm_mask(side, valid)}

    def _extras(self) -> dict:
        return {"excluded_token_ids": self.special_ids, "pseudo_tokens": self.pseudo_tokens}
