"""The piece rule and lowercasing, on hand-built inputs whose expected tokens follow from the rule's text."""

from __future__ import annotations

import pytest

from erniem.segmentation import check_text, cut_pieces, lowercase


def tokens(pieces: list[str], rule: str) -> list[str]:
    text = "".join(pieces)
    return [text[start:end] for start, end, _ in cut_pieces(pieces, rule)]


@pytest.mark.parametrize(
    "pieces, expected",
    [
        (["▁Hello", "▁world"], ["▁Hello", "▁world"]),  # nothing to cut
        (["▁born", "▁in", "▁9", "2000"], ["▁born", "▁in", "9", "2000"]),  # the `▁` left alone by a cut goes
        (["▁in", "100", "+"], ["▁in", "100", "+"]),
        (["▁over", "32", "+"], ["▁over", "32", "+"]),
        (["▁ab12cd"], ["▁ab", "12", "cd"]),  # digit / non-digit boundaries
        (["▁中文", ",", "测试"], ["中", "文", ",", "测", "试"]),  # ideographs stand alone
        (["▁a.b"], ["▁a", ".", "b"]),
        (["▁《书》"], ["《", "书", "》"]),
        (["▁x²y"], ["▁x", "²", "y"]),  # str.isdigit digits count
    ],
)
def test_rule_cuts_pieces(pieces, expected):
    for rule in ("transformers", "paddlenlp"):
        assert tokens(pieces, rule) == expected


def test_lone_underline_pieces_differ_between_rules():
    pieces = ["▁x", "▁", "平成", "▁", "▁y", "▁"]
    # transformers 4.39 keeps a lone `▁` that is not first and is followed by a piece without `▁`.
    assert tokens(pieces, "transformers") == ["▁x", "▁", "平", "成", "▁y"]
    assert tokens(pieces, "paddlenlp") == ["▁x", "平", "成", "▁y"]
    assert tokens(["▁", "中"], "transformers") == ["中"]  # never the first piece


def test_rule_ranges_name_their_piece():
    assert cut_pieces(["▁ab", "12c"], "transformers") == [(0, 3, 0), (3, 5, 1), (5, 6, 1)]


def test_unknown_rule_is_refused():
    with pytest.raises(ValueError, match="tokenizer_rule"):
        cut_pieces(["▁a"], "paddle")


def test_lowercase_goes_character_by_character():
    lowered, origins = lowercase("ΟΔΟΣ İx")
    assert lowered == "οδοσ i̇x"  # no final sigma: each character is lowered alone; İ becomes two characters
    assert origins == [0, 1, 2, 3, 4, 5, 5, 6, 7]


def test_lowercase_spares_special_tokens_and_newlines():
    lowered, origins = lowercase("A[SEP]B\nC", ["[SEP]"])
    assert lowered == "a[SEP]b\nc"
    assert origins == list(range(10))


def test_check_text_names_the_problem():
    assert check_text("fine") == "fine"
    with pytest.raises(ValueError, match="lone surrogate .* at character 2"):
        check_text("ab\ud800")
    with pytest.raises(TypeError, match="must be a str"):
        check_text(None)
