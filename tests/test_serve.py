"""The service against a real uvicorn on 127.0.0.1: answers equal to the pipelines', health, metrics, batching
of concurrent requests, every limit's status, and a graceful stop on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import threading
import time

import pytest

pytest.importorskip("fastapi")  # the serve extra
import httpx  # noqa: E402
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402
from tests.conftest import small  # noqa: E402
from tests.serving import NAME, free_port, planted_directory, running  # noqa: E402

import erniem  # noqa: E402
from erniem.serve.app import Limits, create_app  # noqa: E402
from erniem.serve.models import ServedModel  # noqa: E402
from erniem.tasks.classification import classify  # noqa: E402
from erniem.uie import UIEPipeline  # noqa: E402

TEXTS = [f"We met {NAME} today.", "Nobody here.", f"{NAME}, {NAME} and friends", "张三在北京见到了Zorbulax。"]
SCHEMA = ["person", {"organization": ["founder"]}]


@pytest.fixture(scope="module")
def model_dir(tokenizer, tmp_path_factory):
    return planted_directory(tokenizer, tmp_path_factory.mktemp("serve") / "model")


class Gated(ServedModel):
    """A served model whose loading and batches wait for `gate` (to hold the service in a known state); it
    records the values of every batch."""

    def __post_init__(self):
        super().__post_init__()
        self.gate = threading.Event()
        self.seen: list = []

    def load(self) -> None:
        self.gate.wait(30)
        super().load()

    def run(self, group, values):
        self.gate.wait(30)
        self.seen.extend(values)
        return super().run(group, values)


def wait_ready(url: str) -> None:
    deadline = time.monotonic() + 60
    while httpx.get(f"{url}/health").status_code != 200:
        assert time.monotonic() < deadline, "the model did not load"
        time.sleep(0.05)


def metrics(url: str) -> dict[tuple, float]:
    """{(sample name, sorted labels): value} of /metrics, parsed with Prometheus' own parser."""
    text = httpx.get(f"{url}/metrics").text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_both_extraction_routes_answer_what_the_pipeline_does(model_dir):
    expected_en = UIEPipeline.from_pretrained(model_dir, SCHEMA, schema_lang="en")(TEXTS)
    expected_zh = UIEPipeline.from_pretrained(model_dir, ["人物"])(TEXTS)
    assert expected_en[0]["person"][0]["text"] == NAME  # the planted model answers
    with running(create_app(ServedModel(model_dir, "extract", SCHEMA, "en"))) as url:
        wait_ready(url)
        assert httpx.post(f"{url}/v1/extract", json={"texts": TEXTS}).json() == {"results": expected_en}
        own = httpx.post(f"{url}/v1/extract", json={"texts": TEXTS, "schema": ["人物"], "schema_lang": "zh"})
        assert own.json() == {"results": expected_zh}
        request = {"data": {"text": TEXTS}, "parameters": {"schema": ["人物"], "schema_lang": "zh"}}
        assert httpx.post(f"{url}/taskflow/uie", json=request).json() == {"result": expected_zh}
        one = httpx.post(f"{url}/taskflow/uie", json={"data": {"text": TEXTS[0]}})
        assert one.json() == {"result": expected_en[:1]}  # the start-up schema: the last request's did not stick
        assert httpx.post(f"{url}/taskflow/uie", json={"data": TEXTS}).json() == {"result": expected_en}  # old clients
        info = httpx.get(f"{url}/info").json()
        assert (info["task"], info["schema"], info["version"]) == ("extract", SCHEMA, erniem.__version__)
        assert httpx.get(f"{url}/docs").status_code == 200
        assert "/v1/extract" in httpx.get(f"{url}/openapi.json").json()["paths"]


def test_health_turns_200_once_the_model_is_loaded(model_dir):
    served = Gated(model_dir, "extract", ["person"], "en")
    with running(create_app(served)) as url:
        assert httpx.get(f"{url}/health").status_code == 503
        early = httpx.post(f"{url}/v1/extract", json={"texts": ["x"]})
        assert (early.status_code, early.json()["error_type"]) == (503, "loading")
        served.gate.set()
        wait_ready(url)
        assert httpx.get(f"{url}/health").json() == {"status": "ok"}


