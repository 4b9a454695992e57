"""Structured logs and Prometheus metrics for the bot and the engine.

Logs: every line written while an order is being handled carries its id. Wrap
the work in ``with bind_order(order_id):``; the id lives in a contextvar, so it
follows ``await`` and ``asyncio.to_thread`` (which copies the context) and is
stamped on each record by :class:`OrderFilter`. With ``SITTER_LOG_JSON=true``
each line is one JSON object (``ts``, ``level``, ``logger``, ``msg``,
``order_id`` and any ``extra=`` fields), ready for Loki/ELK.

Metrics: module-level collectors in the default registry, exposed by
:func:`start_metrics_server` when ``SITTER_METRICS_PORT`` is set. Queue depth
is read from Redis at scrape time (:class:`QueueDepthCollector`), so it is
right even when no process is enqueueing.

Where the calls belong (one line each):

- engine job function: ``with bind_order(req.generation_id), observe_job(JOB_GENERATE):``
  then ``record_likeness(v.likeness)`` per variation; a returned ``JobFailure``:
  ``record_failure(kind, failure.code)``.
- bot, when an order is queued: ``ORDERS.labels(platform).inc()``.
- both entry points: ``configure_logging(settings)`` and ``start_from_settings(settings)``.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import json
import logging
import re
import sys
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import REGISTRY, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry

from sitter import contract as c

if TYPE_CHECKING:
    from sitter.config import Settings

log = logging.getLogger(__name__)

# --- order id on every log line ---------------------------------------------------------
_ORDER_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("order_id", default=None)


def current_order() -> str | None:
    return _ORDER_ID.get()


@contextlib.contextmanager
def bind_order(order_id: str | int | None) -> Iterator[None]:
    """Stamp ``order_id`` on every log record made inside the block (same task/thread)."""
    token = _ORDER_ID.set(None if order_id is None else str(order_id))
    try:
        yield
    finally:
        _ORDER_ID.reset(token)


# arq's own lines about a job ("  0.51s → gen-o12:generate(...)", "← ...", "↻ ...") are
# written outside the job function; the job id in them is the order's id.
_ARQ_JOB_LINE = re.compile(
    r"[→←↻⊘!] (\S+?):(?:" + "|".join(re.escape(name) for name in c.REQUESTS) + r")\b"
)


class OrderFilter(logging.Filter):
    """Adds ``record.order_id``: from ``extra=``, else the bound one, else the job id
    in an arq worker line, else '-'."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "order_id", None) is None:
            order_id = _ORDER_ID.get()
            if order_id is None and record.name.startswith("arq"):
                match = _ARQ_JOB_LINE.search(record.getMessage())
                order_id = match.group(1) if match else None
            record.order_id = order_id or "-"
        return True


