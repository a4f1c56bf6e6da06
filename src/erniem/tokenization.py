"""ErnieMTokenizer: sentencepiece plus the references' piece rule, with ids from vocab.txt and exact offsets."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from typing import Any

import sentencepiece as spm
from transformers import PreTrainedTokenizer
from transformers.tokenization_utils_base import AddedToken, BatchEncoding, PaddingStrategy, TruncationStrategy

from .segmentation import SPIECE_UNDERLINE, Segmenter, TokenizerRule, check_rule, check_text, lowercase, source_ends

VOCAB_FILES_NAMES = {"sentencepiece_model_ckpt": "sentencepiece.bpe.model", "vocab_file": "vocab.txt"}
# 514 position rows, shifted by 2: at most 512 tokens reach the model. The hub's tokenizer_config.json says 514.
MAX_LENGTH = 512


def read_vocab(path: str | os.PathLike) -> dict[str, int]:
    """vocab.txt: the token on line i has id i. Lines end with "\\n" only (a piece may be "\\x85")."""
    with open(path, encoding="utf-8", newline="") as file:
        lines = file.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return {token: index for index, token in enumerate(lines)}


class ErnieMTokenizer(PreTrainedTokenizer):
    r"""ERNIE-M's tokenizer: sentencepiece, then the references' rule, ids from `vocab.txt`.

    Args:
        sentencepiece_model_ckpt: path of `sentencepiece.bpe.model`.
        vocab_file: path of `vocab.txt` (ERNIE-M's ids); without it, ids are sentencepiece's.
        do_lower_case: lowercase the text (character by character, special tokens excepted) first.
        encoding: kept for compatibility with transformers 4.x; files are read as UTF-8.
        unk_token: the special token for unknown pieces.
        sep_token: the special token that ends each sequence.
        pad_token: the special token for padding.
        cls_token: the special token that starts each input.
        mask_token: the special token for masked positions.
        sp_model_kwargs: passed to `SentencePieceProcessor`; `enable_sampling`, `alpha` and `nbest_size`
            turn on subword sampling.
        tokenizer_rule: `"transformers"` (default; transformers 4.39's ids, what the hub checkpoints expect)
            or `"paddlenlp"` (PaddleNLP's ids; what UIE-M was trained with). See `erniem.segmentation`.

    Pairs are laid out `[CLS] A [SEP] [SEP] B [SEP]`; `return_offsets_mapping=True` gives each token's character
    span in the original text, `(0, 0)` for special and padding tokens.
    """

    vocab_files_names = VOCAB_FILES_NAMES
    model_input_names = ["input_ids"]

    def __init__(
        self,
        sentencepiece_model_ckpt: str,
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
        settings, self.vocab = configure(self, sentencepiece_model_ckpt, vocab_file, sp_model_kwargs, kwargs, locals())
        self.reverse_vocab = {index: token for token, index in self.vocab.items()}
        super().__init__(**settings)

    # --- sentencepiece -------------------------------------------------------------------------------------

    @staticmethod
    def sampling_options(sp_model_kwargs: dict[str, Any]) -> dict[str, Any]:
        """Sentencepiece's subword-sampling arguments, as transformers 4.x read them from `sp_model_kwargs`."""
        if sp_model_kwargs.get("enable_sampling") is not True:
            return {}
        alpha, nbest_size = sp_model_kwargs.get("alpha"), sp_model_kwargs.get("nbest_size")
        return {
            "enable_sampling": True,
            "alpha": 0.1 if alpha is None else alpha,
            "nbest_size": 64 if nbest_size is None else nbest_size,
        }

    @property
    def segmenter(self) -> Segmenter:
        return Segmenter(self.sp_model, self.tokenizer_rule, self.sampling_options(self.sp_model_kwargs))

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["sp_model"] = None
        state["_sp_model_proto"] = self.sp_model.serialized_model_proto()
        return state

    def __setstate__(self, state: dict) -> None:
        proto = state.pop("_sp_model_proto")
        self.__dict__ = state
        self.sp_model = spm.SentencePieceProcessor(**self.sp_model_kwargs)
        self.sp_model.LoadFromSerializedProto(proto)

    # --- vocabulary ----------------------------------------------------------------------------------------

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def get_vocab(self) -> dict[str, int]:
        return dict(self.vocab, **self.added_tokens_encoder)

    def _lookup(self):
        """`dict.get` over the vocabulary with added tokens taking precedence (as `convert_tokens_to_ids`)."""
        added = tuple(self._added_tokens_encoder.items())
        if getattr(self, "_lookup_cache", (None,))[0] != added:
            self._lookup_cache = (added, {**self.vocab, **dict(added)}.get)
        return self._lookup_cache[1]

    def _convert_token_to_id(self, token: str) -> int:
        return self.vocab.get(token, self.vocab.get(self.unk_token))

    def _convert_id_to_token(self, index: int) -> str:
        return self.reverse_vocab.get(index, self.unk_token)

    def save_vocabulary(self, save_directory: str, filename_prefix: str | None = None) -> tuple[str, str]:
        """Write vocab.txt and sentencepiece.bpe.model into `save_directory`."""
        return write_vocabulary(self.vocab, self.sp_model, save_directory, filename_prefix)

    # --- tokenizing ----------------------------------------------------------------------------------------

    def tokenize(self, text: str, **kwargs) -> list[str]:
        """Split `text` into tokens: added and special tokens kept whole, the rest segmented."""
        return self._tokenize_texts([text], with_offsets=False, **kwargs)[0]

    def _tokenize(self, text: str, **kwargs) -> list[str]:
        return self.segmenter.tokens([text])[0]

    def _tokenize_texts(
        self, texts: list[str], with_offsets: bool, split_special_tokens: bool | None = None, **kwargs
    ) -> list[list[str]] | list[list[tuple[str, int, int]]]:
        """Tokens of many texts; with offsets, (token, start, end) with character offsets into each text.

        Sentencepiece runs once over every chunk of every text. As in transformers 4.x, lowercasing (when
        `do_lower_case`) goes character by character and spares special tokens, and added tokens are cut out
        of the (lowercased) text before segmentation, honouring their `lstrip`/`rstrip`.
        """
        split_special_tokens = self.split_special_tokens if split_special_tokens is None else split_special_tokens
        added = {} if split_special_tokens else self._added_tokens_encoder
        # A text with no added token needs no trie walk (a Python loop over every character).
        holds_added = added_token_search(added)
        plans = [self._plan(text, added, holds_added) for text in texts]
        chunks = [chunk for _, parts in plans for chunk, _, is_added in parts if not is_added]
        if with_offsets:
            segmented = iter(self.segmenter.tokens_with_offsets(chunks))
        else:
            segmented = iter(self.segmenter.tokens(chunks))
        result = []
        for origins, parts in plans:
            if not with_offsets:
                if len(parts) == 1 and not parts[0][2]:  # the usual case: no added token in the text
                    result.append(next(segmented))
                else:
                    result.append([t for chunk, _, whole in parts for t in ([chunk] if whole else next(segmented))])
                continue
            ends = source_ends(origins) if isinstance(origins, list) else range(1, len(origins) + 1)
            tokens: list[tuple[str, int, int]] = []
            for chunk, start, is_added in parts:
                for token, begin, end, *_ in [(chunk, 0, len(chunk))] if is_added else next(segmented):
                    tokens.append((token, origins[start + begin], ends[start + end - 1]))
            result.append(tokens)
        return result

    def _plan(self, text: str, added: dict[str, int], holds_added) -> tuple[list[int], list[tuple[str, int, bool]]]:
        """Lowercase `text` where configured and cut the `added` tokens out: (chunk, start, is_added) parts.

        Returns `origins` (for each position of the lowercased text, the original position: lowercasing may
        lengthen a character, "İ" becomes "i̇") and the parts.
        """
        text, origins = self._lowercase(check_text(text))
        if holds_added is None or not holds_added(text):
            return origins, [(text, 0, False)] if text else []
        spans, position = [], 0
        for part in self.tokens_trie.split(text):
            spans.append([part, position])
            position += len(part)
        for index, (part, _) in enumerate(spans):
            token = self._added_tokens_decoder.get(added[part]) if part in added else None
            if isinstance(token, AddedToken):
                if token.rstrip and index + 1 < len(spans):
                    stripped = spans[index + 1][0].lstrip()
                    spans[index + 1][1] += len(spans[index + 1][0]) - len(stripped)
                    spans[index + 1][0] = stripped
                if token.lstrip and index > 0:
                    spans[index - 1][0] = spans[index - 1][0].rstrip()
        return origins, [(part, start, part in added) for part, start in spans if part]

    def _lowercase(self, text: str) -> tuple[str, list[int] | range]:
        if not self.do_lower_case:
            return text, range(len(text) + 1)
        spared = [*self.all_special_tokens]
        spared += [t.content for t in self._added_tokens_decoder.values() if not t.special and t.normalized]
        return lowercase(text, spared)

    # --- encoding -----------------------------------------------------------------------------------------

    def _encode_plus(
        self,
        text,
        text_pair=None,
        add_special_tokens: bool = True,
        padding_strategy: PaddingStrategy = PaddingStrategy.DO_NOT_PAD,
        truncation_strategy: TruncationStrategy = TruncationStrategy.DO_NOT_TRUNCATE,
        max_length: int | None = None,
        stride: int = 0,
        is_split_into_words: bool = False,
        pad_to_multiple_of: int | None = None,
        padding_side: str | None = None,
        return_tensors: str | None = None,
        return_token_type_ids: bool | None = None,
        return_attention_mask: bool | None = None,
        return_overflowing_tokens: bool = False,
        return_special_tokens_mask: bool = False,
        return_offsets_mapping: bool = False,
        return_length: bool = False,
        verbose: bool = True,
        split_special_tokens: bool | None = None,
        **kwargs,
    ) -> BatchEncoding:
        """Encode one input or a batch: every text of the call is segmented in one sentencepiece call.

        Inputs are strings, lists of words (`is_split_into_words=True`; offsets are then relative to each
        word, as with fast tokenizers) or lists of ids; a batch may hold (text, pair) tuples.
        """
        batched = _is_batch(text, is_split_into_words)
        items = _pairs(text, text_pair, batched, is_split_into_words)
        strings = [s for item in items for sequence in item if sequence is not None for s in _strings(sequence)]
        tokenized = iter(self._tokenize_texts(strings, return_offsets_mapping, split_special_tokens))
        lookup, unknown = self._lookup(), self.vocab.get(str(self.unk_token))

        def encoded(sequence):
            if sequence is None:
                return None, None
            if sequence and isinstance(sequence[0], int):
                return list(sequence), [(0, 0)] * len(sequence)
            tokens = [token for _ in _strings(sequence) for token in next(tokenized)]
            if not return_offsets_mapping:
                ids = list(map(lookup, tokens))
                return (ids if None not in ids else [unknown if i is None else i for i in ids]), None
            return [lookup(token, unknown) for token, _, _ in tokens], [(begin, end) for _, begin, end in tokens]

        if return_token_type_ids is None:
            return_token_type_ids = "token_type_ids" in self.model_input_names
        options = dict(
            specials=(self.cls_token_id, self.sep_token_id) if add_special_tokens else None,
            truncation_strategy=truncation_strategy,
            max_length=max_length,
            stride=stride,
            return_token_type_ids=return_token_type_ids,
            return_overflowing_tokens=return_overflowing_tokens and not return_tensors,
            return_special_tokens_mask=return_special_tokens_mask,
            return_offsets_mapping=return_offsets_mapping,
            verbose=verbose,
        )
        outputs = [self._assemble(encoded(first), encoded(second), **options) for first, second in items]
        padding = dict(
            padding=padding_strategy.value,
            max_length=max_length,
            pad_to_multiple_of=pad_to_multiple_of,
            padding_side=padding_side,
            return_attention_mask=return_attention_mask,
        )
        if return_attention_mask is None:
            return_attention_mask = "attention_mask" in self.model_input_names
        if not batched:
            output = outputs[0]
            if padding_strategy != PaddingStrategy.DO_NOT_PAD or return_attention_mask:
                output = dict(self.pad(output, **padding))
            if return_length:
                output["length"] = len(output["input_ids"])
            return BatchEncoding(output, tensor_type=return_tensors, prepend_batch_axis=True)
        if return_length:
            for output in outputs:
                output["length"] = len(output["input_ids"])
        columns = {key: [output[key] for output in outputs] for key in (outputs[0] if outputs else {"input_ids": []})}
        if padding_strategy != PaddingStrategy.DO_NOT_PAD or return_attention_mask:
            columns = dict(self.pad(columns, **padding))
        return BatchEncoding(columns, tensor_type=return_tensors)

    def _assemble(
        self,
        first: tuple[list[int], list[tuple[int, int]]],
        second: tuple[list[int] | None, list[tuple[int, int]] | None],
        specials: tuple[int, int] | None,
        truncation_strategy: TruncationStrategy,
        max_length: int | None,
        stride: int,
        return_token_type_ids: bool,
        return_overflowing_tokens: bool,
        return_special_tokens_mask: bool,
        return_offsets_mapping: bool,
        verbose: bool,
    ) -> dict:
        """Truncate, add special tokens and build one input's fields, offsets truncated exactly like ids.

        The same steps as transformers' `prepare_for_model`, without its padding (done per call).
        """
        (ids, offsets), (pair_ids, pair_offsets) = first, second
        pair = pair_ids is not None
        special_count = (4 if pair else 2) if specials else 0  # [CLS] A [SEP] ([SEP] B [SEP])
        total = len(ids) + (len(pair_ids) if pair else 0) + special_count
        overflowing: list[int] = []
        if truncation_strategy != TruncationStrategy.DO_NOT_TRUNCATE and max_length and total > max_length:
            if return_overflowing_tokens and truncation_strategy == TruncationStrategy.LONGEST_FIRST and pair:
                raise ValueError(  # transformers' wording, which callers match
                    "Not possible to return overflowing tokens for pair of sequences with the "
                    "`longest_first`. Please select another truncation strategy than `longest_first`, "
                    "for instance `only_second` or `only_first`."
                )
            remove = total - max_length
            ids, pair_ids, overflowing = self.truncate_sequences(ids, pair_ids, remove, truncation_strategy, stride)
            if return_offsets_mapping:
                offsets, pair_offsets, _ = self.truncate_sequences(
                    offsets, pair_offsets, remove, truncation_strategy, stride
                )
        sequence = _with_specials(ids, pair_ids, *specials) if specials else ids + (pair_ids or [])
        output = {"input_ids": sequence}
        if return_token_type_ids:
            types = self.create_token_type_ids_from_sequences(ids, pair_ids) if specials else None
            output["token_type_ids"] = types or [0] * len(sequence)
        if return_special_tokens_mask:
            special = self.get_special_tokens_mask(ids, pair_ids) if specials else [0] * len(sequence)
            output["special_tokens_mask"] = special
        if return_offsets_mapping:
            plain = offsets + (pair_offsets or [])
            output["offset_mapping"] = _with_specials(offsets, pair_offsets, (0, 0), (0, 0)) if specials else plain
        if return_overflowing_tokens and overflowing:
            output["overflowing_tokens"] = overflowing
            output["num_truncated_tokens"] = total - max_length
        if max_length is None and verbose and len(sequence) > self.model_max_length:
            self._eventual_warn_about_too_long_sequence(sequence, max_length, verbose)
        return output

    def _pad(self, encoded_inputs, max_length=None, padding_strategy=PaddingStrategy.DO_NOT_PAD, **kwargs) -> dict:
        """Pad as transformers does, and pad `offset_mapping` with `(0, 0)` on the same side."""
        offsets = encoded_inputs.get("offset_mapping")
        padded = super()._pad(encoded_inputs, max_length=max_length, padding_strategy=padding_strategy, **kwargs)
        if offsets is not None:
            missing = len(padded[self.model_input_names[0]]) - len(offsets)
            side = kwargs.get("padding_side") or self.padding_side
            filler = [(0, 0)] * missing
            padded["offset_mapping"] = filler + list(offsets) if side == "left" else list(offsets) + filler
        return padded

    # --- special tokens -----------------------------------------------------------------------------------

    def build_inputs_with_special_tokens(
        self, token_ids_0: list[int], token_ids_1: list[int] | None = None
    ) -> list[int]:
        """`[CLS] A [SEP]`, or `[CLS] A [SEP] [SEP] B [SEP]` for a pair."""
        return _with_specials(token_ids_0, token_ids_1, self.cls_token_id, self.sep_token_id)

    def build_offset_mapping_with_special_tokens(
        self, offset_mapping_0: list[tuple[int, int]], offset_mapping_1: list[tuple[int, int]] | None = None
    ) -> list[tuple[int, int]]:
        """The offsets laid out like `build_inputs_with_special_tokens`, `(0, 0)` on special tokens."""
        return _with_specials(offset_mapping_0, offset_mapping_1, (0, 0), (0, 0))

    def get_special_tokens_mask(
        self, token_ids_0: list[int], token_ids_1: list[int] | None = None, already_has_special_tokens: bool = False
    ) -> list[int]:
        """1 for special tokens, 0 for sequence tokens."""
        if already_has_special_tokens:
            if token_ids_1 is not None:
                raise ValueError("A second sequence cannot be given when the ids already hold special tokens.")
            return [1 if token in (self.sep_token_id, self.cls_token_id) else 0 for token in token_ids_0]
        if token_ids_1 is None:
            return [1, *[0] * len(token_ids_0), 1]
        return [1, *[0] * len(token_ids_0), 1, 1, *[0] * len(token_ids_1), 1]

    def create_token_type_ids_from_sequences(
        self, token_ids_0: list[int], token_ids_1: list[int] | None = None
    ) -> list[int]:
        """0 for `[CLS] A [SEP]`, 1 for `[SEP] B [SEP]` (ERNIE-M itself takes no token types)."""
        if token_ids_1 is None:
            return [0] * (len(token_ids_0) + 2)
        return [0] * (len(token_ids_0) + 1) + [1] * (len(token_ids_1) + 3)

    # --- decoding -----------------------------------------------------------------------------------------

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


SETTINGS = (
    "do_lower_case",
    "encoding",
    "unk_token",
    "sep_token",
    "pad_token",
    "cls_token",
    "mask_token",
    "tokenizer_rule",
)


def configure(
    tokenizer, sentencepiece_model_ckpt, vocab_file, sp_model_kwargs, kwargs: dict, arguments: dict
) -> tuple[dict, dict[str, int]]:
    """Set up what both ERNIE-M tokenizers share: files, settings and transformers 4.x's defaults.

    Loads sentencepiece onto `tokenizer`; returns the keyword arguments for transformers' `__init__` (saved
    in tokenizer_config.json) and the vocabulary (vocab.txt, else sentencepiece's own ids).
    """
    tokenizer.sp_model_kwargs = dict(sp_model_kwargs or {})
    tokenizer.do_lower_case = arguments["do_lower_case"]
    tokenizer.encoding = arguments["encoding"]
    tokenizer.tokenizer_rule = check_rule(arguments["tokenizer_rule"])
    tokenizer.sentencepiece_model_ckpt = sentencepiece_model_ckpt
    tokenizer.vocab_file = vocab_file
    if sentencepiece_model_ckpt is None or not os.path.isfile(sentencepiece_model_ckpt):
        raise ValueError(f"ERNIE-M tokenizers need sentencepiece.bpe.model, got {sentencepiece_model_ckpt!r}")
    tokenizer.sp_model = spm.SentencePieceProcessor(**tokenizer.sp_model_kwargs)
    tokenizer.sp_model.Load(str(sentencepiece_model_ckpt))
    if vocab_file is not None:
        vocab = read_vocab(vocab_file)
    else:
        processor = tokenizer.sp_model
        vocab = {processor.id_to_piece(i): i for i in range(processor.get_piece_size())}
    if kwargs.get("model_max_length") in (None, MAX_LENGTH + 2):
        kwargs["model_max_length"] = MAX_LENGTH
    kwargs.setdefault("clean_up_tokenization_spaces", True)  # transformers 4.x decoded so
    settings = {name: arguments[name] for name in SETTINGS}
    files = dict(sentencepiece_model_ckpt=sentencepiece_model_ckpt, vocab_file=vocab_file)
    return dict(settings, **files, sp_model_kwargs=tokenizer.sp_model_kwargs, **kwargs), vocab


def added_token_search(contents: Iterable[str]) -> Callable[[str], object] | None:
    """A search for any of the added tokens' contents in a text, longest first (None when there are none)."""
    contents = sorted(contents, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, contents))).search if contents else None


def write_vocabulary(
    vocab: dict[str, int], processor: spm.SentencePieceProcessor, directory: str, prefix: str | None = None
) -> tuple[str, str]:
    """Write vocab.txt (one token per line, by id) and sentencepiece.bpe.model into `directory`."""
    if not os.path.isdir(directory):
        raise ValueError(f"save_vocabulary needs an existing directory, got {directory!r}")
    prefix = f"{prefix}-" if prefix else ""
    vocab_path = os.path.join(directory, prefix + VOCAB_FILES_NAMES["vocab_file"])
    model_path = os.path.join(directory, prefix + VOCAB_FILES_NAMES["sentencepiece_model_ckpt"])
    ordered = sorted(vocab.items(), key=lambda item: item[1])
    if [index for _, index in ordered] != list(range(len(ordered))):
        raise ValueError("the vocabulary's ids are not consecutive from 0; vocab.txt cannot represent it")
    with open(vocab_path, "w", encoding="utf-8", newline="") as file:
        file.write("".join(token + "\n" for token, _ in ordered))
    with open(model_path, "wb") as file:
        file.write(processor.serialized_model_proto())
    return vocab_path, model_path


def decode(
    tokenizer,
    token_ids: int | list[int],
    skip_special_tokens: bool,
    clean_up_tokenization_spaces: bool | None,
    spaces_between_special_tokens: bool,
) -> str:
    """Decode as transformers 4.x's ErnieMTokenizer did: tokens joined with `▁` as space, specials inline,
    added non-special tokens set apart by spaces, then the optional clean-up (" ." -> ".", ...)."""
    if isinstance(token_ids, int):
        token_ids = [token_ids]
    tokens = tokenizer.convert_ids_to_tokens(token_ids, skip_special_tokens=skip_special_tokens)
    legacy_added = set(tokenizer.added_tokens_encoder) - set(tokenizer.all_special_tokens)
    texts, current = [], []
    for token in tokens:
        if token in legacy_added:
            if current and (text := join_pieces(current)):
                texts.append(text)
            current = []
            texts.append(token)
        else:
            current.append(token)
    if current:
        texts.append(join_pieces(current))
    text = (" " if spaces_between_special_tokens else "").join(texts)
    if clean_up_tokenization_spaces is None:
        clean_up_tokenization_spaces = tokenizer.clean_up_tokenization_spaces
    return clean_up_tokenization(text) if clean_up_tokenization_spaces else text


# transformers 4.x's clean-up of English tokenization artefacts (not every transformers 5 release has it).
_CLEAN_UP = [
    (" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"),
    (" n't", "n't"), (" 'm", "'m"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re"),
]  # fmt: skip


def clean_up_tokenization(text: str) -> str:
    """Remove the spaces transformers 4.x removed when decoding: before punctuation and English contractions."""
    for before, after in _CLEAN_UP:
        text = text.replace(before, after)
    return text


def join_pieces(tokens: list[str]) -> str:
    return "".join(tokens).replace(SPIECE_UNDERLINE, " ").strip()


def _with_specials(first: list, second: list | None, cls, sep) -> list:
    """ERNIE-M's layout: `[CLS] A [SEP]`, or `[CLS] A [SEP] [SEP] B [SEP]` for a pair."""
    if second is None:
        return [cls, *first, sep]
    return [cls, *first, sep, sep, *second, sep]


def _is_batch(text, is_split_into_words: bool) -> bool:
    """Whether `text` is a batch, by the rules of transformers' Python tokenizers."""
    if not isinstance(text, (list, tuple)):
        return False
    if not text:
        return not is_split_into_words
    if is_split_into_words:
        return isinstance(text[0], (list, tuple))
    return isinstance(text[0], (str, list, tuple))


def _pairs(text, text_pair, batched: bool, is_split_into_words: bool) -> list[tuple[Any, Any]]:
    """The (first, second) sequences of every input; (text, pair) tuples in a batch become pairs."""
    if not batched:
        return [(text, text_pair)]
    if text_pair is not None:
        if not isinstance(text_pair, (list, tuple)) or len(text_pair) != len(text):
            raise ValueError("When `text` is a batch, `text_pair` must be a batch of the same length.")
        return list(zip(text, text_pair, strict=True))
    items = []
    for entry in text:
        if isinstance(entry, (list, tuple)) and entry and not isinstance(entry[0], int):
            is_pair = len(entry) == 2 and (not is_split_into_words or isinstance(entry, tuple))
            is_pair = is_pair and all(isinstance(side, (str, list, tuple)) for side in entry)
            if is_pair:
                items.append(tuple(entry))
                continue
            if len(entry) == 1 and not is_split_into_words:
                items.append((entry[0], None))
                continue
            if not is_split_into_words:
                raise ValueError(f"Expected a text or a pair of texts, got {len(entry)} sequences.")
        items.append((entry, None))
    return items


def _strings(sequence) -> list[str]:
    """The strings a sequence holds: itself, its words, or none (ids)."""
    if isinstance(sequence, str):
        return [sequence]
    if not isinstance(sequence, (list, tuple)):
        raise ValueError(f"Input must be a string, a list of words or a list of ids, got {type(sequence).__name__}.")
    if sequence and all(isinstance(item, str) for item in sequence):
        return list(sequence)
    if all(isinstance(item, int) for item in sequence):
        return []
    raise ValueError("A list input must hold only words (str) or only ids (int).")


__all__ = ["ErnieMTokenizer", "configure", "decode", "join_pieces", "read_vocab", "write_vocabulary"]
