"""A loopback HTTP mirror for download tests: real sockets on 127.0.0.1, Range requests, and faults on demand.

It serves `files` (URL path -> bytes) as a static host does (200, or 206 for `Range: bytes=N-`), counts every
request per path, and can drop a connection halfway, answer 5xx a number of times, or announce a body larger
than any disk.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class MirrorState:
    files: dict[str, bytes]
    requests: Counter = field(default_factory=Counter)  # path -> GET requests
    ranges: list[tuple[str, int]] = field(default_factory=list)  # (path, first byte) of each Range request
    drop_once: set[str] = field(default_factory=set)  # paths whose next answer stops halfway
    failures: Counter = field(default_factory=Counter)  # path -> 503 answers still to give
    huge: set[str] = field(default_factory=set)  # paths announced at 2**60 bytes (the body never comes)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Mirror:
    """`with Mirror(files) as mirror:` serves on `mirror.url` until the block ends."""

    def __init__(self, files: dict[str, bytes]):
        self.state = MirrorState(files)
        handler = type("Handler", (_Handler,), {"state": self.state})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Mirror:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Handler(BaseHTTPRequestHandler):
    state: MirrorState
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        state = self.state
        with state.lock:
            state.requests[self.path] += 1
            failing = state.failures[self.path] > 0
            if failing:
                state.failures[self.path] -= 1
            dropping = self.path in state.drop_once
            state.drop_once.discard(self.path)
        if self.path not in state.files:
            return self._answer(404, b"not found")
        if failing:
            return self._answer(503, b"busy")
        body = state.files[self.path]
        if self.path in state.huge:
            self.send_response(200)
            self.send_header("Content-Length", str(2**60))
            self.end_headers()
            self.close_connection = True
            return None
        start = 0
        match = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range", ""))
        if match:
            start = int(match.group(1))
            with state.lock:
                state.ranges.append((self.path, start))
            if start >= len(body):
                return self._answer(416, b"")
        self.send_response(206 if match else 200)
        if match:
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        if dropping:  # half of the body, then the connection goes
            self.wfile.write(body[start : start + (len(body) - start) // 2])
            self.wfile.flush()
            self.close_connection = True
            return None
        self.wfile.write(body[start:])
        return None

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:  # quiet
        pass
