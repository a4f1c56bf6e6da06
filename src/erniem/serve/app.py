"""The HTTP service: a FastAPI app over a `ServedModel`, its requests pooled by a `Batcher`.

Routes: `POST /v1/extract` and `POST /taskflow/uie` (PaddleNLP's Taskflow server format) for a UIE-M model,
`POST /v1/{classify,ner,qa,choice}` for the task model served; `GET /health`, `/info`, `/metrics`
(Prometheus), `/docs` (OpenAPI), and `/`, the demo page. Errors are JSON `{"error", "error_type"}`: 400
malformed JSON, 413 body too large, 422 invalid input (a bad schema names the bad element's path), 429 queue
full (with Retry-After), 503 model not loaded yet, 504 request timeout.
"""

from __future__ import annotations

import asyncio
import json
import time
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from importlib.resources import files
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException

from .. import __version__
from .batching import Batcher, QueueFull
from .metrics import Metrics
from .models import ServedModel


@dataclass(frozen=True)
class Limits:
    max_batch_tokens: int = 16384  # tokens per model batch
    max_wait_ms: float = 5.0  # how long the oldest waiting item may wait for others
    max_queue: int = 1024  # items waiting for the model; above, 429
    max_body_bytes: int = 2 * 1024 * 1024  # 413 above
    max_texts: int = 64  # texts (or task inputs) per request; 422 above
    max_text_chars: int = 100_000  # characters per text (long texts are windowed); 422 above
    timeout_s: float = 60.0  # per request; 504 after


HTTP_ERROR_TYPES = {400: "malformed_json", 404: "not_found", 405: "method_not_allowed"}  # FastAPI's own errors


