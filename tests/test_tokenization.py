"""ErnieMTokenizer and ErnieMTokenizerFast on the real vocabulary: offsets, slow/fast agreement, files, errors."""

from __future__ import annotations

import json
import pickle
import shutil
import time

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import corpus
from transformers import AutoTokenizer, pipeline

import erniem

# First ids of transformers' ErnieM integration-test sentence, as published with the reference's test.
INTEGRATION_START = [0, 11062, 82772, 7, 15, 82772, 538, 51529, 237, 17198, 1290, 206, 9]
INTEGRATION_SENTENCE = (
    "Transformers (formerly known as pytorch-transformers and pytorch-pretrained-bert) provides general-purpose "
    "architectures (BERT, GPT-2, RoBERTa, XLM, DistilBert, XLNet...) for Natural Language Understanding (NLU) and "
    "Natural Language Generation (NLG) with over32+ pretrained models in100+ languages and deep interoperability "
    "between Jax, PyTorch and TensorFlow."
)
UNKNOWN_ID = 3
RULES = ("transformers", "paddlenlp")


def files(vocabulary):
    return str(vocabulary / "sentencepiece.bpe.model"), str(vocabulary / "vocab.txt")


@pytest.fixture(scope="module")
def tokenizers(vocabulary):
    """rule -> (slow, fast)."""
    return {
        rule: (
            erniem.ErnieMTokenizer(*files(vocabulary), tokenizer_rule=rule),
            erniem.ErnieMTokenizerFast(*files(vocabulary), tokenizer_rule=rule),
        )
        for rule in RULES
    }


def check_offsets(tokenizer, text: str, ids: list[int], offsets: list[tuple[int, int]]) -> int:
    """Assert the offset invariants; return how many tokens share their span with a neighbour.

    Within bounds, starts non-decreasing, non-empty for every token, and the text under each span,
    normalised by sentencepiece, equals the token without its `▁`. Where one character normalises to several
    and a token boundary falls inside it ("…" -> "...", "⅕" -> "1⁄5", Lao "ໝ" -> "ຫມ"), each token touching
    it gets the whole character, so spans overlap; then the overlapping tokens together spell the
    normalisation of the text they cover.
    """
    tokens = tokenizer.convert_ids_to_tokens(ids)
    previous = 0
    for token, (start, end) in zip(tokens, offsets, strict=True):
        assert 0 <= start < end <= len(text), (text, token, start, end)
        assert start >= previous, (text, token, start, previous)
        previous = start
    shared = 0
    index = 0
    while index < len(tokens):
        group, (start, end) = index + 1, offsets[index]
        while group < len(tokens) and offsets[group][0] < end:
            end = max(end, offsets[group][1])
            group += 1
        normalised = tokenizer.sp_model.normalize(text[start:end]).replace("▁", "")
        if tokenizer.do_lower_case:
            normalised = normalised.lower()
        surface = "".join(tokens[index:group]).replace("▁", "")
        if UNKNOWN_ID not in ids[index:group]:
            assert surface == normalised, (text, tokens[index:group], text[start:end], normalised)
        shared += group - index if group - index > 1 else 0
        index = group
    return shared


def test_integration_sentence_starts_with_the_published_ids(tokenizers):
    for slow, fast in tokenizers.values():
        assert slow(INTEGRATION_SENTENCE)["input_ids"][: len(INTEGRATION_START)] == INTEGRATION_START
        assert fast(INTEGRATION_SENTENCE)["input_ids"][: len(INTEGRATION_START)] == INTEGRATION_START


def test_offsets_hold_on_every_corpus_line(tokenizers):
    slow = tokenizers["transformers"][0]
    lines = [text for _, text in corpus()]
    encoded = slow(lines, return_offsets_mapping=True, add_special_tokens=False)
    shared = 0
    for text, ids, offsets in zip(lines, encoded["input_ids"], encoded["offset_mapping"], strict=True):
        shared += check_offsets(slow, text, ids, offsets)
    assert shared < 0.005 * sum(map(len, encoded["input_ids"]))  # one-to-many normalisations are rare


