"""Structured logs, Prometheus metrics and the container health checks, for real:
a real Redis, a real arq worker, a real HTTP scrape of /metrics."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import socket
import urllib.request
from collections.abc import Iterator

import pytest
from arq.worker import Worker
from prometheus_client import CollectorRegistry

from sitter import contract as c
from sitter import healthcheck
from sitter import observability as obs
from sitter.config import ConfigError, Settings
from sitter.queue import EngineClient, connect


def _settings(**kw: object) -> Settings:
    return Settings(_env_file=None, **kw)  # type: ignore[call-arg]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for h in list(root.handlers):
        root.removeHandler(h)
    for h in handlers:
        root.addHandler(h)
    root.setLevel(level)


async def test_order_id_follows_await_and_threads_into_json_lines(restore_logging: None) -> None:
    buf = io.StringIO()
    obs.configure_logging(_settings(log_json=True, log_level="DEBUG"), stream=buf)
    log = logging.getLogger("sitter.test")

    def in_thread() -> None:
        log.info("decoding in a thread")

    async def order(order_id: str) -> None:
        with obs.bind_order(order_id):
            log.info("queued", extra={"platform": "telegram"})
            await asyncio.sleep(0.01)  # the other order runs here
            await asyncio.to_thread(in_thread)
            log.info("done")

    await asyncio.gather(order("ord-1"), order("ord-2"))
    log.info("not about an order")

    lines = [json.loads(line) for line in buf.getvalue().splitlines()]
    by_order: dict[str, list[str]] = {}
    for rec in lines:
        by_order.setdefault(rec.get("order_id", "-"), []).append(rec["msg"])
    assert by_order["ord-1"] == ["queued", "decoding in a thread", "done"]
    assert by_order["ord-2"] == ["queued", "decoding in a thread", "done"]
    assert by_order["-"] == ["not about an order"]
    first = lines[0]
    assert first["level"] == "INFO" and first["logger"] == "sitter.test"
    assert first["platform"] == "telegram" and first["ts"].endswith("+00:00")


def test_text_lines_carry_the_order_id_and_exceptions(restore_logging: None) -> None:
    buf = io.StringIO()
    obs.configure_logging(_settings(log_json=False), stream=buf)
    with obs.bind_order(42):
        try:
            raise ValueError("bad seed")
        except ValueError:
            logging.getLogger("engine").exception("generation failed")
    out = buf.getvalue()
    assert "[order 42] generation failed" in out and "ValueError: bad seed" in out


def test_a_wrong_log_level_is_refused_clearly(restore_logging: None) -> None:
    with pytest.raises(ConfigError, match="SITTER_LOG_LEVEL='LOUD'"):
        obs.configure_logging(_settings(log_level="LOUD"))


def _scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        return resp.read().decode()


def _value(text: str, sample: str, default: float | None = None) -> float:
    for line in text.splitlines():
        if line.startswith(sample + " "):
            return float(line.split()[-1])
    if default is not None:
        return default
    raise AssertionError(f"{sample} not in the scrape")


async def test_metrics_endpoint_serves_queue_depth_jobs_failures_likeness_orders(
    redis_url: str, queue_prefix: str
) -> None:
    registry = CollectorRegistry()
    for metric in (obs.JOB_SECONDS, obs.JOB_FAILURES, obs.LIKENESS, obs.ORDERS):
        registry.register(metric)
    registry.register(obs.QueueDepthCollector(redis_url, queue_prefix))
    port = _free_port()
    server = obs.start_metrics_server(port, addr="127.0.0.1", registry=registry)
    redis = await connect(redis_url, queue_prefix)
    try:
        client = EngineClient(redis, queue_prefix)
        for i in range(3):
            await client.enqueue(c.JOB_LABEL, c.LabelRequest(image=b"x"), job_id=f"label:{i}")
        before = await asyncio.to_thread(_scrape, port)

        obs.ORDERS.labels("telegram").inc()
        with obs.observe_job(c.JOB_GENERATE):
            await asyncio.sleep(0.02)
        with pytest.raises(RuntimeError), obs.observe_job(c.JOB_UPSCALE):
            raise RuntimeError("CUDA out of memory")
        obs.record_failure(c.JOB_ANALYZE, "unreadable")
        obs.record_likeness(0.83)
        obs.record_likeness(None)  # no face found: nothing to record
        after = await asyncio.to_thread(_scrape, port)
    finally:
        server.shutdown()
        await redis.aclose()

    assert _value(before, 'sitter_queue_depth{queue="fast"}') == 3
    assert _value(before, 'sitter_queue_depth{queue="gpu"}') == 0
    assert _value(before, "sitter_redis_up") == 1
    orders = 'sitter_orders_total{platform="telegram"}'
    assert _value(after, orders) - _value(before, orders, default=0) == 1
    assert _value(after, 'sitter_job_seconds_count{kind="generate"}') >= 1
    assert _value(after, 'sitter_job_failures_total{code="RuntimeError",kind="upscale"}') >= 1
    assert _value(after, 'sitter_job_failures_total{code="unreadable",kind="analyze_photo"}') >= 1
    assert _value(after, 'sitter_likeness_score_bucket{le="0.9"}') >= 1


def test_queue_depth_says_when_redis_is_down() -> None:
    registry = CollectorRegistry()
    registry.register(obs.QueueDepthCollector(f"redis://127.0.0.1:{_free_port()}/0", "x", 0.2))
    assert registry.get_sample_value("sitter_redis_up") == 0


async def _noop(ctx: dict, payload: dict) -> dict:
    return {}


async def test_worker_health_check_follows_a_real_arq_worker(
    redis_url: str, queue_prefix: str
) -> None:
    settings = _settings(redis_url=redis_url, queue_prefix=queue_prefix)
    assert await asyncio.to_thread(healthcheck.run, "bot", settings) is None
    problem = await asyncio.to_thread(healthcheck.run, "worker", settings)
    assert problem and "no worker health-check key" in problem

    redis = await connect(redis_url, queue_prefix)
    worker = Worker(
        functions=[_noop],
        redis_pool=redis,
        queue_name=c.queue_name(queue_prefix, c.QUEUE_GPU),
        poll_delay=0.01,
        health_check_interval=5,
        job_serializer=c.serialize,
        job_deserializer=c.deserialize,
        handle_signals=False,
    )
    task = asyncio.create_task(worker.main())
    try:
        for _ in range(200):
            if await asyncio.to_thread(healthcheck.run, "worker", settings) is None:
                break
            await asyncio.sleep(0.02)
        assert await asyncio.to_thread(healthcheck.run, "worker", settings) is None
    finally:
        task.cancel()
        await worker.close()
        await redis.aclose()
    # A worker that shut down cleanly removes its key: unhealthy again.
    assert await asyncio.to_thread(healthcheck.run, "worker", settings) is not None


def test_health_check_names_an_unreachable_redis() -> None:
    settings = _settings(redis_url=f"redis://:secret@127.0.0.1:{_free_port()}/0")
    problem = healthcheck.run("bot", settings)
    assert problem and "does not answer" in problem and "secret" not in problem


async def _label(ctx: dict, payload: dict) -> dict:
    req = c.parse_request(c.JOB_LABEL, payload)
    with obs.bind_order(ctx["job_id"]):
        logging.getLogger("engine.badge").info("labelling %d bytes", len(req.image))
    return c.LabelResult(image=req.image, seconds=0.0).model_dump()


async def test_arq_worker_lines_about_a_job_carry_its_order_id(
    redis_url: str, queue_prefix: str, restore_logging: None
) -> None:
    """A real arq worker's start/finish lines, logged outside the job, get the id too."""
    from arq.worker import func

    buf = io.StringIO()
    obs.configure_logging(_settings(log_json=True), stream=buf)
    redis = await connect(redis_url, queue_prefix)
    worker = Worker(
        functions=[func(_label, name=c.JOB_LABEL)],
        redis_pool=redis,
        queue_name=c.queue_name(queue_prefix, c.QUEUE_FAST),
        poll_delay=0.01,
        burst=True,
        job_serializer=c.serialize,
        job_deserializer=c.deserialize,
        handle_signals=False,
    )
    try:
        client = EngineClient(redis, queue_prefix, poll_delay=0.01)
        await client.enqueue(c.JOB_LABEL, c.LabelRequest(image=b"png"), job_id="tg-o17")
        await worker.main()
    finally:
        await worker.close()
        await redis.aclose()
    lines = [json.loads(line) for line in buf.getvalue().splitlines()]
    about_job = [rec for rec in lines if "tg-o17" in rec["msg"] or rec["logger"] == "engine.badge"]
    assert len(about_job) >= 3  # arq's start and finish lines, and the job's own line
    assert all(rec.get("order_id") == "tg-o17" for rec in about_job), about_job
    assert any(rec["msg"] == "labelling 3 bytes" for rec in about_job)
