"""ONNX export and the ONNX Runtime backend: every head against PyTorch on padded inputs of other shapes than
the export's, atomic output directories, the CLI, and the task functions and UIE pipeline on either backend."""

from __future__ import annotations

import json
import re
import sys
from dataclasses import asdict

import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxscript")
pytest.importorskip("onnxruntime")

import torch  # noqa: E402
from tests.conftest import padded_ids, planted_model, small  # noqa: E402

import erniem  # noqa: E402
from erniem.backends import load_model  # noqa: E402
from erniem.cli import main  # noqa: E402
from erniem.onnx import TASKS, OnnxRuntimeModel, export_and_verify, export_onnx  # noqa: E402
from erniem.onnx import export as export_module  # noqa: E402
from erniem.onnx import runtime as runtime_module  # noqa: E402
from erniem.tasks.classification import classify  # noqa: E402
from erniem.tasks.entity_recognition import recognize  # noqa: E402
from erniem.tasks.multiple_choice import choose  # noqa: E402
from erniem.tasks.question_answering import answer_questions  # noqa: E402
from erniem.uie import UIEPipeline  # noqa: E402

TOLERANCE = 1e-4
# Weights ten times the usual spread, so that what a mask hides moves every output well past the tolerance.
WIDE = {"initializer_range": 0.2}
CONFIGS = {  # what each task's tiny model needs beyond small()'s defaults
    "sequence-classification": {"id2label": {0: "no", 1: "yes", 2: "maybe"}},
    "token-classification": {"id2label": {0: "O", 1: "B-PER", 2: "I-PER", 3: "B-LOC", 4: "I-LOC"}},
    "information-extraction": {"mask_convention": "paddlenlp"},  # UIE-M's: [CLS] hidden, [PAD] attended, -1e4
}
# Shapes unlike the export sample's (2, 8) and (2, 3, 8), with a batch of one.
CHECK_SHAPES = {2: [(4, 19), (1, 7)], 3: [(3, 2, 17), (1, 4, 6)]}


@pytest.fixture(scope="module")
def exports(fast_tokenizer, tmp_path_factory):
    """task -> (its tiny PyTorch model, the report of its verified export), each exported once on first use."""
    made = {}

    def export(task: str):
        if task not in made:
            directory = tmp_path_factory.mktemp(task)
            model = small(TASKS[task].head, fast_tokenizer, **WIDE, **CONFIGS.get(task, {}))
            model.save_pretrained(directory / "model")
            fast_tokenizer.save_pretrained(directory / "model")
            made[task] = model, export_and_verify(directory / "model", directory / "onnx", task)
        return made[task]

    return export