MIXED = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8", exclude_categories=("Cs",)),
        st.sampled_from(list(" \t\n\u3000\u00a0\u200b\u200d\ufeff")),  # whitespace kinds, zero-width marks
        st.sampled_from(list("😀👍🏽🏳️‍🌈👨‍👩‍👧")),  # emoji, modifiers, ZWJ sequences
        st.sampled_from(list("\u0301\u0308\u0323\u093f")),  # combining marks
        st.sampled_from(list("ＡＢｃ１２３，。！？ｶﾞﾊﾟ～")),  # full-width and half-width forms
        st.sampled_from(list("中文字測試한국어ひらがなカタカナ١٢٣")),
        st.sampled_from(list("0123456789.,;:?!~《》【】…㍻")),
    ),
    max_size=40,
)


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=MIXED)
def test_fuzzed_texts_keep_offset_invariants_and_slow_fast_agreement(tokenizers, text):
    slow, fast = tokenizers["transformers"]
    expected = slow(text, return_offsets_mapping=True, add_special_tokens=False)
    check_offsets(slow, text, expected["input_ids"], expected["offset_mapping"])
    actual = fast(text, return_offsets_mapping=True, add_special_tokens=False)
    assert actual["input_ids"] == expected["input_ids"]
    assert actual["offset_mapping"] == expected["offset_mapping"]


@pytest.mark.parametrize("rule", RULES)
def test_fast_equals_slow_on_the_corpus(tokenizers, rule):
    slow, fast = tokenizers[rule]
    lines = [text for _, text in corpus()]
    pairs = (lines[::3], lines[1::3][: len(lines[::3])])
    pairs = (pairs[0][: len(pairs[1])], pairs[1])
    words = [line.split(" ") for line in lines[2::3]]
    for arguments, keywords in (
        ((lines,), {}),
        (pairs, {}),
        ((words,), {"is_split_into_words": True}),
    ):
        expected = slow(*arguments, return_offsets_mapping=True, **keywords)
        actual = fast(*arguments, return_offsets_mapping=True, **keywords)
        assert actual["input_ids"] == expected["input_ids"]
        assert [list(map(tuple, o)) for o in actual["offset_mapping"]] == expected["offset_mapping"]


def test_word_ids_follow_sentencepiece_words(tokenizers):
    slow, fast = tokenizers["transformers"]
    text = "Hello wonderful 世界, born in 92000 ㍻"
    encoding = fast(text, return_offsets_mapping=True)
    # Words are the runs between spaces (a lone `▁` token opens the next one): count the spaces up to its end.
    expected = [text[:end].count(" ") for _, end in encoding["offset_mapping"][1:-1]]
    assert encoding.word_ids()[1:-1] == expected
    assert len(set(expected)) == 7 and len(expected) > 7
    assert encoding.word_ids()[0] is None and encoding.word_ids()[-1] is None
    split = fast(["Hello", "92000", "世界"], is_split_into_words=True)
    assert split.word_ids() == [None, 0, 1, 1, 2, 2, None]


def test_pair_layout_and_token_types(tokenizers):
    for slow, fast in tokenizers.values():
        for tokenizer in (slow, fast):
            encoding = tokenizer("a b", "c", return_token_type_ids=True, return_special_tokens_mask=True)
            a, b = (
                tokenizer("a b", add_special_tokens=False)["input_ids"],
                tokenizer("c", add_special_tokens=False)["input_ids"],
            )
            assert encoding["input_ids"] == [0, *a, 2, 2, *b, 2]
            assert encoding["token_type_ids"] == [0] * (len(a) + 1) + [1] * (len(b) + 3)
            assert encoding["special_tokens_mask"] == [1, *[0] * len(a), 1, 1, *[0] * len(b), 1]
            assert "attention_mask" not in tokenizer("a b")  # model_input_names: input_ids only, as 4.x


