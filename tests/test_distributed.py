"""Extraction and task inference on Ray Data (a local Ray: 2 CPUs, one actor of one CPU): the single-process
CLI's results row by row, ids and other columns kept, JSON Lines and Parquet both ways, bad rows counted or
stopping the job, and an actor killed mid-run without a row lost or doubled."""

from __future__ import annotations

import json
import os
import signal

import pytest

pytest.importorskip("ray.data")
pq = pytest.importorskip("pyarrow.parquet")
import psutil  # noqa: E402
import pyarrow as pa  # noqa: E402
import ray  # noqa: E402
import ray.data  # noqa: E402
from tests.conftest import corpus, small  # noqa: E402
from tests.serving import NAME, planted_directory  # noqa: E402

import erniem  # noqa: E402
from erniem.cli import main  # noqa: E402
from erniem.distributed import extract_dataset  # noqa: E402

BAD_LINES = [json.dumps({"id": 900, "text": 5}), json.dumps({"id": 901}), "not json", json.dumps(["a list"])]


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def model_dir(tokenizer, tmp_path_factory):
    return planted_directory(tokenizer, tmp_path_factory.mktemp("ray") / "model")


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    """200 rows: corpus lines of every language, long texts of several lines, the planted name in some."""
    lines = [text for _, text in corpus()]
    found = []
    for index in range(200):
        text = lines[(index * 37) % len(lines)]
        if index % 10 == 0:
            text = " ".join(lines[index : index + 12])  # long: several windows
        if index % 3 == 0:
            text = f"{text} {NAME}"
        found.append({"id": index, "text": text, "source": f"s{index % 7}"})
    return found


def write_jsonl(path, rows, extra_lines=()) -> None:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows) + "".join(
        line + "\n" for line in extra_lines), encoding="utf-8")  # fmt: skip


def read_output(folder, output_format: str = "jsonl") -> list[dict]:
    if output_format == "parquet":
        return pq.read_table(folder).to_pylist()
    return [json.loads(line) for path in sorted(folder.iterdir()) for line in path.read_text().splitlines()]


def single_process(capsys, arguments: list[str]) -> list:
    assert main(arguments) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_extract_on_ray_gives_the_single_process_results_row_by_row(local_ray, model_dir, rows, tmp_path, capsys):
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps(["person", {"organization": ["founder"]}]))
    source = tmp_path / "in.jsonl"
    write_jsonl(source, rows, BAD_LINES)
    common = ["--model", str(model_dir), "--schema", str(schema), "--schema-lang", "en", "--on-error", "skip"]
    expected = single_process(capsys, ["extract", *common, str(source)])
    assert main(["extract", *common, "--engine", "ray", str(source), str(tmp_path / "out")]) == 0
    assert "204 rows, 4 with an error" in capsys.readouterr().err
    written = read_output(tmp_path / "out")
    by_id = {row["id"]: row for row in written if row.get("id") is not None}
    assert sorted(by_id) == [*range(200), 900, 901] and len(written) == 204  # every row once
    for row in rows:
        assert json.loads(by_id[row["id"]]["result"]) == expected[row["id"]], row["id"]
        assert (by_id[row["id"]]["text"], by_id[row["id"]]["source"]) == (row["text"], row["source"])
    assert sum(NAME in json.dumps(json.loads(by_id[i]["result"])) for i in range(200)) >= 60  # it found them
    assert by_id[900]["error"] == "'text' is int, not a string" and by_id[900]["result"] is None
    assert by_id[901]["error"] == "the text is missing, not a string"
    unnamed = sorted(row["error"] for row in written if row.get("id") is None)
    assert unnamed[0] == "expected an object, got list" and unnamed[1].startswith("not JSON")


def test_parquet_in_and_out_through_the_python_api(local_ray, model_dir, rows, tmp_path):
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "in.parquet")
    found = extract_dataset(ray.data.read_parquet(str(tmp_path / "in.parquet")), str(model_dir), ["person"],
                            schema_lang="en", actors=1, cpus_per_actor=1, batch_size=16)  # fmt: skip
    found.write_parquet(str(tmp_path / "out"))
    written = {row["id"]: row for row in read_output(tmp_path / "out", "parquet")}
    expected = erniem.uie.UIEPipeline.from_pretrained(model_dir, ["person"], schema_lang="en")(
        [r["text"] for r in rows]
    )
    assert sorted(written) == list(range(200))
    assert [json.loads(written[index]["result"]) for index in range(200)] == expected
    assert all(row["error"] is None for row in written.values())


def test_on_error_stop_fails_the_job_naming_the_row_and_writes_nothing(local_ray, model_dir, rows, tmp_path, capsys):
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps(["person"]))
    source = tmp_path / "in.jsonl"
    write_jsonl(source, rows[:20], BAD_LINES[:1])
    arguments = ["extract", "--model", str(model_dir), "--schema", str(schema), "--engine", "ray", str(source)]
    assert main([*arguments, str(tmp_path / "out")]) == 1
    assert "row id 900: 'text' is int, not a string" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_task_model_on_ray_answers_as_erniem_predict(local_ray, tokenizer, rows, tmp_path, capsys):
    directory = tmp_path / "classifier"
    small(erniem.ErnieMForSequenceClassification, tokenizer, num_labels=3).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    source = tmp_path / "in.jsonl"
    write_jsonl(source, [{**row, "text_pair": "pair"} if row["id"] % 2 else row for row in rows[:60]])
    expected = single_process(capsys, ["predict", "classify", "--model", str(directory), "--top-k", "2", str(source)])
    output = tmp_path / "out"
    assert main(["predict", "classify", "--model", str(directory), "--top-k", "2", "--engine", "ray",
                 "--output-format", "parquet", str(source), str(output)]) == 0  # fmt: skip
    written = {row["id"]: row for row in read_output(output, "parquet")}
    assert [json.loads(written[index]["result"]) for index in range(60)] == expected


def test_a_killed_actor_loses_and_doubles_no_row(local_ray, model_dir):
    rows = [{"id": index, "text": f"We met {NAME} {index} " * (1 + index % 5)} for index in range(2000)]
    found = extract_dataset(ray.data.from_items(rows, override_num_blocks=50), str(model_dir), ["person"],
                            schema_lang="en", batch_size=8, restarts=3)  # fmt: skip
    seen, killed = [], []
    for row in found.iter_rows():
        seen.append(row["id"])
        if not killed and len(seen) >= 50:
            actors = [process for process in psutil.process_iter(["cmdline"])
                      if "MapBatches(Predictor)" in " ".join(process.info["cmdline"] or [])]  # fmt: skip
            assert len(actors) == 1
            killed.append(actors[0].pid)
            os.kill(actors[0].pid, signal.SIGKILL)
    assert killed  # after 50 of 2,000 rows
    assert sorted(seen) == list(range(2000))
