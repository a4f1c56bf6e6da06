"""UIEPipeline: Taskflow's results on a converted PaddleNLP UIE-M (run live), and the fast mode's invariants."""

from __future__ import annotations

import json

import pytest
from tests.conftest import ROOT, run_reference

import erniem
from erniem.convert import convert_checkpoint
from erniem.uie.pipeline import UIEPipeline

# An extraction schema (entities, a relation) with English prompts, texts long enough for several windows at
# max_seq_len 40. With a random model Taskflow also decides per node, from whichever result its span set yields
# first, whether the node is a classification; erniem reads that from the schema. This case's nodes do not
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
    """Lists of results sorted (Taskflow's order follows a set), probabilities rounded to 1e-5."""
    if isinstance(value, dict):
        return {key: canonical(item) for key, item in value.items()}
    if isinstance(value, list):
        items = [canonical(item) for item in value]
        if items and isinstance(items[0], dict) and "probability" in items[0]:
            items.sort(key=lambda item: json.dumps(item, sort_keys=True, ensure_ascii=False))
        return items
    return round(value, 5) if isinstance(value, float) else value


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
    build = load(converted, compat="taskflow")
    for case, taskflow in zip(CASES, expected, strict=True):
        pipeline = build(case["schema"], schema_lang=case["schema_lang"], max_seq_len=case["max_seq_len"])
        ours = pipeline(case["texts"])
        assert canonical(ours) == canonical(without_empty_spans(taskflow))
        assert any(result for result in ours)  # the tiny random model does find spans


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