def test_truncation_defaults_to_512_tokens(tokenizers):
    text = "word " * 2000
    for slow, fast in tokenizers.values():
        for tokenizer in (slow, fast):
            assert tokenizer.model_max_length == 512
            encoding = tokenizer(text, truncation=True, return_offsets_mapping=True)
            assert len(encoding["input_ids"]) == 512 and encoding["input_ids"][-1] == 2
            assert len(encoding["offset_mapping"]) == 512


def test_truncated_pairs_and_overflow_keep_offsets_aligned(tokenizers):
    slow, fast = tokenizers["transformers"]
    first, second = "one two three four five six seven", "alpha beta gamma delta epsilon"  # 7 and 8 tokens
    for strategy in ("only_first", "only_second"):  # 7 + 8 tokens + 4 specials; drop 6
        expected = slow(first, second, truncation=strategy, max_length=13, return_offsets_mapping=True)
        actual = fast(first, second, truncation=strategy, max_length=13, return_offsets_mapping=True)
        assert len(expected["input_ids"]) == 13
        assert actual["input_ids"] == expected["input_ids"]
        assert actual["offset_mapping"] == expected["offset_mapping"]
    # longest_first splits the cut as transformers 4.x did: first the excess of the longer (1 from the second),
    # then the rest halved, the odd one from the second: 7 - 2 = 5 and 8 - 4 = 4 tokens kept. (tokenizers'
    # Rust rule, which the fast tokenizer follows, keeps 4 and 5.)
    expected = slow(first, second, truncation="longest_first", max_length=13, return_offsets_mapping=True)
    assert expected["input_ids"].index(2) == 6 and len(expected["input_ids"]) == 13
    assert expected["offset_mapping"][5] == (first.index("five"), first.index("five") + 4)
    overflow = slow(first, truncation="only_first", max_length=5, return_overflowing_tokens=True)
    whole = slow(first, add_special_tokens=False)["input_ids"]
    assert overflow["input_ids"][1:-1] + overflow["overflowing_tokens"] == whole


def test_batches_pad_offsets_on_the_padding_side(tokenizers):
    slow, fast = tokenizers["transformers"]
    for side in ("right", "left"):
        slow.padding_side = fast.padding_side = side
        expected = slow(["a b c", "d"], padding=True, return_offsets_mapping=True, return_attention_mask=True)
        actual = fast(["a b c", "d"], padding=True, return_offsets_mapping=True, return_attention_mask=True)
        assert actual["input_ids"] == expected["input_ids"]
        assert actual["offset_mapping"] == expected["offset_mapping"]
        assert actual["attention_mask"] == expected["attention_mask"]
    slow.padding_side = fast.padding_side = "right"
    tensors = slow(["a b c", "d"], padding=True, return_offsets_mapping=True, return_tensors="pt")
    assert tensors["offset_mapping"].shape == (2, tensors["input_ids"].shape[1], 2)


@pytest.mark.parametrize("text", ["", "   ", "\t\n\u3000", "a\x00b\x01c\x7f", "\u200b\u200d", "[SEP]"])
def test_degenerate_texts_encode(tokenizers, text):
    for slow, fast in tokenizers.values():
        expected = slow(text, return_offsets_mapping=True)
        assert fast(text, return_offsets_mapping=True)["input_ids"] == expected["input_ids"]
        assert expected["input_ids"][0] == 0 and expected["input_ids"][-1] == 2


def test_bad_input_gives_clear_errors(tokenizers):
    for slow, fast in tokenizers.values():
        for tokenizer in (slow, fast):
            with pytest.raises(ValueError, match="lone surrogate"):
                tokenizer("ab\ud800")
            with pytest.raises(ValueError, match="lone surrogate"):
                tokenizer(["fine", "x\udfff"])
            with pytest.raises(ValueError):
                tokenizer(None)


