"""The fast tokenizer's direct path: ids computed in Python, `tokenizers` encodings made only when asked for.

`ErnieMTokenizerFast`'s backend runs a Python pre-tokenizer inside `tokenizers` for every text, which costs more
than the whole encoding done in Python. So for the calls whose outputs are plain to compute (strings, no
overflow, no added token in any text, a pair only where it needs no truncation), the tokenizer segments every
text of the call in one sentencepiece pass and lays out special tokens, truncation and padding as the backend
would. The backend's `Encoding` objects (`word_ids()`, `tokens()`, `char_to_token()`, ...) are made by the
backend itself, from the same arguments, the first time one is asked for (`LazyEncodings`). Every other call
runs the backend. `tests/test_fast_encoding.py` holds both paths to identical outputs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from transformers.tokenization_utils_base import BatchEncoding, PaddingStrategy, TruncationStrategy

from .segmentation import Segmenter, lowercase


class LazyEncodings(BatchEncoding):
    """A `BatchEncoding` of a fast tokenizer whose `tokenizers.Encoding` objects are made on first use."""

    _made = None
    _make = None

    def __init__(self, data: dict, make: Callable[[], list], n_sequences: int, tensor_type=None):
        self._make = make
        super().__init__(data, encoding=None, tensor_type=tensor_type, n_sequences=n_sequences)

    @property
    def _encodings(self):
        if self._made is None and self._make is not None:
            self._made, self._make = self._make(), None
        return self._made

    @_encodings.setter
    def _encodings(self, value) -> None:
        if value is not None:  # BatchEncoding.__init__ assigns None; unpickling assigns the encodings
            self._made, self._make = value, None

    @property
    def is_fast(self) -> bool:
        return True


@dataclass(frozen=True)
class Layout:
    """What the backend would do around each sequence's tokens: special tokens, truncation, padding, outputs."""

    cls_id: int
    sep_id: int
    pad_id: int | None  # None: no padding
    pad_type_id: int
    add_special_tokens: bool
    truncation: TruncationStrategy
    max_length: int | None
    truncation_side: str
    padding: PaddingStrategy
    pad_to_multiple_of: int | None
    padding_side: str
    token_type_ids: bool
    attention_mask: bool
    special_tokens_mask: bool
    offsets: bool
    length: bool

    @classmethod
    def of(cls, options: dict, tokenizer, template_ids: tuple[int, int], pad_id: int | None) -> Layout:
        """The layout of one `_encode_plus` call (`options`: its keyword arguments) of `tokenizer`."""
        token_type_ids, attention_mask = options.get("return_token_type_ids"), options.get("return_attention_mask")
        inputs = tokenizer.model_input_names
        return cls(
            cls_id=template_ids[0],
            sep_id=template_ids[1],
            pad_id=pad_id,
            pad_type_id=tokenizer.pad_token_type_id,
            add_special_tokens=options.get("add_special_tokens", True),
            truncation=options.get("truncation_strategy") or TruncationStrategy.DO_NOT_TRUNCATE,
            max_length=options.get("max_length"),
            truncation_side=tokenizer.truncation_side,
            padding=options.get("padding_strategy") or PaddingStrategy.DO_NOT_PAD,
            pad_to_multiple_of=options.get("pad_to_multiple_of"),
            padding_side=options.get("padding_side") or tokenizer.padding_side,
            token_type_ids="token_type_ids" in inputs if token_type_ids is None else token_type_ids,
            attention_mask="attention_mask" in inputs if attention_mask is None else attention_mask,
            special_tokens_mask=bool(options.get("return_special_tokens_mask")),
            offsets=bool(options.get("return_offsets_mapping")),
            length=bool(options.get("return_length")),
        )


Segmented = tuple[list[int], list[tuple[int, int]] | None]

# The keyword arguments of `_encode_plus` that the direct path knows; a call with any other goes to the backend.
_KNOWN_OPTIONS = frozenset(
    {
        "add_special_tokens", "padding_strategy", "truncation_strategy", "max_length", "stride", "is_split_into_words",
        "pad_to_multiple_of", "padding_side", "return_tensors", "return_token_type_ids", "return_attention_mask",
        "return_overflowing_tokens", "return_special_tokens_mask", "return_offsets_mapping", "return_length",
        "verbose", "split_special_tokens",
    }
)  # fmt: skip


def applies(texts: list, pairs: list | None, options: dict) -> bool:
    """Whether the direct path can compute this call: strings (pairs of equal count), no words, no overflow, no
    split special tokens, no truncation the backend would refuse, no argument it does not know."""
    strings = texts + (pairs or [])
    if not all(isinstance(string, str) for string in strings) or (pairs is not None and len(pairs) != len(texts)):
        return False  # words, ids or malformed input: the backend (and its errors)
    truncation, max_length = options.get("truncation_strategy"), options.get("max_length")
    specials = (4 if pairs is not None else 2) if options.get("add_special_tokens", True) else 0
    truncates = truncation not in (None, TruncationStrategy.DO_NOT_TRUNCATE)
    return not (
        options.get("is_split_into_words")
        or options.get("return_overflowing_tokens")
        or options.get("split_special_tokens")
        or (pairs is None and truncation == TruncationStrategy.ONLY_SECOND)
        or (truncates and max_length is not None and max_length < specials)
        or not _KNOWN_OPTIONS.issuperset(options)
    )


