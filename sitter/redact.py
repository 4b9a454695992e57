"""Secrets out of every log line and message: chat tokens and Redis passwords.

- :func:`redact_url` hides a Redis password in both forms,
  ``redis://user:pass@host`` and ``redis://host?password=pass``; doctor, the
  health check and the bot all print URLs through it.
- :func:`install` makes every log record redacted where it is made (a record
  factory), so it holds for every logger, every level and every handler (the
  console, JSON lines, pytest's capture): the configured tokens and Redis
  password, and anything shaped like a chat platform's token, even one that was
  never configured (PTB's ``InvalidToken: The token `...` was rejected``, its
  DEBUG ``Set Bot API URL: .../bot<TOKEN>``). Each platform's adapter gives its
  token's shape with :func:`add_token_shape` (bot/platforms.py).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, unquote, unquote_plus, urlencode, urlsplit, urlunsplit

if TYPE_CHECKING:
    from sitter.config import Settings

HIDDEN = "***"
_PASSWORD_KEYS = {"password", "passwd", "pass", "pwd"}
# (pattern, mark): chat platforms' token shapes, as their adapters give them.
_token_shapes: list[tuple[re.Pattern[str], str]] = []

# A URL with credentials, or a password=... pair, wherever it appears in a line: hidden
# whatever the password's length or encoding (a short one can't be replaced everywhere).
_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]+")
_PASSWORD_PAIR = re.compile(r"(?i)\b(password|passwd|pass|pwd)=[^&\s'\"<>]+")
MIN_SECRET_LEN = 4  # shorter secrets are hidden in URLs and password= pairs only

_secrets: set[str] = set()
_lock = threading.Lock()
_installed = False


def redact_url(url: str) -> str:
    """The URL without its password, in either form."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return scrub(url)
    netloc = parts.netloc
    if parts.password is not None:
        host = parts.hostname or ""
        if parts.port:
            host += f":{parts.port}"
        netloc = (f"{parts.username}:{HIDDEN}@" if parts.username else f":{HIDDEN}@") + host
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(k.lower() in _PASSWORD_KEYS for k, _ in pairs):
            query = urlencode(
                [(k, HIDDEN if k.lower() in _PASSWORD_KEYS else v) for k, v in pairs], safe="*"
            )
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def url_secrets(url: str) -> list[str]:
    """The password(s) inside a URL, to be hidden wherever they appear."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return []
    found = [parts.password] if parts.password else []
    raw = [kv.partition("=") for kv in parts.query.replace(";", "&").split("&")]
    found += [v for k, _, v in raw if unquote_plus(k).lower() in _PASSWORD_KEYS and v]
    return found


def scrub(text: str) -> str:
    """``text`` with every known secret and token-shaped string replaced."""
    if "://" in text:
        text = _URL.sub(lambda m: redact_url(m[0]) if url_secrets(m[0]) else m[0], text)
    if "=" in text:
        text = _PASSWORD_PAIR.sub(lambda m: f"{m.group(1)}={HIDDEN}", text)
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, HIDDEN)
    for pattern, mark in list(_token_shapes):
        text = pattern.sub(mark, text)
    return text


def add_token_shape(pattern: re.Pattern[str], mark: str) -> None:
    """Replace text of this shape by ``mark`` in everything scrubbed from now on."""
    with _lock:
        if (pattern, mark) not in _token_shapes:
            _token_shapes.append((pattern, mark))


def _scrub_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: leave it for logging to report
        return
    clean = scrub(message)
    if clean != message or record.args:
        record.msg, record.args = clean, None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = scrub(record.exc_text)


def install(secrets: Iterable[str | None] = ()) -> None:
    """Redact ``secrets`` (and token shapes) in every log record from now on."""
    global _installed
    with _lock:
        _secrets.update(
            form for s in secrets if s for form in _forms(s) if len(form) >= MIN_SECRET_LEN
        )
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            _scrub_record(record)
            return record

        logging.setLogRecordFactory(factory)
        _installed = True


def _forms(secret: str) -> set[str]:
    """A secret as written in a URL and as decoded: a percent-encoded password is used
    (and may be printed) decoded, and the other way round."""
    return {
        secret,
        unquote(secret),
        unquote_plus(secret),
        quote(secret, safe=""),
        quote(unquote(secret), safe=""),
    }


def settings_secrets(settings: Settings) -> list[str]:
    """The secrets the core settings hold: the Redis password (chat tokens are their
    adapters' settings: bot/platforms.py)."""
    return url_secrets(settings.redis_url)


def install_for(settings: Settings) -> None:
    install(settings_secrets(settings))
