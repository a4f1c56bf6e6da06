"""ERNIE-M's word segmentation: sentencepiece, then the rule that re-cuts its pieces, with character offsets.

After sentencepiece, both references cut every piece again: each CJK ideograph (U+4E00–U+9FFF) and each
character of `,;:.?!~，；：。？！《》【】` becomes a token of its own, pieces are cut where digits meet non-digits,
and a `▁` left alone by a cut is dropped. They differ on lone `▁` pieces:

- `"transformers"` (transformers 4.39, the default): a lone `▁` is kept when it is not the first piece and the
  next piece does not start with `▁`; otherwise dropped.
- `"paddlenlp"` (PaddleNLP, what UIE-M was trained with): every lone `▁` is dropped.

Offsets come from the segmentation itself: sentencepiece reports, for every character of its normalised
text, the character of the input it came from, so a token's span is exact whatever the normalisation did.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache, lru_cache
from itertools import accumulate
from typing import Literal, get_args

import sentencepiece as spm

TokenizerRule = Literal["transformers", "paddlenlp"]
SPIECE_UNDERLINE = "▁"
_PUNCTUATION = frozenset(",;:.?!~，；：。？！《》【】")


def _stands_alone(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff" or char in _PUNCTUATION


@cache
def _cut_characters() -> frozenset[str]:
    """Every character at which the rule could cut: ideographs, the punctuation and `str.isdigit` digits."""
    digits = (chr(code) for code in range(0x110000) if chr(code).isdigit())
    return frozenset(chr(code) for code in range(0x4E00, 0xA000)) | _PUNCTUATION | frozenset(digits)


_SURROGATE = re.compile("[\ud800-\udfff]")


def check_text(text) -> str:
    """Refuse what sentencepiece cannot take, with the reason: non-strings and lone surrogates."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    if (surrogate := _SURROGATE.search(text)) is not None:
        raise ValueError(
            f"text holds a lone surrogate {surrogate.group()!r} at character {surrogate.start()}; "
            "it is not valid Unicode text (decode the source with errors='replace' to keep the rest)"
        )
    return text


def check_rule(rule: str) -> TokenizerRule:
    if rule not in get_args(TokenizerRule):
        raise ValueError(f"tokenizer_rule must be one of {get_args(TokenizerRule)}, got {rule!r}")
    return rule  # type: ignore[return-value]


def cut_pieces(pieces: Sequence[str], rule: TokenizerRule) -> list[tuple[int, int, int]]:
    """Apply the references' rule to sentencepiece pieces.

    Returns (start, end, piece index) of the tokens, in order, where start and end are positions in the
    concatenation of `pieces` (sentencepiece's normalised text): `"".join(pieces)[start:end]` is each token.
    """
    check_rule(rule)
    ranges: list[tuple[int, int, int]] = []
    base = 0
    last_index = len(pieces) - 1
    for index, piece in enumerate(pieces):
        if piece == SPIECE_UNDERLINE:
            # transformers 4.39 keeps it before a piece without `▁` (and raises IndexError when it is the last
            # piece; sentencepiece strips trailing whitespace, so that does not happen on normalised text).
            if rule == "transformers" and 0 < index < last_index and not pieces[index + 1].startswith(SPIECE_UNDERLINE):
                ranges.append((base, base + 1, index))
            base += 1
            continue
        for start, end in _cut_piece(piece):
            ranges.append((base + start, base + end, index))
        base += len(piece)
    return ranges


@lru_cache(maxsize=1 << 16)
def _cut_piece(piece: str) -> tuple[tuple[int, int], ...]:
    """The (start, end) token ranges of one piece other than a lone `▁` (pieces repeat: cached)."""
    if _cut_characters().isdisjoint(piece):  # most pieces
        return ((0, len(piece)),)
    ranges = []
    cut = 0
    previous = ""
    for position, char in enumerate(piece):
        if char != SPIECE_UNDERLINE:
            if _stands_alone(char):
                if position > cut and piece[cut:position] != SPIECE_UNDERLINE:
                    ranges.append((cut, position))
                ranges.append((position, position + 1))
                cut = position + 1
            elif position > 0 and char.isdigit() != previous.isdigit():
                if position > cut and piece[cut:position] != SPIECE_UNDERLINE:
                    ranges.append((cut, position))
                cut = position
        previous = char
    if len(piece) > cut:
        ranges.append((cut, len(piece)))
    return tuple(ranges)


