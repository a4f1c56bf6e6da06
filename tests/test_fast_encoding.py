"""ErnieMTokenizerFast's direct path (erniem.fast_encoding) against its `tokenizers` backend: identical outputs.

Each call is made twice: as users make it (the direct path where it applies), and on a tokenizer whose direct
path is switched off (the backend computes everything). Every field, every `Encoding` (ids, tokens, word ids,
offsets, type ids, special-token masks) and the tensors must be equal, on corpus lines in 47 languages.
"""

from __future__ import annotations

import pytest
import torch
from tests.conftest import corpus

import erniem
from erniem.fast_encoding import LazyEncodings


class BackendOnly(erniem.ErnieMTokenizerFast):
    """The fast tokenizer with the direct path off: what it returned before the direct path existed."""

    def _encode_directly(self, text, text_pair, options):
        return None


@pytest.fixture(scope="module")
def lines() -> list[str]:
    texts = [text for _, text in corpus()]
    return texts[::97] + ["", "   ", "a", "Ｆｕｌｌ ｶﾞ e\u0301 ㍻ …", "İstanbul ΣΊΣΥΦΟΣ", "x " * 300]


def pair_of(settings: dict, vocabulary):
    files = (str(vocabulary / "sentencepiece.bpe.model"), str(vocabulary / "vocab.txt"))
    return erniem.ErnieMTokenizerFast(*files, **settings), BackendOnly(*files, **settings)


@pytest.fixture(scope="module")
def tokenizers(vocabulary):
    return pair_of({}, vocabulary)


def assert_same(direct, backend):
    assert isinstance(direct, LazyEncodings)
    assert direct._make is not None  # nothing asked for the encodings yet
    assert set(direct) == set(backend)
    for key in backend:
        if isinstance(backend[key], torch.Tensor):
            assert torch.equal(direct[key], backend[key]), key
        else:
            assert direct[key] == backend[key], key
    assert direct.n_sequences == backend.n_sequences
    for ours, theirs in zip(direct.encodings, backend.encodings, strict=True):
        for field in ("ids", "tokens", "word_ids", "offsets", "type_ids", "special_tokens_mask", "attention_mask"):
            assert getattr(ours, field) == getattr(theirs, field), field


CALLS = [
    {},
    {"return_offsets_mapping": True},
    {"return_offsets_mapping": True, "return_special_tokens_mask": True, "return_length": True},
    {"padding": True, "return_attention_mask": True},
    {"padding": True},
    {"padding": "max_length", "max_length": 48, "truncation": True, "return_attention_mask": True},
    {"truncation": True, "max_length": 16, "return_offsets_mapping": True, "return_token_type_ids": True},
    {"padding": True, "pad_to_multiple_of": 8, "padding_side": "left", "return_offsets_mapping": True},
    {"add_special_tokens": False, "return_special_tokens_mask": True, "return_token_type_ids": True},
    {"add_special_tokens": False, "truncation": True, "max_length": 5},
    {"padding": True, "truncation": True, "return_tensors": "pt", "return_attention_mask": True},
    {"truncation": True},  # to model_max_length (512): the 300-word line is cut
]


@pytest.mark.parametrize("call", CALLS, ids=[",".join(f"{k}={v}" for k, v in c.items()) or "default" for c in CALLS])
def test_batches_of_single_texts(tokenizers, lines, call):
    direct, backend = tokenizers
    assert_same(direct(lines, **call), backend(lines, **call))


@pytest.mark.parametrize("call", CALLS[:5] + CALLS[8:9] + [{"return_tensors": "pt"}])
def test_one_text(tokenizers, lines, call):
    direct, backend = tokenizers
    for text in lines[:40]:
        assert_same(direct(text, **call), backend(text, **call))


@pytest.mark.parametrize(
    "call",
    [
        {"return_token_type_ids": True, "return_offsets_mapping": True, "return_special_tokens_mask": True},
        {"truncation": True, "max_length": 512, "padding": True, "return_token_type_ids": True},
        {"add_special_tokens": False, "return_token_type_ids": True},
    ],
)
def test_pairs_that_need_no_cut(tokenizers, lines, call):
    direct, backend = tokenizers
    short = [line for line in lines if len(line) < 400]
    assert_same(direct(short[:-1], short[1:], **call), backend(short[:-1], short[1:], **call))
    assert_same(direct(short[0], short[1], **call), backend(short[0], short[1], **call))


def test_the_truncation_side_is_honoured(vocabulary, lines):
    direct, backend = pair_of({"truncation_side": "left"}, vocabulary)
    call = {"truncation": True, "max_length": 12, "return_offsets_mapping": True}
    assert_same(direct(lines, **call), backend(lines, **call))


@pytest.mark.parametrize("settings", [{"do_lower_case": True}, {"tokenizer_rule": "paddlenlp"}])
def test_other_settings(vocabulary, lines, settings):
    direct, backend = pair_of(settings, vocabulary)
    call = {"return_offsets_mapping": True, "padding": True}
    assert_same(direct(lines, **call), backend(lines, **call))


def test_calls_left_to_the_backend_give_what_they_gave(tokenizers, lines):
    """Pairs to truncate, words, overflow and texts holding added tokens run the backend, as before."""
    direct, backend = tokenizers
    cases = [
        ((lines[:20], lines[20:40]), {"truncation": True, "max_length": 10}),
        (([line.split() for line in lines[:20] if line],), {"is_split_into_words": True}),
        ((lines[:20],), {"truncation": True, "max_length": 8, "stride": 2, "return_overflowing_tokens": True}),
        ((["a [SEP] b", "[MASK] x"],), {"return_offsets_mapping": True}),
    ]
    for arguments, call in cases:
        ours, theirs = direct(*arguments, **call), backend(*arguments, **call)
        assert not isinstance(ours, LazyEncodings)
        assert dict(ours) == dict(theirs)


def test_added_tokens_send_a_call_to_the_backend(vocabulary):
    direct, backend = pair_of({}, vocabulary)
    for tokenizer in (direct, backend):
        tokenizer.add_tokens(["bim"])
    assert isinstance(direct(["no added token here"]), LazyEncodings)
    ours, theirs = direct(["a bim b", "plain"]), backend(["a bim b", "plain"])
    assert not isinstance(ours, LazyEncodings) and dict(ours) == dict(theirs)
    # A special token already in the vocabulary adds no id, yet the backend now cuts it out of texts.
    for tokenizer in (direct, backend):
        tokenizer.add_special_tokens({"extra_special_tokens": ["hello"]}, replace_extra_special_tokens=False)
    ours, theirs = direct(["say hello", "plain"]), backend(["say hello", "plain"])
    assert not isinstance(ours, LazyEncodings) and dict(ours) == dict(theirs)


def test_encodings_are_made_once_and_survive_pickling(tokenizers, lines):
    import pickle

    direct, backend = tokenizers
    output = direct(lines[:3], return_offsets_mapping=True)
    first = output.encodings
    assert output.encodings is first and output._make is None
    restored = pickle.loads(pickle.dumps(output))
    assert [e.ids for e in restored.encodings] == [e.ids for e in backend(lines[:3]).encodings]
    assert restored["offset_mapping"] == output["offset_mapping"]