def test_concurrent_requests_are_batched_and_counted(model_dir):
    texts = [f"{NAME} number {index}" if index % 2 else f"text {index}" for index in range(32)]
    expected = UIEPipeline.from_pretrained(model_dir, ["person"], schema_lang="en")(texts)
    with running(create_app(ServedModel(model_dir, "extract", ["person"], "en"), Limits(max_wait_ms=100))) as url:
        wait_ready(url)
        before = metrics(url)

        async def clients():
            async with httpx.AsyncClient(base_url=url, timeout=60) as client:
                answers = await asyncio.gather(*(client.post("/v1/extract", json={"texts": [t]}) for t in texts))
            return [answer.json()["results"][0] for answer in answers]

        assert asyncio.run(clients()) == expected
        after = metrics(url)
    batches = after[("erniem_batch_size_count", ())] - before.get(("erniem_batch_size_count", ()), 0)
    items = after[("erniem_batch_size_sum", ())] - before.get(("erniem_batch_size_sum", ()), 0)
    assert items == 32 and items / batches > 1
    assert after[("erniem_requests_total", (("route", "/v1/extract"), ("status", "200")))] == 32
    assert after[("erniem_request_seconds_count", (("route", "/v1/extract"),))] == 32
    tokens = sum(len(erniem.ErnieMTokenizer.from_pretrained(model_dir).tokenize(text)) + 2 for text in texts)
    assert after[("erniem_tokens_total", ())] == tokens
    assert after[("erniem_queue_depth", ())] == 0


def test_a_full_queue_answers_429_with_retry_after(model_dir):
    served = Gated(model_dir, "extract", ["person"], "en")
    limits = Limits(max_queue=2, max_batch_tokens=1, max_wait_ms=0)
    with running(create_app(served, limits)) as url:
        threading.Timer(0.5, served.gate.set).start()  # loads; then batches are held until ...
        wait_ready(url)
        served.gate.clear()

        async def clients():
            async with httpx.AsyncClient(base_url=url, timeout=60) as client:
                sent = [asyncio.create_task(client.post("/v1/extract", json={"texts": [f"t{i}"]})) for i in range(6)]
                await asyncio.sleep(1.0)
                served.gate.set()  # ... the refusals are in
                return await asyncio.gather(*sent)

        answers = asyncio.run(clients())
    statuses = sorted(answer.status_code for answer in answers)
    assert 2 <= statuses.count(200) <= 3 and statuses.count(429) == 6 - statuses.count(200), statuses  # 1 + 2
    assert sorted(served.seen) == [f"t{i}" for i, answer in enumerate(answers) if answer.status_code == 200]
    refused = next(answer for answer in answers if answer.status_code == 429)
    assert refused.headers["retry-after"] == "1" and refused.json()["error_type"] == "overloaded"


def test_every_limit_has_its_status_and_a_json_body(model_dir):
    served = Gated(model_dir, "extract", None, "en")
    served.gate.set()
    limits = Limits(max_body_bytes=2000, max_texts=3, max_text_chars=100, timeout_s=0.5)

    def error(response, status: int, error_type: str) -> str:
        assert (response.status_code, response.json()["error_type"]) == (status, error_type), response.text
        return response.json()["error"]

    with running(create_app(served, limits)) as url:
        wait_ready(url)
        post = lambda route, **kwargs: httpx.post(f"{url}{route}", **kwargs)  # noqa: E731
        error(post("/v1/extract", json={"texts": ["x" * 90] * 3, "schema": ["a" * 2000]}), 413, "too_large")
        error(post("/v1/extract", json={"texts": ["a"] * 4, "schema": ["p"]}), 422, "too_many_texts")
        assert "texts.1 has 101 characters" in error(
            post("/v1/extract", json={"texts": ["a", "b" * 101], "schema": ["p"]}), 422, "text_too_long"
        )
        error(post("/v1/extract", content=b'{"texts": [', headers={"content-type": "application/json"}), 400,
              "malformed_json")  # fmt: skip
        error(post("/v1/extract", content=b"not json"), 400, "malformed_json")
        assert "schema[1]['org'][0]" in error(
            post("/v1/extract", json={"texts": ["a"], "schema": ["p", {"org": [3]}]}), 422, "bad_schema"
        )
        assert "no schema" in error(post("/v1/extract", json={"texts": ["a"]}), 422, "validation")
        error(post("/v1/extract", json={"texts": "a", "schema": ["p"]}), 422, "validation")
        error(post("/taskflow/uie", json={"data": {"doc": "aGVsbG8="}}), 422, "validation")  # UIE-X's documents
        error(post("/taskflow/uie", json={"data": {"text": "a"}, "other": 1}), 422, "validation")
        assert post("/v1/classify", json={"inputs": []}).status_code == 404
        served.gate.clear()
        error(post("/v1/extract", json={"texts": ["slow"], "schema": ["p"]}), 504, "timeout")
        served.gate.set()
        assert post("/v1/extract", json={"texts": [NAME], "schema": ["p"]}).status_code == 200


