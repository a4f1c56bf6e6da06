"""ErnieMTokenizerFast: a `tokenizers`-backed ERNIE-M tokenizer with the slow tokenizer's exact ids.

No pure-Rust `tokenizers` pipeline reproduces ERNIE-M's ids (the references cut sentencepiece's pieces
after segmentation, which `tokenizers` has no stage for). So the backend is a `tokenizers.Tokenizer` whose
pre-tokenizer is Python: it runs sentencepiece and the rule (`erniem.segmentation`) on each text, splits
the text into sentencepiece's words and attaches the finished tokens to them; a WordLevel model over
vocab.txt holds the ids. Rust does the rest: added tokens, pairs and special tokens, truncation, padding,
offsets and word ids. What transformers asks of a fast tokenizer (`is_fast`, `word_ids()`, offsets,
token-classification aggregation) works; the backend cannot be written to tokenizer.json, so
`save_pretrained` writes the slow tokenizer's files, from which this class is rebuilt.

Most calls (strings, no overflow, no added token in the texts) do not go through the backend at all: the
tokenizer computes the backend's output in Python and leaves the `Encoding` objects to be made by the
backend when first asked for (`erniem.fast_encoding`), several times faster with identical results.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from itertools import accumulate
from pathlib import Path
from typing import Any

from tokenizers import NormalizedString, PreTokenizedString, Token, Tokenizer, decoders, models, pre_tokenizers
from tokenizers.processors import TemplateProcessing
from transformers import BatchEncoding, PreTrainedTokenizerFast
from transformers.tokenization_utils_base import PaddingStrategy

from .fast_encoding import Layout, LazyEncodings, applies, assemble, needs_cut, pad, segment
from .files import write_text
from .segmentation import SPIECE_UNDERLINE, Segmenter, TokenizerRule, check_text
from .tokenization import (
    VOCAB_FILES_NAMES,
    ErnieMTokenizer,
    added_token_search,
    configure,
    decode,
    join_pieces,
    write_vocabulary,
)


class _SegmentingPreTokenizer:
    """The Python stage of the backend: sentencepiece words, each carrying its finished tokens."""

    def __init__(self, segmenter: Segmenter, do_lower_case: bool, vocab: dict[str, int], unknown_id: int):
        self.segmenter = segmenter
        self.do_lower_case = do_lower_case
        self.vocab = vocab
        self.unknown_id = unknown_id

    def pre_tokenize(self, pretokenized: PreTokenizedString) -> None:
        words: list[list[Token]] = []  # per call: the backend runs calls on several threads

        def split(_: int, normalized: NormalizedString) -> list[NormalizedString]:
            text = normalized.normalized
            spans: list[list] = []  # [start, end, [(id, token, start, end)]]
            for token, begin, end, word in self.segmenter.source_tokens([text], self.do_lower_case)[0]:
                entry = (self.vocab.get(token, self.unknown_id), token, begin, end)
                if spans and (word == spans[-1][3] or begin < spans[-1][1]):  # same word, or overlapping
                    spans[-1][1] = max(spans[-1][1], end)
                    spans[-1][2].append(entry)
                else:
                    spans.append([begin, end, [entry], word])
            # Token offsets are in bytes of the word's text; the word slices in characters.
            to_bytes = (
                range(len(text) + 1) if text.isascii() else list(accumulate((len(c.encode()) for c in text), initial=0))
            )
            pieces = []
            for start, end, entries, _ in spans:
                base = to_bytes[start]
                words.append([Token(i, token, (to_bytes[b] - base, to_bytes[e] - base)) for i, token, b, e in entries])
                pieces.append(normalized.slice((start, end)))
            return pieces

        pretokenized.split(split)
        remaining = iter(words)
        pretokenized.tokenize(lambda _: next(remaining))


class ErnieMTokenizerFast(PreTrainedTokenizerFast):
    r"""ERNIE-M's tokenizer on a `tokenizers` backend, with the ids of
    [`ErnieMTokenizer`][erniem.ErnieMTokenizer] (both rules).

    Takes the arguments of [`ErnieMTokenizer`][erniem.ErnieMTokenizer] and is built from the same two files.
    Words (`word_ids()`) are sentencepiece's: a run of text between whitespace, or each word of
    `is_split_into_words` input.
    """

    vocab_files_names = VOCAB_FILES_NAMES
    model_input_names = ["input_ids"]
    slow_tokenizer_class = ErnieMTokenizer

    def __init__(
        self,
        sentencepiece_model_ckpt: str | None = None,
        vocab_file: str | None = None,
        do_lower_case: bool = False,
        encoding: str = "utf8",
        unk_token: str = "[UNK]",
        sep_token: str = "[SEP]",
        pad_token: str = "[PAD]",
        cls_token: str = "[CLS]",
        mask_token: str = "[MASK]",
        sp_model_kwargs: dict[str, Any] | None = None,
        tokenizer_rule: TokenizerRule = "transformers",
        **kwargs,
    ) -> None:
        for unsupported in ("tokenizer_object", "tokenizer_file"):
            kwargs.pop(unsupported, None)  # the backend is always rebuilt from the two files
        settings, vocab = configure(self, sentencepiece_model_ckpt, vocab_file, sp_model_kwargs, kwargs, locals())
        missing = [
            token for token in (unk_token, sep_token, pad_token, cls_token, mask_token) if str(token) not in vocab
        ]
        if missing:
            raise ValueError(f"special tokens {missing} are not in the vocabulary")
        backend = Tokenizer(models.WordLevel(vocab, unk_token=str(unk_token)))
        cls, sep = str(cls_token), str(sep_token)
        backend.post_processor = TemplateProcessing(
            single=f"{cls}:0 $A:0 {sep}:0",
            pair=f"{cls}:0 $A:0 {sep}:1 {sep}:1 $B:1 {sep}:1",  # types as ErnieMTokenizer gives them
            special_tokens=[(cls, vocab[cls]), (sep, vocab[sep])],
        )
        backend.decoder = decoders.Metaspace(replacement=SPIECE_UNDERLINE)
        self._tokenizer = backend
        super().__init__(**settings)
        self.vocab_file = vocab_file
        # Attached after transformers' set-up, which inspects (and may rewrite) any pre-tokenizer it finds.
        sampling = ErnieMTokenizer.sampling_options(self.sp_model_kwargs)
        self._segmenter = Segmenter(self.sp_model, self.tokenizer_rule, sampling)
        self._vocab, self._unknown_id, self._template_ids = vocab, vocab[str(unk_token)], (vocab[cls], vocab[sep])
        backend.pre_tokenizer = pre_tokenizers.PreTokenizer.custom(
            _SegmentingPreTokenizer(self._segmenter, do_lower_case, vocab, self._unknown_id)
        )

    def _encode_plus(self, text, text_pair=None, **kwargs):
        for sequence in (text, text_pair):
            _check_strings(sequence)
        direct = self._encode_directly(text, text_pair, kwargs)
        if direct is not None:
            return direct
        return self._encode_in_backend(text, text_pair, **kwargs)

    def _encode_in_backend(self, text, text_pair=None, **kwargs) -> BatchEncoding:
        with _serial_backend():
            return super()._encode_plus(text, text_pair, **kwargs)

    def _encode_directly(self, text, text_pair, options: dict) -> BatchEncoding | None:
        """The backend's output for this call computed in Python (`erniem.fast_encoding`), its encodings made by
        the backend when first asked for; None for the calls left to the backend."""
        batched = isinstance(text, (list, tuple))
        texts = list(text) if batched else [text]
        pairs = None if text_pair is None else list(text_pair) if batched else [text_pair]
        if self.split_special_tokens or self._segmenter.sampling or not applies(texts, pairs, options):
            return None
        strings = texts + (pairs or [])
        search = self._added_token_search()
        if search is not None and any(map(search, strings)):
            return None  # added tokens are cut out by the backend
        padding = options.get("padding_strategy") or PaddingStrategy.DO_NOT_PAD
        pad_id = self.pad_token_id if padding != PaddingStrategy.DO_NOT_PAD else None
        layout = Layout.of(options, self, self._template_ids, pad_id)
        segmented = segment(strings, self._segmenter, self._vocab, self._unknown_id, self.do_lower_case, layout.offsets)
        firsts, seconds = segmented[: len(texts)], segmented[len(texts) :] or [None] * len(texts)
        if pairs is not None and any(needs_cut(a, b, layout) for a, b in zip(firsts, seconds, strict=True)):
            return None  # a pair to truncate: the backend's rule decides what each sequence keeps
        rows = [assemble(a, b, layout) for a, b in zip(firsts, seconds, strict=True)]
        pad(rows, layout)
        for row in rows:
            self._eventual_warn_about_too_long_sequence(
                row["input_ids"], layout.max_length, options.get("verbose", True)
            )
        data = {key: [row[key] for row in rows] for key in rows[0]} if rows else {"input_ids": []}
        tensors = options.get("return_tensors")
        if not batched and tensors is None:
            # as the backend's path unbatches: per-token fields lose the batch level, `length` keeps it
            data = {key: value[0] if value and isinstance(value[0], list) else value for key, value in data.items()}
        arguments = (texts, pairs) if batched else (text, text_pair)
        return LazyEncodings(
            data,
            lambda: self._encode_in_backend(*arguments, **options).encodings,
            n_sequences=1 if pairs is None else 2,
            tensor_type=tensors,
        )

    def _added_token_search(self):
        """A search for the added tokens' contents (special tokens included), remade when they change."""
        contents = tuple(token.content for token in self._tokenizer.get_added_tokens_decoder().values())
        cached = getattr(self, "_search_cache", None)
        if cached is None or cached[0] != contents:
            cached = self._search_cache = (contents, added_token_search(contents))
        return cached[1]

    @property
    def can_save_slow_tokenizer(self) -> bool:
        return True

    def save_vocabulary(self, save_directory: str, filename_prefix: str | None = None) -> tuple[str, str]:
        vocab = self._tokenizer.get_vocab(with_added_tokens=False)
        return write_vocabulary(vocab, self.sp_model, save_directory, filename_prefix)

    def _save_pretrained(self, save_directory, file_names, legacy_format=None, filename_prefix=None):
        """Write vocab.txt and sentencepiece.bpe.model (the Python stage cannot go into tokenizer.json), and keep the
        added tokens in tokenizer_config.json, as the slow tokenizer does: transformers leaves them out of it for a
        `tokenizers` backend, whose tokenizer.json would hold them."""
        config_file = file_names[0]  # tokenizer_config.json, which transformers has just written
        config = json.loads(Path(config_file).read_text(encoding="utf-8"))
        config["added_tokens_decoder"] = {
            str(index): token.__getstate__() for index, token in sorted(self.added_tokens_decoder.items())
        }
        write_text(config_file, json.dumps(config, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
        return tuple(file_names) + self.save_vocabulary(str(save_directory), filename_prefix)

    def convert_tokens_to_string(self, tokens: list[str]) -> str:
        return join_pieces(tokens)

    def _decode(
        self,
        token_ids: int | list[int],
        skip_special_tokens: bool = False,
        clean_up_tokenization_spaces: bool | None = None,
        spaces_between_special_tokens: bool = True,
        **kwargs,
    ) -> str:
        return decode(self, token_ids, skip_special_tokens, clean_up_tokenization_spaces, spaces_between_special_tokens)

    def __getstate__(self) -> dict:
        raise TypeError("ErnieMTokenizerFast cannot be pickled (its backend runs Python); pickle ErnieMTokenizer")


@contextmanager
def _serial_backend():
    """Run the backend on one thread for this call: the Python pre-tokenizer holds the GIL, so `tokenizers`'
    worker threads only wait on each other (a 1,000-line batch takes 1.6x as long in parallel). `tokenizers`
    reads TOKENIZERS_PARALLELISM at every call; the caller's setting is restored afterwards."""
    previous = os.environ.get("TOKENIZERS_PARALLELISM")
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("TOKENIZERS_PARALLELISM", None)
        else:
            os.environ["TOKENIZERS_PARALLELISM"] = previous


def _check_strings(value) -> None:
    """Refuse lone surrogates anywhere in an input before the backend sees it (it would fail obscurely)."""
    if isinstance(value, str):
        check_text(value)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _check_strings(item)


__all__ = ["ErnieMTokenizerFast"]