def padded(shape: tuple[int, ...], vocab_size: int, seed: int) -> dict[str, torch.Tensor]:
    """Random [CLS] ... [SEP] rows of lengths from the whole width down to 2, padded with [PAD], in `shape`."""
    rows, width = 1, shape[-1]
    for size in shape[:-1]:
        rows *= size
    lengths = [max(2, width - (row * width) // (rows + 1)) for row in range(rows)] if rows > 1 else [width - 2]
    ids, mask = padded_ids(lengths, width, vocab_size, seed)
    return {"input_ids": ids.view(shape), "attention_mask": mask.view(shape)}


@pytest.mark.parametrize("task", list(TASKS))
def test_onnxruntime_matches_pytorch_on_other_shapes_with_padding(exports, task):
    model, report = exports(task)
    spec = TASKS[task]
    runtime = OnnxRuntimeModel.from_pretrained(report.path, threads=1)
    assert runtime.task == task and runtime.config.id2label == model.config.id2label
    for seed, shape in enumerate(CHECK_SHAPES[len(spec.axes)]):
        inputs = padded(shape, model.config.vocab_size, seed)
        assert (inputs["attention_mask"] == 0).any()
        with torch.no_grad():
            expected = model(**inputs)
        actual = runtime(**inputs)
        assert type(actual) is type(expected) and list(actual.keys()) == list(spec.outputs)
        for name in spec.outputs:
            torch.testing.assert_close(actual[name], expected[name], atol=TOLERANCE, rtol=0)
    assert set(report.differences) == set(spec.outputs) and report.max_difference <= TOLERANCE
    graph_inputs = {value.name: value for value in runtime.session.get_inputs()}
    assert graph_inputs["input_ids"].type == "tensor(int64)" and graph_inputs["input_ids"].shape == list(spec.axes)
    assert [value.name for value in runtime.session.get_outputs()] == list(spec.outputs)
    if spec.mask == "binary":
        assert set(graph_inputs) == {"input_ids", "attention_mask"}
        assert graph_inputs["attention_mask"].type == "tensor(int64)"


class RecordingSession:
    """An ONNX Runtime session that records the shape of the `input_ids` of every run."""

    def __init__(self, session):
        self.session = session
        self.shapes = []

    def run(self, names, feeds):
        self.shapes.append(tuple(feeds["input_ids"].shape))
        return self.session.run(names, feeds)


@pytest.mark.parametrize("task", ["sequence-classification", "multiple-choice"])
def test_pooled_heads_run_rows_of_similar_length_together_without_their_trailing_padding(exports, task):
    model, report = exports(task)
    runtime = OnnxRuntimeModel.from_pretrained(report.path, threads=1)
    # Three short sequences and five long ones, of which one attends to nothing (so it spreads its attention over
    # every position and needs them all) and one is left-padded: a group of the short ones (saving 89 positions
    # each) and one of the long ones (saving 6 each by splitting 90 from 96) for a group cost between 18 and 267.
    lengths = [6, 7, 90, 90, 5, 6, 90, 4] if task == "multiple-choice" else [6, 90, 7, 90, 5, 90, 4, 6]
    ids, mask = padded_ids(lengths, 96, model.config.vocab_size, seed=3)
    ids[7], mask[7] = ids[7].roll(92), mask[7].roll(92)  # 4 tokens at the end, padding before them
    mask[4] = 0
    if task == "multiple-choice":  # row lengths: 7, 90, 96 (a choice attending to nothing), 96 (left padding)
        ids, mask = ids.view(4, 2, 96), mask.view(4, 2, 96)
    runtime.session = RecordingSession(runtime.session)
    actual = runtime(input_ids=ids, attention_mask=mask).logits
    with torch.no_grad():
        expected = model(input_ids=ids, attention_mask=mask).logits
    torch.testing.assert_close(actual, expected, atol=TOLERANCE, rtol=0)
    assert 18 < runtime_module.LENGTH_GROUP_COST < 267
    if task == "sequence-classification":
        assert sorted(runtime.session.shapes) == [(3, 7), (5, 96)]
    else:
        assert sorted(runtime.session.shapes) == [(1, 2, 7), (3, 2, 96)]


def test_the_output_directory_holds_the_graph_configuration_and_tokenizer(exports, fast_tokenizer):
    model, report = exports("sequence-classification")
    names = {path.name for path in report.path.iterdir()}
    assert "model.onnx" in names and "config.json" in names and "sentencepiece.bpe.model" in names
    assert not any(name.endswith((".safetensors", ".bin")) for name in names)
    reloaded = erniem.ErnieMTokenizerFast.from_pretrained(report.path)
    assert reloaded("Hello world")["input_ids"] == fast_tokenizer("Hello world")["input_ids"]


def test_a_model_called_without_a_mask_hides_what_pytorch_hides(exports):
    for task in ("sequence-classification", "information-extraction"):  # transformers' and PaddleNLP's rule
        model, report = exports(task)
        runtime = OnnxRuntimeModel.from_pretrained(report.path, threads=1)
        input_ids = padded((3, 10), model.config.vocab_size, seed=5)["input_ids"]
        with torch.no_grad():
            expected = model(input_ids=input_ids)
        for name in TASKS[task].outputs:
            torch.testing.assert_close(runtime(input_ids=input_ids)[name], expected[name], atol=TOLERANCE, rtol=0)


def test_a_model_saved_to_skip_padding_exports_a_graph_computing_every_position(fast_tokenizer, tmp_path):
    model = small(erniem.ErnieMModel, fast_tokenizer, **WIDE, unpad_inputs=True)
    model.save_pretrained(tmp_path / "model")
    runtime = OnnxRuntimeModel.from_pretrained(export_onnx(tmp_path / "model", tmp_path / "onnx", "base"), threads=1)
    inputs = padded((3, 12), model.config.vocab_size, seed=2)
    model.config.unpad_inputs = False
    with torch.no_grad():
        expected = model(**inputs).last_hidden_state
    actual = runtime(**inputs).last_hidden_state
    assert (actual[inputs["attention_mask"] == 0] != 0).all()  # pad positions are computed, not zeroed
    torch.testing.assert_close(actual, expected, atol=TOLERANCE, rtol=0)


def test_the_runtime_is_for_inference_only(exports):
    _, report = exports("sequence-classification")
    runtime = OnnxRuntimeModel.from_pretrained(report.path)
    assert runtime.eval() is runtime and runtime.device == torch.device("cpu") and runtime.dtype == torch.float32
    input_ids = torch.tensor([[0, 5, 2]])
    with pytest.raises(TypeError, match="labels"):
        runtime(input_ids=input_ids, labels=torch.tensor([1]))
    with pytest.raises(TypeError, match="position_ids"):
        runtime(input_ids=input_ids, position_ids=torch.arange(3)[None])
    with pytest.raises(ValueError, match="positions"):
        runtime(input_ids=torch.zeros(1, runtime.config.max_position_embeddings, dtype=torch.long))


def test_classify_on_onnxruntime_gives_the_labels_and_scores_of_torch(exports, fast_tokenizer):
    model, report = exports("sequence-classification")
    texts = ["good", "a much longer line about the weather in Oslo today", "北京是中国的首都", "no"]
    expected = classify(model, fast_tokenizer, texts, top_k=3, batch_size=2)
    found = classify(load_model(type(model), report.path, "onnxruntime"), fast_tokenizer, texts, top_k=3, batch_size=2)
    assert [[label.label for label in labels] for labels in found] == [[label.label for label in e] for e in expected]
    for labels, expected_labels in zip(found, expected, strict=True):
        assert [label.score for label in labels] == pytest.approx([e.score for e in expected_labels], abs=1e-5)


def test_tagging_answering_and_choosing_on_onnxruntime_give_the_results_of_torch(exports, fast_tokenizer):
    texts = ["Ann Smith lives in Oslo and works in Bergen", "東京 都 に 住む", "x"]
    questions, contexts = ["Where does Ann live?", "Who?"], ["Ann lives in Oslo, far from Rome.", "Bob and Ann."]
    choices = [["Oslo", "Rome", "in a much longer answer than the others"], ["Bob", "Ann"], ["yes", "no"]]
    runs = {
        "token-classification": lambda model: recognize(model, fast_tokenizer, texts, max_length=8, stride=2),
        "question-answering": lambda model: answer_questions(
            model, fast_tokenizer, questions, contexts, top_k=3, max_length=16, stride=4, batch_size=2
        ),
        "multiple-choice": lambda model: choose(
            model, fast_tokenizer, ["Where?", "Who?", "Ok?"], choices, batch_size=2
        ),
    }
    for task, run in runs.items():
        model, report = exports(task)
        expected, found = run(model), run(load_model(type(model), report.path, "onnxruntime"))
        assert len(found) == len(expected) and any(expected)
        for mine, theirs in zip(found, expected, strict=True):
            assert_same_results(mine, theirs)


def assert_same_results(found, expected) -> None:
    """Task results (a dataclass, or a list of them) equal, but for scores, which agree within 1e-5."""
    found, expected = (value if isinstance(value, list) else [value] for value in (found, expected))
    assert len(found) == len(expected)
    for mine, theirs in zip(map(asdict, found), map(asdict, expected), strict=True):
        scores = {"score", "scores"} & set(theirs)
        assert {k: v for k, v in mine.items() if k not in scores} == {
            k: v for k, v in theirs.items() if k not in scores
        }
        for key in scores:
            assert mine[key] == pytest.approx(theirs[key], abs=1e-5)


def test_predict_cli_with_backend_onnxruntime_writes_what_torch_writes(exports, tmp_path, capsys):
    model, report = exports("sequence-classification")
    lines = tmp_path / "in.jsonl"
    lines.write_text('{"text": "good"}\n{"text": "a", "text_pair": "b"}\n{"text": "tomorrow in Oslo"}\n')
    outputs = []
    for directory, backend in ((report.path.parent / "model", "torch"), (report.path, "onnxruntime")):
        command = ["predict", "classify", "--model", str(directory), "--top-k", "3", "--backend", backend, str(lines)]
        assert main(command) == 0
        outputs.append([json.loads(line) for line in capsys.readouterr().out.splitlines()])
    torch_out, onnx_out = outputs
    assert len(torch_out) == 3
    for expected, found in zip(torch_out, onnx_out, strict=True):
        assert [item["label"] for item in found] == [item["label"] for item in expected]
        assert [item["score"] for item in found] == pytest.approx([item["score"] for item in expected], abs=1e-5)


def test_uie_pipeline_on_onnxruntime_extracts_what_torch_extracts(tokenizer, tmp_path):
    name = "Zorbulax"
    pieces = tokenizer(" " + name, add_special_tokens=False)["input_ids"]
    model = planted_model(tokenizer, {pieces[0]}, {pieces[-1]})  # it finds the name, and nothing else
    torch.manual_seed(0)
    with torch.no_grad():  # let attention and feed-forward move every state a little, so that masks matter
        for parameter_name, parameter in model.named_parameters():
            if parameter_name.endswith((".out_proj.weight", ".linear2.weight")):
                parameter.normal_(0.0, 0.05)
    model.config.mask_convention = "paddlenlp"
    model.save_pretrained(tmp_path / "model")
    tokenizer.save_pretrained(tmp_path / "model")
    export_onnx(tmp_path / "model", tmp_path / "onnx", "information-extraction")
    texts = [f"We met {name} today.", f"{name} and his sister, and later {name} again, in a longer text. " * 3, "no"]
    for compat in ("fast", "taskflow"):  # a compressed additive mask, and no mask with padding to max_seq_len
        options = {"compat": compat, "max_seq_len": 32, "batch_size": 4}
        expected = UIEPipeline.from_pretrained(tmp_path / "model", ["人物"], **options).extract(texts)
        runtime = UIEPipeline.from_pretrained(tmp_path / "onnx", ["人物"], backend="onnxruntime", **options)
        assert isinstance(runtime.model, OnnxRuntimeModel)
        found = runtime.extract(texts)
        spans = [[(e.text, e.start, e.end) for e in result.get("人物", [])] for result in expected]
        assert [[(e.text, e.start, e.end) for e in result.get("人物", [])] for result in found] == spans
        assert spans[0] == [(name, 7, 15)] and len(spans[1]) >= 2  # the comparison is not between empty results
        probabilities = [[e.probability for e in result.get("人物", [])] for result in found]
        assert probabilities == [
            pytest.approx([e.probability for e in result.get("人物", [])], abs=1e-5) for result in expected
        ]


def test_extract_cli_with_backend_onnxruntime_writes_what_torch_writes(exports, tmp_path, capsys):
    _, report = exports("information-extraction")
    (tmp_path / "schema.json").write_text(json.dumps(["人物", {"地点": ["人口"]}], ensure_ascii=False))
    (tmp_path / "in.jsonl").write_text('{"text": "Ann lives in Oslo."}\n{"text": "北京是中国的首都。"}\n')
    outputs = []
    for directory, backend in ((report.path.parent / "model", "torch"), (report.path, "onnxruntime")):
        command = ["extract", "--model", str(directory), "--schema", str(tmp_path / "schema.json"), "--backend"]
        assert main([*command, backend, "--position-prob", "0.3", str(tmp_path / "in.jsonl")]) == 0
        outputs.append([json.loads(line) for line in capsys.readouterr().out.splitlines()])
    (torch_lines, torch_probabilities), (onnx_lines, onnx_probabilities) = map(without_probabilities, outputs)
    assert onnx_lines == torch_lines and torch_probabilities  # the same spans, and some found
    assert onnx_probabilities == pytest.approx(torch_probabilities, abs=1e-5)


def without_probabilities(value) -> tuple[object, list[float]]:
    """`value` (JSON) with every "probability" set to None, and those probabilities in order."""
    found: list[float] = []

    def strip(item):
        if isinstance(item, list):
            return [strip(element) for element in item]
        if not isinstance(item, dict):
            return item
        if "probability" in item:
            found.append(item["probability"])
        return {key: None if key == "probability" else strip(element) for key, element in item.items()}

    return strip(value), found


def test_export_cli_prints_the_path_and_difference_and_refuses_a_filled_output(exports, tmp_path, capsys):
    model, report = exports("question-answering")
    output = tmp_path / "qa-onnx"
    output.mkdir()  # an empty directory is used as it is
    command = ["export", "onnx", "--model", str(report.path.parent / "model"), "--task", "question-answering"]
    assert main([*command, "--output", str(output), "--opset", "18"]) == 0
    printed = capsys.readouterr().out
    assert str(output) in printed
    difference = float(re.search(r"max difference from PyTorch: (\S+)\)", printed).group(1))
    assert 0 <= difference <= TOLERANCE
    runtime = OnnxRuntimeModel.from_pretrained(output)
    inputs = padded((2, 11), model.config.vocab_size, seed=3)
    with torch.no_grad():
        torch.testing.assert_close(runtime(**inputs).end_logits, model(**inputs).end_logits, atol=TOLERANCE, rtol=0)

    before = (output / "model.onnx").stat().st_mtime_ns
    assert main([*command, "--output", str(output)]) == 1
    assert "exists" in capsys.readouterr().err and (output / "model.onnx").stat().st_mtime_ns == before
    assert main([*command, "--output", str(output), "--overwrite"]) == 0
    assert (output / "model.onnx").stat().st_mtime_ns != before


def test_a_failing_check_leaves_no_output(exports, tmp_path, monkeypatch):
    _, report = exports("sequence-classification")
    original = OnnxRuntimeModel.__call__

    def drifting(self, *arguments, **options):
        output = original(self, *arguments, **options)
        output["logits"] = output["logits"] + 1e-3
        return output

    monkeypatch.setattr(OnnxRuntimeModel, "__call__", drifting)
    with pytest.raises(ValueError, match=r"logits differs from PyTorch's by 0\.001"):
        export_onnx(report.path.parent / "model", tmp_path / "out", "sequence-classification")
    assert list(tmp_path.iterdir()) == []  # neither the output nor the staging folder


def test_a_crashing_export_leaves_no_output_and_keeps_an_old_one(exports, tmp_path, monkeypatch):
    _, report = exports("base")

    def crash(model, spec, task, path, opset=None):
        path.write_bytes(b"half a graph")
        raise RuntimeError("exporter crashed")

    monkeypatch.setattr(export_module, "write_graph", crash)
    with pytest.raises(RuntimeError, match="crashed"):
        export_onnx(report.path.parent / "model", tmp_path / "new")
    old = tmp_path / "old"
    old.mkdir()
    (old / "keep.txt").write_text("kept")
    with pytest.raises(RuntimeError, match="crashed"):
        export_onnx(report.path.parent / "model", old, overwrite=True)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["old"]
    assert [path.name for path in old.iterdir()] == ["keep.txt"]
    with pytest.raises(FileExistsError, match="overwrite"):
        export_onnx(report.path.parent / "model", old)


def test_bad_task_backend_and_head_are_refused(exports, tmp_path):
    with pytest.raises(ValueError, match="valid tasks: base, sequence-classification, .*information-extraction"):
        export_onnx(tmp_path, tmp_path / "out", task="summarization")
    assert not (tmp_path / "out").exists()
    with pytest.raises(SystemExit):
        main(["export", "onnx", "--model", str(tmp_path), "--task", "summarization", "--output", str(tmp_path / "o")])
    _, report = exports("sequence-classification")
    with pytest.raises(ValueError, match="valid backends: torch, onnxruntime"):
        load_model(erniem.ErnieMForSequenceClassification, report.path, backend="tensorflow")
    with pytest.raises(ValueError, match="valid backends"):
        UIEPipeline.from_pretrained(report.path, ["人物"], backend="tensorflow")
    with pytest.raises(ValueError, match="holds a sequence-classification graph"):
        load_model(erniem.ErnieMForTokenClassification, report.path, backend="onnxruntime")
    with pytest.raises(ValueError, match="CPU"):
        load_model(erniem.ErnieMForSequenceClassification, report.path, backend="onnxruntime", device="cuda")
    with pytest.raises(FileNotFoundError, match="model.onnx"):
        load_model(erniem.ErnieMForSequenceClassification, report.path.parent / "model", backend="onnxruntime")


def test_missing_packages_name_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(ImportError, match=r"pip install erniem\[onnx\]"):
        OnnxRuntimeModel.from_pretrained(tmp_path)
    monkeypatch.setitem(sys.modules, "onnxscript", None)
    with pytest.raises(ImportError, match=r"pip install erniem\[onnx\]"):
        export_onnx(tmp_path, tmp_path / "out")
    assert not (tmp_path / "out").exists()