def test_the_texts_of_a_client_that_went_away_never_reach_the_model(model_dir):
    served = Gated(model_dir, "extract", ["person"], "en")
    with running(create_app(served, Limits(max_batch_tokens=1, max_wait_ms=0))) as url:
        served.gate.set()
        wait_ready(url)
        served.gate.clear()

        async def clients():
            async with httpx.AsyncClient(base_url=url, timeout=60) as client:
                held = asyncio.create_task(client.post("/v1/extract", json={"texts": ["held"]}))
                await asyncio.sleep(0.3)  # "held" is in the model
                with pytest.raises(httpx.ReadTimeout):
                    await client.post("/v1/extract", json={"texts": ["gone"]}, timeout=0.5)
                await asyncio.sleep(0.3)  # the service notices the closed connection
                served.gate.set()
                return await held

        assert asyncio.run(clients()).status_code == 200
        assert httpx.post(f"{url}/v1/extract", json={"texts": ["after"]}).status_code == 200
    assert served.seen == ["held", "after"]


def test_a_task_model_answers_as_erniem_predict_does(tokenizer, tmp_path):
    model = small(erniem.ErnieMForSequenceClassification, tokenizer, num_labels=3)
    model.save_pretrained(tmp_path / "classifier")
    tokenizer.save_pretrained(tmp_path / "classifier")
    fast = erniem.ErnieMTokenizerFast.from_pretrained(tmp_path / "classifier")
    inputs = [{"text": "good"}, {"text": "bad", "text_pair": "very"}, {"text": "Zorbulax"}]
    loaded = erniem.ErnieMForSequenceClassification.from_pretrained(tmp_path / "classifier")
    expected = [
        *[{"label": found[0].label, "score": found[0].score} for found in classify(loaded, fast, ["good"])],
        *[{"label": found[0].label, "score": found[0].score} for found in classify(loaded, fast, ["bad"], ["very"])],
        *[{"label": found[0].label, "score": found[0].score} for found in classify(loaded, fast, ["Zorbulax"])],
    ]
    with running(create_app(ServedModel(tmp_path / "classifier", "classify"))) as url:
        wait_ready(url)
        answer = httpx.post(f"{url}/v1/classify", json={"inputs": inputs})
        assert answer.json() == {"results": expected}
        bad = httpx.post(f"{url}/v1/classify", json={"inputs": [{"text": "ok"}, {"text_pair": "no text"}]})
        assert bad.status_code == 422 and bad.json()["error"].startswith("inputs.1: 'text'")
        assert httpx.post(f"{url}/v1/extract", json={"texts": ["a"]}).status_code == 404


def test_sigterm_finishes_the_request_in_flight(model_dir, tmp_path):
    (tmp_path / "schema.json").write_text(json.dumps(["person"]))
    port = free_port()
    schema = str(tmp_path / "schema.json")
    command = [sys.executable, "-m", "erniem.cli", "serve", "--model", str(model_dir), "--schema", schema,
               "--schema-lang", "en", "--port", str(port), "--max-wait-ms", "1500"]  # fmt: skip
    server = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, "the service did not start"
            time.sleep(0.1)
        answers = []
        request = threading.Thread(
            target=lambda: answers.append(httpx.post(f"{url}/v1/extract", json={"texts": [NAME]}, timeout=60))
        )
        request.start()
        time.sleep(0.5)  # the text waits 1.5 s in the batcher for company
        server.send_signal(signal.SIGTERM)
        request.join(60)
        assert server.wait(60) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal once it has finished
    finally:
        if server.poll() is None:
            server.kill()
    assert answers[0].status_code == 200 and answers[0].json()["results"][0]["person"][0]["text"] == NAME
    assert f"erniem serve: extract on http://127.0.0.1:{port}" in server.stderr.read()  # loopback by default
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/health")