class ApiError(Exception):
    def __init__(self, status: int, error_type: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.error_type, self.headers = status, error_type, headers


class ExtractRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    texts: list[str]
    schema_: Any = Field(None, alias="schema", description="this request's schema (default: the service's)")
    schema_lang: Literal["zh", "en"] | None = None


class TaskflowData(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str | list[str]


class TaskflowRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    data: TaskflowData | list[str]
    parameters: dict[str, Any] | None = None


class TaskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    inputs: list[Any] = Field(description="objects as `erniem predict` reads them, one per line")


def create_app(served: ServedModel, limits: Limits = Limits()) -> FastAPI:  # noqa: B008 (frozen)
    metrics = Metrics()
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        batcher = Batcher(
            served.run, limits.max_batch_tokens, limits.max_wait_ms / 1000, limits.max_queue, metrics.batch
        )
        state["batcher"] = batcher
        batcher.start()
        loading = asyncio.create_task(asyncio.to_thread(served.load))
        state["loading"] = loading
        yield
        await batcher.stop()
        if not loading.done():
            loading.cancel()

    app = FastAPI(title="erniem", version=__version__, lifespan=lifespan)
    app.add_middleware(_BodyLimit, max_bytes=limits.max_body_bytes)

    app.add_middleware(_Measured, metrics=metrics)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, error: ApiError):
        return _error(error.status, error.error_type, str(error), error.headers)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException):
        error_type = HTTP_ERROR_TYPES.get(error.status_code, "http_error")
        message = "the body is not valid JSON" if error_type == "malformed_json" else str(error.detail)
        return _error(error.status_code, error_type, message, getattr(error, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError):
        problems = error.errors()
        if any(problem.get("type") == "json_invalid" for problem in problems) or not _is_json(await request.body()):
            return _error(400, "malformed_json", "the body is not valid JSON")
        where = "; ".join(
            f"{'.'.join(map(str, problem.get('loc', ())))}: {problem.get('msg')}" for problem in problems[:5]
        )
        return _error(422, "validation", where)

    async def answer(http: Request, group: tuple, values: list) -> list:
        if not served.ready:
            _raise_if_failed(state["loading"])
            raise ApiError(503, "loading", "the model is still loading", {"Retry-After": "1"})
        if len(values) > limits.max_texts:
            raise ApiError(422, "too_many_texts", f"{len(values)} texts in one request; at most {limits.max_texts}")
        _check_unicode(values, "texts" if served.task == "extract" else "inputs")
        costs = await asyncio.to_thread(served.costs, values)
        metrics.tokens.inc(sum(costs))
        batcher: Batcher = state["batcher"]
        submission = asyncio.ensure_future(asyncio.wait_for(batcher.submit(group, values, costs), limits.timeout_s))
        gone = asyncio.ensure_future(_disconnected(http))
        try:
            await asyncio.wait({submission, gone}, return_when=asyncio.FIRST_COMPLETED)
            if not submission.done():  # the client went away: its texts leave the queue
                submission.cancel()
                raise ApiError(499, "client_closed", "the client closed the connection")
            return submission.result()
        except ValueError as error:  # what the model cannot take (a prompt that leaves no room for text, ...)
            raise ApiError(422, "unprocessable", str(error)) from None
        except QueueFull as error:
            raise ApiError(429, "overloaded", f"the queue is full ({error})", {"Retry-After": "1"}) from None
        except asyncio.TimeoutError:  # noqa: UP041 (a distinct class before Python 3.11)
            raise ApiError(504, "timeout", f"no answer within {limits.timeout_s:g} s") from None
        finally:
            gone.cancel()
            metrics.queue_depth.set(batcher.depth)

    def checked_texts(texts: list[str]) -> list[str]:
        for index, text in enumerate(texts):
            if len(text) > limits.max_text_chars:
                raise ApiError(
                    422, "text_too_long", f"texts.{index} has {len(text)} characters; at most {limits.max_text_chars}"
                )
        return texts

    def extraction_group(schema, schema_lang) -> tuple:
        from ..uie.schema import parse_schema

        if served.task != "extract":
            raise ApiError(404, "not_served", f"this service runs the {served.task} task, not extraction")
        if schema is None and served.schema is None:
            raise ApiError(422, "validation", "schema: no schema in the request, and none given at start-up")
        if schema is not None:
            try:
                parse_schema(schema)
            except (TypeError, ValueError) as error:
                raise ApiError(422, "bad_schema", str(error)) from None
            _check_unicode(schema, "schema")
        if schema_lang is not None and schema_lang not in ("zh", "en"):
            raise ApiError(422, "validation", f"schema_lang must be 'zh' or 'en', got {schema_lang!r}")
        return served.group(schema, schema_lang)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def page() -> HTMLResponse:
        return HTMLResponse(files("erniem.serve").joinpath("static/index.html").read_text(encoding="utf-8"))

    @app.get("/health")
    async def health() -> JSONResponse:
        if not served.ready:
            _raise_if_failed(state["loading"])
            return _error(503, "loading", "the model is still loading")
        return JSONResponse({"status": "ok"})

    @app.get("/info")
    async def info() -> dict:
        runtime = {key: str(value) if value is not None else None for key, value in served.runtime.items()}
        return {
            "model": str(served.model), "task": served.task, "schema": served.schema,
            "schema_lang": served.schema_lang, "ready": served.ready, "runtime": runtime,
            "limits": asdict(limits), "version": __version__,
        }  # fmt: skip

    @app.get("/metrics", include_in_schema=False)
    async def prometheus() -> Response:
        return Response(metrics.exposition(), media_type=metrics.content_type)

    if served.task == "extract":

        @app.post("/v1/extract")
        async def extract(request: ExtractRequest, http: Request) -> dict:
            group = extraction_group(request.schema_, request.schema_lang)
            return {"results": await answer(http, group, checked_texts(request.texts))}

        @app.post("/taskflow/uie")
        async def taskflow(request: TaskflowRequest, http: Request) -> dict:
            data = request.data
            texts = data if isinstance(data, list) else ([data.text] if isinstance(data.text, str) else data.text)
            parameters = request.parameters or {}
            group = extraction_group(parameters.get("schema"), parameters.get("schema_lang"))
            return {"result": await answer(http, group, checked_texts(texts))}

    else:

        @app.post(f"/v1/{served.task}")
        async def task(request: TaskRequest, http: Request) -> dict:
            from ..tasks.lines import LINE_TASKS

            for index, value in enumerate(request.inputs):
                try:
                    LINE_TASKS[served.task].check(value)
                except ValueError as error:
                    raise ApiError(422, "validation", f"inputs.{index}: {error}") from None
                for key, text in value.items():
                    if isinstance(text, str) and len(text) > limits.max_text_chars:
                        raise ApiError(422, "text_too_long", f"inputs.{index}.{key} is over {limits.max_text_chars}")
            return {"results": await answer(http, served.group(), request.inputs)}

    return app


async def _disconnected(request: Request) -> None:
    """Return once the client has closed the connection (the server's next message after the body)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


def _check_unicode(value, path: str) -> None:
    """422 for a string holding a lone surrogate (JSON can escape one; no text can be encoded with it)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as error:
            raise ApiError(422, "validation", f"{path}: a lone surrogate at character {error.start}") from None
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_unicode(item, f"{path}.{index}")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_unicode(key, path)
            _check_unicode(item, f"{path}.{key}")


def _is_json(body: bytes) -> bool:
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


def _raise_if_failed(loading: asyncio.Task) -> None:
    if loading.done() and not loading.cancelled() and loading.exception() is not None:
        raise ApiError(503, "load_failed", f"the model failed to load: {loading.exception()}")


def _error(status: int, error_type: str, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": message, "error_type": error_type}, status_code=status, headers=headers)


class _BodyLimit:
    """ASGI middleware: 413 for a body over `max_bytes`, by its Content-Length or as it arrives."""

    def __init__(self, app, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            return await self._refuse(send)
        received = 0

        async def limited():
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise _TooLarge
            return message

        try:
            return await self.app(scope, limited, send)
        except _TooLarge:
            return await self._refuse(send)

    async def _refuse(self, send) -> None:
        body = json.dumps({"error": f"the body is over {self.max_bytes} bytes", "error_type": "too_large"}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


class _Measured:
    """ASGI middleware: each request's route, status and latency into the metrics (pure ASGI, so that an
    endpoint still sees its client disconnect)."""

    def __init__(self, app, metrics: Metrics):
        self.app, self.metrics = app, metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start, status = time.perf_counter(), 500

        async def sent(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sent)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")  # the router sets it on this scope
            self.metrics.request(route, status, time.perf_counter() - start)
