"""Helpers for the service's tests: a model whose answers are known, and the app run by a real uvicorn on
127.0.0.1 (a free port), in a thread of the test process."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import uvicorn
from tests.conftest import planted_model

NAME = "Zorbulax"  # the planted model finds this name, and nothing else


def planted_directory(tokenizer, directory: Path) -> Path:
    """The planted UIE model (it finds "Zorbulax" and nothing else), saved with its tokenizer."""
    pieces = tokenizer(" " + NAME, add_special_tokens=False)["input_ids"]
    planted_model(tokenizer, {pieces[0]}, {pieces[-1]}).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def running(app) -> Iterator[str]:
    """Serve `app` with uvicorn on 127.0.0.1 until the block ends; yields the base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
