"""`erniem serve`: the HTTP service (erniem.serve) started by uvicorn."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .models import add_model_options
from .runtime import add_runtime_options, runtime_options

TASKS = ("extract", "classify", "ner", "qa", "choice")


def add_parser(commands) -> None:
    serve = commands.add_parser(
        "serve",
        help="serve extraction or a task model over HTTP (needs the serve extra)",
        description="Start an HTTP service: POST /v1/extract and /taskflow/uie (PaddleNLP's Taskflow server format) "
        "for a UIE-M model, POST /v1/{classify,ner,qa,choice} for a task model; GET /health, /info, /metrics, "
        "/docs, and / (a demo page). Requests are pooled into model batches. It binds 127.0.0.1 unless --host "
        "says otherwise, and on SIGTERM finishes the requests in flight before it exits. "
        "Install with: pip install erniem[serve].",
    )
    add_model_options(serve)
    serve.add_argument("--task", choices=TASKS, default="extract")
    serve.add_argument("--schema", type=Path, help="JSON file: the extraction schema for requests without one")
    serve.add_argument("--schema-lang", choices=["zh", "en"], default="zh")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--max-batch-tokens", type=int, default=16384, help="tokens per model batch")
    serve.add_argument("--max-wait-ms", type=float, default=5.0, help="how long a text waits for others to batch")
    serve.add_argument("--max-queue", type=int, default=1024, help="texts waiting; above, 429")
    serve.add_argument("--max-body-bytes", type=int, default=2 * 1024 * 1024, help="request body size; above, 413")
    serve.add_argument("--max-texts", type=int, default=64, help="texts per request; above, 422")
    serve.add_argument("--max-text-chars", type=int, default=100_000, help="characters per text; above, 422")
    serve.add_argument("--timeout", type=float, default=60.0, help="seconds per request; after, 504")
    serve.add_argument("--batch-size", type=int, default=16, help="rows per forward pass")
    add_runtime_options(serve)
    serve.set_defaults(run=run)


def run(arguments: argparse.Namespace) -> int:
    try:
        import uvicorn

        from ..serve.app import Limits, create_app
        from ..serve.models import ServedModel
    except ImportError as error:
        raise ImportError(f"erniem serve needs the serve extra (pip install erniem[serve]): {error}") from None
    schema = None
    if arguments.schema is not None:
        try:
            schema = json.loads(arguments.schema.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise ValueError(f"{arguments.schema} is not JSON: {error}") from None
    served = ServedModel(
        arguments.model, arguments.task, schema, arguments.schema_lang, runtime_options(arguments),
        {"batch_size": arguments.batch_size}, arguments.cache_dir,
    )  # fmt: skip
    limits = Limits(
        arguments.max_batch_tokens, arguments.max_wait_ms, arguments.max_queue, arguments.max_body_bytes,
        arguments.max_texts, arguments.max_text_chars, arguments.timeout,
    )  # fmt: skip
    app = create_app(served, limits)
    print(f"erniem serve: {arguments.task} on http://{arguments.host}:{arguments.port} (OpenAPI at /docs, demo page "
          "at /; access logs with --verbose)", file=sys.stderr, flush=True)  # fmt: skip
    uvicorn.run(app, host=arguments.host, port=arguments.port, log_level="info")
    return 0