# Attributes every LogRecord has; anything else came from ``extra=``.
_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None)).keys()
) | {"message", "asctime", "order_id", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line; ``extra=`` fields are kept as top-level keys."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        order_id = getattr(record, "order_id", None)
        if order_id not in (None, "-"):
            out["order_id"] = order_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [order %(order_id)s] %(message)s"


def configure_logging(settings: Settings, stream: Any = None) -> logging.Handler:
    """Replace the root logger's handlers with one that stamps the order id.

    Returns the handler (tests attach it to a buffer through ``stream``).
    """
    level = settings.log_level.upper()
    if level not in logging.getLevelNamesMapping():
        from sitter.config import ConfigError

        raise ConfigError(
            f"SITTER_LOG_LEVEL={settings.log_level!r} is not a log level "
            "(use DEBUG, INFO, WARNING or ERROR)"
        )
    from sitter.redact import install_for

    install_for(settings)  # tokens and the Redis password never reach a log line
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(OrderFilter())
    handler.setFormatter(JsonFormatter() if settings.log_json else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    return handler


# --- metrics ---------------------------------------------------------------------------------
JOB_SECONDS = Histogram(
    "sitter_job_seconds",
    "Time an engine job took, by kind (analyze_photo, generate, upscale, ...).",
    ["kind"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600),
)
JOB_FAILURES = Counter(
    "sitter_job_failures",
    "Engine jobs that ended in a failure, by kind and failure code.",
    ["kind", "code"],
)
LIKENESS = Histogram(
    "sitter_likeness_score",
    "Likeness of each generated variation to its references (0..1).",
    buckets=tuple(round(0.1 * i, 1) for i in range(1, 11)),
)
ORDERS = Counter("sitter_orders", "Portrait orders queued, by platform.", ["platform"])
SAFETY_SCORE = Histogram(
    "sitter_safety_score",
    "Output safety check score (open_nsfw) of each image scored, by kind.",
    ["kind"],
    buckets=(0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0),
)
SAFETY_OVER = Counter(
    "sitter_safety_over_threshold",
    "Images scored at or over the safety threshold, by kind (generate, upscale, label, "
    "reference); a regenerated variation counts once per attempt.",
    ["kind"],
)
WITHHELD = Counter(
    "sitter_outputs_withheld",
    "Variations, copies and reference photos withheld or refused by the safety check, by kind.",
    ["kind"],
)


@contextlib.contextmanager
def observe_job(kind: str) -> Iterator[None]:
    """Time a job into ``sitter_job_seconds``; an exception also counts as a failure."""
    start = time.perf_counter()
    try:
        yield
    except BaseException as exc:
        JOB_FAILURES.labels(kind, type(exc).__name__).inc()
        raise
    finally:
        JOB_SECONDS.labels(kind).observe(time.perf_counter() - start)


def record_failure(kind: str, code: str) -> None:
    """Count a failure that is returned as data (``JobFailure``) rather than raised."""
    JOB_FAILURES.labels(kind, code).inc()


def record_likeness(score: float | None) -> None:
    if score is not None:
        LIKENESS.observe(score)


def record_safety(kind: str, score: float, *, over: bool) -> None:
    SAFETY_SCORE.labels(kind).observe(score)
    if over:
        SAFETY_OVER.labels(kind).inc()


def record_withheld(kind: str) -> None:
    WITHHELD.labels(kind).inc()


class QueueDepthCollector(Collector):
    """``sitter_queue_depth{queue}``: jobs waiting in each arq queue, read at scrape time."""

    def __init__(self, redis_url: str, prefix: str, timeout: float = 1.0):
        from redis import Redis

        self.prefix = prefix
        self.client = Redis.from_url(
            redis_url, socket_connect_timeout=timeout, socket_timeout=timeout
        )

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily(
            "sitter_queue_depth", "Jobs waiting in each queue (not yet started).", labels=["queue"]
        )
        up = GaugeMetricFamily("sitter_redis_up", "1 when Redis answered this scrape.")
        try:
            for queue in (c.QUEUE_FAST, c.QUEUE_GPU, c.QUEUE_TRAIN):
                depth: int = self.client.zcard(c.queue_name(self.prefix, queue))  # type: ignore[assignment]  # redis-py types every command for both clients; this one is sync
                gauge.add_metric([queue], float(depth))
            up.add_metric([], 1.0)
        except Exception as exc:  # a scrape must not fail because Redis is down
            log.warning("queue depth: Redis did not answer: %s", exc)
            up.add_metric([], 0.0)
        yield gauge
        yield up


def start_metrics_server(
    port: int,
    addr: str = "0.0.0.0",
    registry: CollectorRegistry = REGISTRY,
) -> Any:
    """Serve ``/metrics`` on ``port`` from a daemon thread; returns the HTTP server."""
    server, _thread = start_http_server(port, addr=addr, registry=registry)
    log.info("metrics on http://%s:%d/metrics", addr, port)
    return server


_queue_collector: QueueDepthCollector | None = None


def start_from_settings(settings: Settings, registry: CollectorRegistry = REGISTRY) -> Any:
    """Start the metrics server (with queue depth) when ``SITTER_METRICS_PORT`` is set."""
    global _queue_collector
    if settings.metrics_port is None:
        return None
    if _queue_collector is None:
        _queue_collector = QueueDepthCollector(settings.redis_url, settings.queue_prefix)
        registry.register(_queue_collector)
    return start_metrics_server(settings.metrics_port, registry=registry)
