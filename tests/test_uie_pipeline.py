"""UIEPipeline: Taskflow's results on a converted PaddleNLP UIE-M (run live), and the fast mode's invariants."""

from __future__ import annotations

import json

import pytest
from tests.conftest import ROOT, run_reference

import erniem
from erniem.convert import convert_checkpoint
from erniem.uie.pipeline import UIEPipeline

# An extraction schema (entities, a relation) with English prompts: texts long enough for several windows at
# max_seq_len 40 (the taskflow mode only: the fast mode's windows differ), and texts that fit one window (both
# modes). With a random model Taskflow also decides per node, from whichever result its span set yields
# first, whether the node is a classification; erniem reads that from the schema. These cases' nodes do not
# trip that (with Chinese prompts the random model finds spans in the prompt first, and Taskflow then votes).
CASES = [
    {
        "schema": ["person", {"city": ["mayor"]}],
        "schema_lang": "en",
        "max_seq_len": 40,
        "texts": [
            "Alice lives in Paris and likes it. Bob works in Berlin, which is a big city with many parks and lakes.",
            "x",
        ],
        "modes": ["taskflow"],
    },
    {
        "schema": ["person", {"city": ["mayor"]}],
        "schema_lang": "en",
        "max_seq_len": 128,
        "texts": ["Alice lives in Paris and likes it.", "Bob works in Berlin, a big city.", "x"],
        "modes": ["taskflow", "fast"],
    },
]


@pytest.fixture(scope="module")
def converted(paddle_checkpoints, tmp_path_factory):
    return convert_checkpoint(paddle_checkpoints / "uie_m", tmp_path_factory.mktemp("uie") / "uie_m")


def load(directory, **options):
    model = erniem.ErnieMForInformationExtraction.from_pretrained(directory)
    tokenizer = erniem.ErnieMTokenizer.from_pretrained(directory)
    return lambda schema, **more: UIEPipeline(model, tokenizer, schema, **{**options, **more})


def without_empty_spans(value):
    """Taskflow's results less its empty-text spans (from special tokens), which erniem does not return."""
    if isinstance(value, dict):
        cleaned = {key: without_empty_spans(item) for key, item in value.items()}
        return {key: item for key, item in cleaned.items() if item != []}
    if isinstance(value, list):
        return [without_empty_spans(item) for item in value if not (isinstance(item, dict) and item.get("text") == "")]
    return value


def canonical(value):
    """Lists of results sorted (Taskflow's order follows a set), probabilities set apart: (structure, probabilities)."""
    probabilities = []

    def order(items):  # by structure, then by probability (equal spans from different windows)
        key = [(json.dumps(strip(i), ensure_ascii=False), i.get("probability", 0), n) for n, i in enumerate(items)]
        return [items[n] for _, _, n in sorted(key)]

    def strip(item):
        if isinstance(item, dict):
            return {key: ("p" if key == "probability" else strip(inner)) for key, inner in item.items()}
        if isinstance(item, list):
            return [strip(inner) for inner in order(item)]
        return item

    def collect(item):
        if isinstance(item, dict):
            for key, inner in item.items():
                probabilities.append(inner) if key == "probability" else collect(inner)
        elif isinstance(item, list):
            for inner in order(item):
                collect(inner)

    collect(value)
    return strip(value), probabilities


def assert_same_results(ours, taskflow):
    (structure, probabilities), (expected, expected_probabilities) = canonical(ours), canonical(taskflow)
    assert structure == expected
    assert probabilities == pytest.approx(expected_probabilities, abs=1e-5)


