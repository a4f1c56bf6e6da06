"""The service's Prometheus metrics, in a registry of its own (one per app)."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self):
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "erniem_requests", "HTTP requests by route and status", ["route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "erniem_request_seconds", "Request latency", ["route"], buckets=LATENCY_BUCKETS, registry=self.registry
        )
        self.batch_items = Histogram(
            "erniem_batch_size", "Items (texts or task inputs) per model batch", buckets=BATCH_BUCKETS,
            registry=self.registry,
        )  # fmt: skip
        self.batch_tokens = Counter("erniem_batch_tokens", "Tokens sent to the model", registry=self.registry)
        self.queue_depth = Gauge("erniem_queue_depth", "Items waiting for the model", registry=self.registry)
        self.tokens = Counter("erniem_tokens", "Tokens received in requests", registry=self.registry)

    def request(self, route: str, status: int, seconds: float) -> None:
        self.requests.labels(route, str(status)).inc()
        self.latency.labels(route).observe(seconds)

    def batch(self, group, items: int, tokens: int) -> None:
        self.batch_items.observe(items)
        self.batch_tokens.inc(tokens)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