class Segmenter:
    """Sentencepiece plus the rule, for many texts at once, with or without character offsets."""

    def __init__(self, processor: spm.SentencePieceProcessor, rule: TokenizerRule, sampling: dict | None = None):
        self.processor = processor
        self.rule = check_rule(rule)
        self.sampling = sampling or {}

    def _encode(self, texts: list[str]) -> list[list[str]]:
        if len(texts) == 1:  # a one-text batch would start sentencepiece's thread pool: 6x slower
            return [self.processor.encode(texts[0], out_type=str, **self.sampling)]
        return self.processor.encode(texts, out_type=str, **self.sampling)

    def tokens(self, texts: list[str]) -> list[list[str]]:
        """The tokens of each text."""
        nothing_to_cut = _cut_characters().isdisjoint
        result = []
        for pieces in self._encode(texts):
            if SPIECE_UNDERLINE not in pieces and all(map(nothing_to_cut, pieces)):
                result.append(pieces)  # the rule changes nothing: most lines of alphabetic scripts
                continue
            normalized = "".join(pieces)
            result.append([normalized[start:end] for start, end, _ in cut_pieces(pieces, self.rule)])
        return result

    def tokens_with_offsets(self, texts: list[str]) -> list[list[tuple[str, int, int, int]]]:
        """The tokens of each text as (token, start, end, word): their character span in that text and the
        index of their word (sentencepiece's words: a piece starting with `▁` starts one).

        A token's span leaves out the whitespace its `▁` stands for; a lone `▁` token spans the whitespace.
        Where one input character normalises to several (`㍻` → `平成`) and the rule cuts between them, each
        token gets the whole character.
        """
        result = []
        for text, pieces in zip(texts, self._encode(texts), strict=True):
            normalized, origins = self.processor.normalize(text, with_offsets=True)
            if "".join(pieces) != normalized:
                raise RuntimeError(f"sentencepiece pieces do not cover its normalised text for {text!r}")
            ends = source_ends(origins)
            words = list(accumulate(piece.startswith(SPIECE_UNDERLINE) for piece in pieces))
            tokens = []
            for start, end, piece in cut_pieces(pieces, self.rule):
                token = normalized[start:end]
                if token[0] == SPIECE_UNDERLINE and end - start > 1:
                    start += 1
                tokens.append((token, origins[start], ends[end - 1], max(words[piece] - 1, 0)))
            result.append(tokens)
        return result

    def source_tokens(self, texts: list[str], do_lower_case: bool) -> list[list[tuple[str, int, int, int]]]:
        """`tokens_with_offsets` of each text, lowercased first when `do_lower_case` (as the references do,
        sparing nothing), with the spans mapped back to the text as given."""
        if not do_lower_case:
            return self.tokens_with_offsets(texts)
        lowered = [lowercase(text) for text in texts]
        result = []
        for (_, origins), tokens in zip(lowered, self.tokens_with_offsets([text for text, _ in lowered]), strict=True):
            ends = source_ends(origins)
            result.append([(token, origins[begin], ends[end - 1], word) for token, begin, end, word in tokens])
        return result


def lowercase(text: str, spared: Sequence[str] = ()) -> tuple[str, list[int]]:
    """Lowercase as transformers 4.x and PaddleNLP do, with the original position of every output character.

    Their regex `(spared)|(.+?)` lowers one character at a time (so a final sigma stays "σ"), leaves "\\n" (which
    `.` does not match) and the `spared` strings (special tokens) as they are. A character may lengthen
    ("İ" becomes "i̇"); `origins` has one entry per output character plus the text's length.
    """
    pattern = re.compile("(" + "|".join(map(re.escape, spared)) + ")|(.+?)" if spared else "(.+?)")
    lowered, origins, position = [], [], 0
    for match in pattern.finditer(text):
        kept = match.group(1) if spared else None
        for skipped in range(position, match.start()):  # characters `.` does not match
            lowered.append(text[skipped])
            origins.append(skipped)
        if kept is not None:
            lowered.append(kept)
            origins.extend(range(match.start(), match.end()))
        else:
            low = match.group(match.lastindex).lower()
            lowered.append(low)
            origins.extend([match.start()] * len(low))
        position = match.end()
    for skipped in range(position, len(text)):
        lowered.append(text[skipped])
        origins.append(skipped)
    origins.append(len(text))
    return "".join(lowered), origins


def source_ends(origins: Sequence[int]) -> list[int]:
    """For each derived character, where its source ends: the next larger origin (`origins` has one entry per
    derived character plus the source's length). Characters derived from one source character all end after it."""
    ends = [0] * (len(origins) - 1)
    following = origins[-1]
    for index in range(len(origins) - 2, -1, -1):
        if origins[index + 1] > origins[index]:
            following = origins[index + 1]
        ends[index] = max(following, origins[index])
    return ends