@pytest.mark.reference
def test_taskflow_mode_gives_taskflows_results(paddle_checkpoints, converted, tmp_path):
    cases = tmp_path / "cases.json"
    cases.write_text(json.dumps(CASES, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "taskflow.json"
    model_dir = tmp_path / "paddle_uie_m"  # Taskflow writes its static model next to the weights
    import shutil

    shutil.copytree(paddle_checkpoints / "uie_m", model_dir)
    run_reference("paddlenlp", ROOT / "tests" / "reference" / "taskflow_reference.py", model_dir, cases, out)
    expected = json.loads(out.read_text(encoding="utf-8"))
    build = load(converted)
    for case, taskflow in zip(CASES, expected, strict=True):
        for compat in case["modes"]:
            options = {"schema_lang": case["schema_lang"], "max_seq_len": case["max_seq_len"], "compat": compat}
            ours = build(case["schema"], **options)(case["texts"])
            assert_same_results(ours, without_empty_spans(taskflow))
            assert any(result for result in ours)  # the tiny random model does find spans


# A hand-made UIE-M (tests/reference/planted.py) whose answers do not hang on the last bits of a probability:
# 北/上 start and 京/海 end a span in the text, but not in the prompt's positions (below 12); 积 and 极 start and
# end one anywhere, so a classification prompt's "积极" is its answer. Chinese prompts, a relation, a
# classification; texts of one and of several windows.
PLANTED = {
    "starts": ["北", "上"],
    "ends": ["京", "海"],
    "strong_starts": ["积"],
    "strong_ends": ["极"],
    "quiet_below": 12,
}
PLANTED_CASES = [
    {
        "schema": ["城市", {"公司": ["创始人"]}],
        "schema_lang": "zh",
        "max_seq_len": 64,
        "texts": [
            "据新华社记者今天从有关部门获悉，北京和上海都有很多公司。",
            "据新华社记者今天报道，" + "今年春天的雨水比往年多一些，" * 6 + "北京的公司和上海的工厂都很忙。",
        ],
    },
    {
        "schema": ["城市"],
        "schema_lang": "zh",
        "max_seq_len": 64,
        "split_sentence": True,
        "texts": ["据新华社记者今天从有关部门获悉，北京很大。据新华社记者今天从有关部门获悉，上海也很大！好吗？"],
    },
    {
        "schema": ["情感倾向[积极，消极]", "城市"],
        "schema_lang": "en",
        "max_seq_len": 64,
        "texts": ["这家餐厅的菜很好吃，服务也很周到。", "今天下雨了。"],
    },
]


def taskflow_results(model_dir, cases, tmp_path):
    """Run Taskflow on a copy of `model_dir` (it writes its static model beside the weights)."""
    import shutil

    (tmp_path / "cases.json").write_text(json.dumps(cases, ensure_ascii=False), encoding="utf-8")
    copy = tmp_path / "taskflow_model"
    shutil.copytree(model_dir, copy)
    out = tmp_path / "taskflow.json"
    run_reference(
        "paddlenlp", ROOT / "tests" / "reference" / "taskflow_reference.py", copy, tmp_path / "cases.json", out
    )
    return json.loads(out.read_text(encoding="utf-8"))


@pytest.mark.reference
def test_taskflow_mode_gives_taskflows_results_on_a_planted_model(vocabulary, tmp_path):
    tokenizer = erniem.ErnieMTokenizer(vocabulary / "sentencepiece.bpe.model", vocabulary / "vocab.txt")
    spec = {
        key: tokenizer.convert_tokens_to_ids(value) if isinstance(value, list) else value
        for key, value in PLANTED.items()
    }
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    paddle_dir = tmp_path / "paddle_planted"
    run_reference(
        "paddlenlp", ROOT / "tests" / "reference" / "planted_paddle.py", vocabulary, tmp_path / "spec.json", paddle_dir
    )
    expected = taskflow_results(paddle_dir, PLANTED_CASES, tmp_path)
    build = load(convert_checkpoint(paddle_dir, tmp_path / "converted"), compat="taskflow")
    for case, taskflow in zip(PLANTED_CASES, expected, strict=True):
        options = {key: case[key] for key in ("schema_lang", "max_seq_len", "split_sentence") if key in case}
        assert_same_results(build(case["schema"], **options)(case["texts"]), without_empty_spans(taskflow))
    # The answers are the planted ones, so the comparison above is not between two empty results.
    cities = [sorted(found["text"] for found in result["城市"]) for result in expected[0]]
    assert cities == [["上海", "北京"], ["上海", "北京"]]
    assert {found["text"] for found in expected[0][0]["公司"][0]["relations"]["创始人"]} == {"北京", "上海"}
    assert [found["text"] for found in expected[1][0]["城市"]] == ["北京", "上海"]
    assert [result["情感倾向[积极，消极]"][0]["text"] for result in expected[2]] == ["积极", "积极"]


@pytest.mark.reference
@pytest.mark.parametrize("compat", ["fast", "taskflow"])
def test_offsets_point_into_the_original_text(converted, compat):
    texts = ["Ｆｕｌｌ-width ｶﾞ and e\u0301 text about 北京 and 上海, 2024年", "短", "Alice met Bob in Berlin. " * 20]
    pipeline = load(converted, compat=compat)(["人物", {"地点": ["人口", "情感倾向[正向，负向]"]}], max_seq_len=48)

    def check(found, text):
        for extraction in found:
            if extraction.start is not None:
                assert text[extraction.start : extraction.end] == extraction.text
            for children in extraction.relations.values():
                check(children, text)

    for text, result in zip(texts, pipeline.extract(texts), strict=True):
        for name, found in result.items():
            check(found, text)
            if name.endswith("]"):
                assert len(found) <= 1  # a classification gives one answer
        assert all(found for found in result.values())


@pytest.mark.reference
def test_bad_arguments_are_refused(converted):
    build = load(converted)
    with pytest.raises(ValueError, match="compat"):
        build(["人物"], compat="paddle")
    with pytest.raises(ValueError, match="position_prob"):
        build(["人物"], position_prob=1.5)
    with pytest.raises(TypeError, match="text 1"):
        build(["人物"])(["ok", 3])
