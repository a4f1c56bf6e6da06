"""The service's HTTP API fuzzed from its own OpenAPI schema (schemathesis): whatever a client sends, within the
schema (positive) or outside it (negative), the answer is never a 5xx, and every 4xx is JSON `{"error",
"error_type"}`. Two apps, each served by a real uvicorn on 127.0.0.1: extraction with the planted UIE model, and
a tiny random sequence classifier. Runs are derandomized, so CI sees the same requests every time."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

pytest.importorskip("fastapi")  # the serve extra
schemathesis = pytest.importorskip("schemathesis")

import httpx  # noqa: E402
import requests  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from tests.conftest import small  # noqa: E402
from tests.serving import planted_directory, running  # noqa: E402

import erniem  # noqa: E402
from erniem.serve.app import create_app  # noqa: E402
from erniem.serve.models import ServedModel  # noqa: E402

EXAMPLES = 100  # generated requests per operation and generation mode
OPERATIONS = {
    "extract": {"GET /health", "GET /info", "POST /v1/extract", "POST /taskflow/uie"},
    "classify": {"GET /health", "GET /info", "POST /v1/classify"},
}


def classifier_directory(tokenizer, directory: Path) -> Path:
    """A tiny random ErnieMForSequenceClassification, saved with its tokenizer."""
    small(erniem.ErnieMForSequenceClassification, tokenizer, num_labels=3).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def wait_until_healthy(base_url: str, timeout: float = 60.0) -> None:
    """Poll /health until the model is loaded (200)."""
    deadline = time.monotonic() + timeout
    while (status := httpx.get(f"{base_url}/health").status_code) != 200:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{base_url}/health still answers {status} after {timeout:g} s")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def services(tokenizer, tmp_path_factory) -> Iterator[dict[str, str]]:
    """{app name: base URL} of the two services, both ready."""
    folder = tmp_path_factory.mktemp("fuzzed")
    served = {
        "extract": ServedModel(planted_directory(tokenizer, folder / "planted"), "extract", ["person"], "en"),
        "classify": ServedModel(classifier_directory(tokenizer, folder / "classifier"), "classify"),
    }
    with ExitStack() as stack:
        urls = {name: stack.enter_context(running(create_app(model))) for name, model in served.items()}
        for url in urls.values():
            wait_until_healthy(url)
        yield urls


def proper(status: int, content_type: str, body: bytes) -> str | None:
    """What is wrong with an answer (None when nothing is): a 5xx, or a 4xx that is not JSON naming the error
    and its type."""
    if status >= 500:
        return f"a server error, {status}"
    if 400 <= status < 500:
        if not content_type.startswith("application/json"):
            return f"a {status} answered as {content_type!r}, not JSON"
        answer = json.loads(body)
        if not isinstance(answer, dict) or not {"error", "error_type"} <= answer.keys():
            return f"a {status} answered {answer!r}, without 'error' and 'error_type'"
    return None


@pytest.mark.parametrize("mode", list(schemathesis.GenerationMode), ids=str)
@pytest.mark.parametrize("app", list(OPERATIONS))
def test_no_generated_request_gets_a_server_error_or_a_bare_4xx(services, app, mode):
    base_url = services[app]
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {operation.label for operation in operations} == OPERATIONS[app]
    if mode == schemathesis.GenerationMode.NEGATIVE:  # an operation without inputs has nothing to get wrong
        operations = [operation for operation in operations if operation.body or any(operation.iter_parameters())]
    with requests.Session() as session:
        for operation in operations:
            fuzz(operation, mode, base_url, session)


def fuzz(operation, mode: schemathesis.GenerationMode, base_url: str, session: requests.Session) -> None:
    """Send `EXAMPLES` requests drawn from `operation`'s schema (or violating it) and check every answer."""

    @settings(
        max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def answered_properly(case) -> None:
        response = case.call(base_url=base_url, session=session, timeout=30)
        case.validate_response(response, checks=[not_a_server_error])  # schemathesis's report, with curl
        content_type = response.headers.get("content-type", [""])[0]
        problem = proper(response.status_code, content_type, response.content)
        assert problem is None, f"{problem}; reproduce with: {case.as_curl_command()}"

    answered_properly()


# Requests the generator does not reach, each found by hand to break the contract: lone surrogates (JSON escapes
# allow them; hypothesis never draws them), a prompt longer than a model window, a Taskflow `schema_lang` other
# than zh and en (`parameters` is a free-form object), a body that fails to decode, a route that does not exist.
HARD = {
    "surrogate text": ("extract", "POST", "/v1/extract", rb'{"texts": ["\ud800"]}'),
    "surrogate schema": ("extract", "POST", "/v1/extract", rb'{"texts": ["Zorbulax is here"], "schema": ["\ud800"]}'),
    "surrogate taskflow text": ("extract", "POST", "/taskflow/uie", rb'{"data": ["\udfff x"]}'),
    "prompt longer than a window": (
        "extract", "POST", "/v1/extract", b'{"texts": ["Zorbulax is here"], "schema": ["' + b"x" * 3000 + b'"]}'
    ),
    "taskflow schema_lang fr": (
        "extract", "POST", "/taskflow/uie", b'{"data": ["Zorbulax is here"], "parameters": {"schema_lang": "fr"}}'
    ),
    "taskflow schema_lang 5": (
        "extract", "POST", "/taskflow/uie", b'{"data": ["Zorbulax is here"], "parameters": {"schema_lang": 5}}'
    ),
    "surrogate classify text": ("classify", "POST", "/v1/classify", rb'{"inputs": [{"text": "\ud800"}]}'),
    "five NUL bytes": ("extract", "POST", "/v1/extract", b"\x00" * 5),  # json.loads reads them as UTF-32
    "no such route": ("classify", "POST", "/v1/extract", b'{"texts": ["Zorbulax"]}'),
}  # fmt: skip


@pytest.mark.parametrize("request_", HARD.values(), ids=HARD.keys())
def test_hand_picked_requests_get_a_proper_answer(services, request_):
    app, method, path, body = request_
    headers = {"content-type": "application/json"}
    response = httpx.request(method, f"{services[app]}{path}", content=body, headers=headers, timeout=60)
    problem = proper(response.status_code, response.headers.get("content-type", ""), response.content)
    assert problem is None, f"{problem}: {method} {path} {body[:100]!r} -> {response.text[:200]}"
