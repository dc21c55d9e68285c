"""Prometheus metrics of one server app, in its own CollectorRegistry (no global state)."""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


class ServingMetrics:
    """The server's metrics. ``model`` and ``version`` are empty on routes that name no model.

    With several worker processes each worker keeps its own registry, so one scrape shows the
    worker that answered it.
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        labels = ("model", "version")
        self.requests = Counter(
            "pack_requests",
            "HTTP requests answered, by model, endpoint (route template) and status code.",
            (*labels, "endpoint", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "pack_request_duration_seconds",
            "Time from request start to the end of the response, by model and endpoint.",
            (*labels, "endpoint"),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.in_flight = Gauge("pack_requests_in_flight", "Requests being handled right now.", registry=self.registry)
        self.batch_size = Histogram(
            "pack_batch_size",
            "Requests merged into one predict call.",
            labels,
            buckets=BATCH_BUCKETS,
            registry=self.registry,
        )
        self.batch_rows = Histogram(
            "pack_batch_rows",
            "Rows in one predict call.",
            labels,
            buckets=BATCH_BUCKETS,
            registry=self.registry,
        )
        self.predict_latency = Histogram(
            "pack_predict_duration_seconds",
            "Time the model spends in one predict call.",
            labels,
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.queue_depth = Gauge("pack_queue_depth", "Requests waiting for the model.", labels, registry=self.registry)
        self.rejected = Counter(
            "pack_rejected_requests",
            "Requests refused with 503 before any work, by reason (concurrency, queue, stalled).",
            (*labels, "reason"),
            registry=self.registry,
        )
        self.reruns = Counter(
            "pack_batch_reruns",
            "Requests predicted again because the merged predict they were in raised (split in halves).",
            labels,
            registry=self.registry,
        )
        self.load_seconds = Gauge(
            "pack_model_load_seconds",
            "Seconds spent loading and warming up the model.",
            labels,
            registry=self.registry,
        )
        self.ready = Gauge(
            "pack_model_ready", "1 when the model is loaded and warmed up.", labels, registry=self.registry
        )

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


__all__ = ["BATCH_BUCKETS", "LATENCY_BUCKETS", "ServingMetrics"]