def test_a_megabyte_of_text_encodes_in_linear_time_and_truncates(tokenizers):
    slow = tokenizers["transformers"][0]
    line = "ERNIE-M covers 96 languages; 中文和日本語も. "
    timings = {}
    for size in (250_000, 1_000_000):
        text = (line * (size // len(line) + 1))[:size]
        start = time.perf_counter()
        encoding = slow(text, truncation=True, return_offsets_mapping=True)
        timings[size] = time.perf_counter() - start
        assert len(encoding["input_ids"]) == 512
    # Four times the text may take at most ~8 times as long (noise allowed): nothing quadratic.
    assert timings[1_000_000] < 8 * timings[250_000] + 1.0, timings


def test_lowercasing_matches_per_character_lowering(vocabulary):
    tokenizer = erniem.ErnieMTokenizer(*files(vocabulary), do_lower_case=True)
    reference = erniem.ErnieMTokenizer(*files(vocabulary))
    assert tokenizer("ΟΔΟΣ Hello [SEP]")["input_ids"] == reference("οδοσ hello [SEP]")["input_ids"]
    fast = erniem.ErnieMTokenizerFast(*files(vocabulary), do_lower_case=True)
    text = "İstanbul ΟΔΟΣ Straße"
    expected = tokenizer(text, return_offsets_mapping=True)
    assert fast(text, return_offsets_mapping=True)["offset_mapping"] == expected["offset_mapping"]
    # "İ" lowers to "i" + combining dot, split into two tokens: both map back onto the "İ".
    assert expected["offset_mapping"][1:4] == [(0, 1), (0, 1), (1, 5)]


def test_save_and_reload_keep_every_setting(vocabulary, tmp_path):
    slow = erniem.ErnieMTokenizer(*files(vocabulary), do_lower_case=True, tokenizer_rule="paddlenlp")
    slow.save_pretrained(tmp_path / "slow")
    assert {"sentencepiece.bpe.model", "vocab.txt"} <= {p.name for p in (tmp_path / "slow").iterdir()}
    assert (tmp_path / "slow" / "vocab.txt").read_bytes() == (vocabulary / "vocab.txt").read_bytes()
    fast = erniem.ErnieMTokenizerFast.from_pretrained(tmp_path / "slow")
    fast.save_pretrained(tmp_path / "fast")
    config = json.loads((tmp_path / "fast" / "tokenizer_config.json").read_text())
    assert config["tokenizer_rule"] == "paddlenlp" and config["do_lower_case"] is True
    assert not (tmp_path / "fast" / "tokenizer.json").exists()
    reloaded = AutoTokenizer.from_pretrained(tmp_path / "fast")
    text = "Ünïcode ｶﾞ x ㍻ 2024年"
    assert reloaded(text)["input_ids"] == slow(text)["input_ids"]
    assert reloaded.tokenizer_rule == "paddlenlp" and reloaded.do_lower_case


@pytest.mark.parametrize("saver", [erniem.ErnieMTokenizer, erniem.ErnieMTokenizerFast])
def test_added_tokens_survive_save_and_reload_in_both_tokenizers(vocabulary, saver, tmp_path):
    """Added tokens keep their ids and kind (special or not) through save_pretrained, whichever class saved and
    whichever loads (the embeddings of a fine-tuned model are indexed by these ids)."""
    tokenizer = saver(*files(vocabulary))
    base = len(tokenizer)  # 250,002
    assert tokenizer.add_tokens(["bim", "bambam"]) == 2
    tokenizer.add_special_tokens({"extra_special_tokens": ["<domain>"]}, replace_extra_special_tokens=False)
    added = {"bim": base, "bambam": base + 1, "<domain>": base + 2}
    text = "bim and bambam <domain> 北京"
    ids = tokenizer(text)["input_ids"]
    assert {token: tokenizer.convert_tokens_to_ids(token) for token in added} == added
    assert set(added.values()) <= set(ids)
    tokenizer.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "tokenizer_config.json").read_text(encoding="utf-8"))
    assert str(tmp_path) not in json.dumps(config)  # no absolute file paths saved
    for loader in (erniem.ErnieMTokenizer, erniem.ErnieMTokenizerFast, AutoTokenizer):
        reloaded = loader.from_pretrained(tmp_path)
        assert len(reloaded) == base + 3
        assert {token: reloaded.convert_tokens_to_ids(token) for token in added} == added
        assert reloaded(text)["input_ids"] == ids
        assert reloaded.get_vocab() == tokenizer.get_vocab()
        assert "<domain>" in reloaded.extra_special_tokens
        assert "<domain>" not in reloaded.decode(ids, skip_special_tokens=True)
        assert "bambam" in reloaded.decode(ids, skip_special_tokens=True)


