"""Container health checks: ``python -m sitter.healthcheck bot|worker``.

Exit 0 when healthy, 1 with one line on stderr saying what is wrong. Cheap on
purpose (Docker runs it every 30 s): no torch import, one Redis round trip.

- bot: Redis answers, and the bot's own metrics endpoint answers when
  ``SITTER_METRICS_PORT`` is set (proves the bot process is serving).
- worker: Redis answers and an arq worker has written its health-check key
  (``<queue>:health-check``) for one of the queues recently; arq rewrites it
  every ``health_check_interval`` and it expires one second after that.
"""

from __future__ import annotations

import sys
import urllib.request

from sitter import contract as c
from sitter.config import ConfigError, Settings, load_settings


def check_redis(settings: Settings) -> str | None:
    from redis import Redis

    client = Redis.from_url(settings.redis_url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except Exception as exc:
        from sitter.redact import redact_url, scrub

        return f"Redis at {redact_url(settings.redis_url)} does not answer: {scrub(str(exc))}"
    finally:
        client.close()
    return None


def check_worker(settings: Settings) -> str | None:
    from redis import Redis

    client = Redis.from_url(settings.redis_url, socket_connect_timeout=2, socket_timeout=2)
    try:
        keys = [
            c.queue_name(settings.queue_prefix, q) + ":health-check"
            for q in (c.QUEUE_FAST, c.QUEUE_GPU)
        ]
        if not client.exists(*keys):
            return f"no worker health-check key in Redis ({' or '.join(keys)})"
    finally:
        client.close()
    return None


def check_metrics(port: int) -> str | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as resp:
            if resp.status != 200:
                return f"metrics endpoint answered HTTP {resp.status}"
    except OSError as exc:
        return f"metrics endpoint on port {port} does not answer: {exc}"
    return None


def run(role: str, settings: Settings) -> str | None:
    """The first problem found, or None when healthy."""
    from sitter.redact import install_for

    install_for(settings)
    problem = check_redis(settings)
    if problem:
        return problem
    if role == "worker":
        return check_worker(settings)
    if settings.metrics_port is not None:
        return check_metrics(settings.metrics_port)
    return None


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] not in ("bot", "worker"):
        print("usage: python -m sitter.healthcheck bot|worker", file=sys.stderr)
        return 2
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    problem = run(args[0], settings)
    if problem:
        print(f"unhealthy: {problem}", file=sys.stderr)
        return 1
    print("healthy")
    return 0


if __name__ == "__main__":
    sys.exit(main())