def segment(
    texts: Sequence[str],
    segmenter: Segmenter,
    vocab: dict[str, int],
    unknown_id: int,
    do_lower_case: bool,
    offsets: bool,
) -> list[Segmented]:
    """Ids (and character offsets) of each text's tokens, as the backend's pre-tokenizer computes them."""
    get = vocab.get
    if not offsets:
        texts = [lowercase(text)[0] for text in texts] if do_lower_case else list(texts)
        return [([get(t, unknown_id) for t in tokens], None) for tokens in segmenter.tokens(texts)]
    return [
        ([get(token, unknown_id) for token, *_ in tokens], [(start, end) for _, start, end, _ in tokens])
        for tokens in segmenter.source_tokens(list(texts), do_lower_case)
    ]


def needs_cut(first: Segmented, second: Segmented | None, layout: Layout) -> bool:
    """Whether truncation would remove tokens from this input."""
    if layout.truncation == TruncationStrategy.DO_NOT_TRUNCATE or layout.max_length is None:
        return False
    specials = (4 if second is not None else 2) if layout.add_special_tokens else 0
    return len(first[0]) + (len(second[0]) if second is not None else 0) + specials > layout.max_length


def assemble(first: Segmented, second: Segmented | None, layout: Layout) -> dict[str, list]:
    """One input's fields: the first sequence truncated (a pair is never cut here), the template applied."""
    ids, offsets = first
    if needs_cut(first, second, layout):
        keep = max(layout.max_length - (2 if layout.add_special_tokens else 0), 0)
        cut = slice(None, keep) if layout.truncation_side == "right" else slice(len(ids) - keep, None)
        ids, offsets = ids[cut], offsets[cut] if offsets is not None else None
    fields: dict[str, list] = {}
    if not layout.add_special_tokens:
        fields["input_ids"] = ids + (second[0] if second else [])
        types = [0] * len(ids) + [1] * (len(second[0]) if second else 0)
        specials = [0] * len(fields["input_ids"])
        spans = (offsets or []) + ((second[1] or []) if second else [])
    elif second is None:
        fields["input_ids"] = [layout.cls_id, *ids, layout.sep_id]
        types = [0] * len(fields["input_ids"])
        specials = [1] + [0] * len(ids) + [1]
        spans = [(0, 0), *(offsets or []), (0, 0)]
    else:  # [CLS] A [SEP] [SEP] B [SEP], types as the backend's template gives them
        fields["input_ids"] = [layout.cls_id, *ids, layout.sep_id, layout.sep_id, *second[0], layout.sep_id]
        types = [0] * (len(ids) + 1) + [1] * (len(second[0]) + 3)
        specials = [1] + [0] * len(ids) + [1, 1] + [0] * len(second[0]) + [1]
        spans = [(0, 0), *(offsets or []), (0, 0), (0, 0), *(second[1] or []), (0, 0)]
    if layout.token_type_ids:
        fields["token_type_ids"] = types
    if layout.attention_mask:
        fields["attention_mask"] = [1] * len(fields["input_ids"])
    if layout.special_tokens_mask:
        fields["special_tokens_mask"] = specials
    if layout.offsets:
        fields["offset_mapping"] = spans
    return fields


# What the backend puts at a padded position, by field.
_PADDING = {"attention_mask": 0, "special_tokens_mask": 1, "offset_mapping": (0, 0)}


def pad(rows: list[dict[str, list]], layout: Layout) -> None:
    """Pad every row in place as the backend does (to the longest row or `max_length`, rounded up to
    `pad_to_multiple_of`), then add `length` (the padded length, as the backend counts it)."""
    if layout.padding != PaddingStrategy.DO_NOT_PAD and rows:
        longest = max(len(row["input_ids"]) for row in rows)
        target = layout.max_length if layout.padding == PaddingStrategy.MAX_LENGTH else longest
        multiple = layout.pad_to_multiple_of
        if multiple and target % multiple:
            target += multiple - target % multiple
        values = {**_PADDING, "input_ids": layout.pad_id, "token_type_ids": layout.pad_type_id}
        for row in rows:
            missing = target - len(row["input_ids"])
            if missing > 0:
                for key, field in row.items():
                    filler = [values[key]] * missing
                    row[key] = field + filler if layout.padding_side == "right" else filler + field
    if layout.length:
        for row in rows:
            row["length"] = len(row["input_ids"])
