"""A worker's log never holds a job's data (answers, embeddings): only ids and timings."""

from __future__ import annotations

import logging

import pytest
from arq.worker import logger as arq_logger

import engine.worker  # noqa: F401  (installs the filter on arq's logger)
from engine.worker import worker_options
from sitter import contract as c
from sitter.config import load_settings


def test_a_job_start_line_names_the_job_not_its_arguments(
    caplog: pytest.LogCaptureFixture,
) -> None:
    payload = {"vector": [-0.0870123, 0.1302456], "text": "a navy suit"}
    with caplog.at_level(logging.INFO, logger="arq.worker"):
        arq_logger.info("%6.2fs → %s(%s)%s", 0.01, "abc:analyze_photo", repr(payload), "")
    line = caplog.records[-1].getMessage()
    assert "abc:analyze_photo" in line
    assert "vector" not in line and "0.0870" not in line and "navy" not in line


def test_results_are_not_logged() -> None:
    opts = worker_options(load_settings(), c.QUEUE_FAST)
    assert opts["log_results"] is False