def test_hub_layout_directory_loads_through_auto_tokenizer(vocabulary, tmp_path):
    """Files as `susnato/ernie-m-base_pytorch` has them: tokenizer_config.json names ErnieMTokenizer."""
    for name in ("sentencepiece.bpe.model", "vocab.txt"):
        shutil.copy(vocabulary / name, tmp_path / name)
    specials = {
        "cls_token": "[CLS]",
        "mask_token": "[MASK]",
        "pad_token": "[PAD]",
        "sep_token": "[SEP]",
        "unk_token": "[UNK]",
    }
    (tmp_path / "special_tokens_map.json").write_text(json.dumps(specials))
    config = {"do_lower_case": False, "model_max_length": 514, "tokenizer_class": "ErnieMTokenizer", **specials}
    (tmp_path / "tokenizer_config.json").write_text(json.dumps(config))
    tokenizer = AutoTokenizer.from_pretrained(tmp_path)
    assert isinstance(tokenizer, (erniem.ErnieMTokenizer, erniem.ErnieMTokenizerFast))
    assert tokenizer.model_max_length == 512  # 514 position rows hold 512 tokens
    assert tokenizer(INTEGRATION_SENTENCE)["input_ids"][:13] == INTEGRATION_START


def test_slow_tokenizer_pickles(tokenizers):
    slow = tokenizers["paddlenlp"][0]
    restored = pickle.loads(pickle.dumps(slow))
    text = "pickled 中文 text 123"
    assert restored(text)["input_ids"] == slow(text)["input_ids"]
    assert restored.tokenizer_rule == "paddlenlp"


def test_subword_sampling_varies_and_stays_faithful(vocabulary):
    tokenizer = erniem.ErnieMTokenizer(*files(vocabulary), sp_model_kwargs={"enable_sampling": True, "alpha": 0.5})
    text = "internationalisation of multilingual representations"
    segmentations = {tuple(tokenizer.tokenize(text)) for _ in range(30)}
    assert len(segmentations) > 1
    assert all("".join(tokens).replace("▁", " ").strip() == text for tokens in segmentations)


def test_decode_drops_the_space_before_digits_as_the_reference_does(tokenizers):
    slow, fast = tokenizers["transformers"]
    ids = slow("born in 92000")["input_ids"]
    assert slow.decode(ids, skip_special_tokens=True) == "born in92000" == fast.decode(ids, skip_special_tokens=True)


@pytest.mark.parametrize("strategy", ["first", "average", "max"])
def test_token_classification_pipeline_aggregates_words(vocabulary, strategy):
    torch.manual_seed(0)
    config = erniem.ErnieMConfig(
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        num_labels=3,
        id2label={0: "O", 1: "B-LOC", 2: "I-LOC"},
        label2id={"O": 0, "B-LOC": 1, "I-LOC": 2},
    )
    model = erniem.ErnieMForTokenClassification(config).eval()
    tokenizer = erniem.ErnieMTokenizerFast(*files(vocabulary))
    tagger = pipeline("token-classification", model=model, tokenizer=tokenizer, aggregation_strategy=strategy)
    text = "Dörfer wie Ünterwössen liegen in Bayern"
    entities = tagger(text)
    assert entities, "a random model tags something"
    for entity in entities:
        # Entities cover whole words (the pipeline spells a multi-word entity without its spaces).
        assert text[entity["start"] : entity["end"]].replace(" ", "") == entity["word"].replace(" ", "")
        assert entity["start"] == 0 or text[entity["start"] - 1] == " "
        assert entity["end"] == len(text) or text[entity["end"]] == " "
