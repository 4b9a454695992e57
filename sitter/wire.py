"""How contract messages travel: msgpack, no pickle, and the mechanics of sitter/contract.py's
rolling-upgrade rules (read them there).

- :func:`to_wire`: a message as a plain dict for one reader's contract version: fields
  left at their default are not sent, fields added after the reader's version are not
  sent, and enum values added after it are replaced by the older value they stand for.
- :func:`without`: a payload with some fields taken out (a newer engine's result fields
  that this bot does not know, read tolerantly).
- The arq envelope: a bot writes its contract version beside arq's own keys of a queued
  job (``ENVELOPE_KEY``; arq and older engines ignore it); the engine's deserializer moves
  it into the job's payload (``READER_KEY``) so the result it sends back is shaped for
  that bot. A job without it comes from a contract-1 bot.

- :class:`Codec`: arq's serializer hooks and the parsing of requests (strict) and results
  (tolerant) for one contract version.

Generic over pydantic models; knows no job and no field by name.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Any

import msgpack
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

log = logging.getLogger("sitter.contract")

ENVELOPE_KEY = "sitter_contract"  # in arq's job dict, beside 'f', 'a', 'k', 't', 'et'
READER_KEY = "__contract__"  # in the payload, on the engine side only (never a field name)
_JOB_KEYS = frozenset({"f", "a", "k", "t", "et"})


class Since:
    """Field metadata: the contract version that added a field (``Annotated[T, Since(2)]``)."""

    __slots__ = ("version",)

    def __init__(self, version: int) -> None:
        self.version = version

    def __repr__(self) -> str:
        return f"Since({self.version})"


class _Always:
    """Field metadata: sent even at its default (a marker the reader tests for)."""

    def __repr__(self) -> str:
        return "ALWAYS"


ALWAYS = _Always()

# An enum value added in a later version -> (that version, the older value it stands for).
AddedValues = Mapping[Enum, tuple[int, Enum]]


def since(info: FieldInfo) -> int:
    """The version that added a field (1: there from the start)."""
    return max((m.version for m in info.metadata if isinstance(m, Since)), default=1)


def always(info: FieldInfo) -> bool:
    return any(m is ALWAYS for m in info.metadata)


def to_wire(value: Any, reader: int, added: AddedValues) -> Any:
    """``value`` as msgpack-ready data for a reader of contract version ``reader``."""
    if isinstance(value, BaseModel):
        out: dict[str, Any] = {}
        for name, info in type(value).model_fields.items():
            if since(info) > reader:
                continue
            v = getattr(value, name)
            if (
                not info.is_required()
                and not always(info)
                and v == info.get_default(call_default_factory=True)
            ):
                continue
            out[name] = to_wire(v, reader, added)
        return out
    if isinstance(value, Enum):
        while value in added and added[value][0] > reader:
            value = added[value][1]
        return value
    if isinstance(value, list | tuple):
        return [to_wire(v, reader, added) for v in value]
    if isinstance(value, dict):
        return {k: to_wire(v, reader, added) for k, v in value.items()}
    return value


def without(payload: Any, locations: Sequence[tuple[int | str, ...]]) -> Any:
    """A copy of ``payload`` with the keys at ``locations`` (pydantic error locs) removed."""
    for loc in locations:
        payload = _drop(payload, loc)
    return payload


def _drop(node: Any, loc: tuple[int | str, ...]) -> Any:
    if not loc:
        return node
    head, rest = loc[0], loc[1:]
    if isinstance(node, dict) and head in node:
        if not rest:
            return {k: v for k, v in node.items() if k != head}
        return {**node, head: _drop(node[head], rest)}
    if isinstance(node, list) and isinstance(head, int) and 0 <= head < len(node):
        return [*node[:head], _drop(node[head], rest), *node[head + 1 :]]
    return node


def field_path(loc: tuple[int | str, ...]) -> str:
    """``('variations', 0, 'detail')`` -> ``'variations.*.detail'``."""
    return ".".join("*" if isinstance(p, int) else str(p) for p in loc)


# --- arq's envelope ------------------------------------------------------------------------
def is_job(obj: Any) -> bool:
    """arq's dict for a queued job (``serialize_job``), not a result."""
    return isinstance(obj, dict) and obj.keys() >= _JOB_KEYS and "r" not in obj


def is_result(obj: Any) -> bool:
    """arq's dict for a finished job (``serialize_result``)."""
    return isinstance(obj, dict) and obj.keys() >= _JOB_KEYS and "r" in obj and "s" in obj


def _payload(args: Any) -> dict[str, Any] | None:
    if isinstance(args, list | tuple) and args and isinstance(args[0], dict):
        return args[0]
    return None


def _args_without_reader(args: Any) -> Any:
    payload = _payload(args)
    if payload is None or READER_KEY not in payload:
        return args
    return [{k: v for k, v in payload.items() if k != READER_KEY}, *args[1:]]


def mark_job(obj: dict[str, Any], version: int) -> dict[str, Any]:
    """A job about to be queued: the sender's version beside arq's keys, none in the payload."""
    payload = _payload(obj["a"])
    sender = payload.get(READER_KEY, version) if payload else version
    return {**obj, "a": _args_without_reader(obj["a"]), ENVELOPE_KEY: sender}


def unmark_job(obj: dict[str, Any]) -> dict[str, Any]:
    """A job just read: the sender's version (1 when it wrote none) moves into the payload."""
    sender = obj.pop(ENVELOPE_KEY, 1)
    payload = _payload(obj["a"])
    if payload is not None:
        payload[READER_KEY] = sender
    return obj


def reader_of(result: dict[str, Any]) -> int:
    """Whose answer a finished job is: the version of the bot that queued it."""
    payload = _payload(result["a"])
    sender = payload.get(READER_KEY, 1) if payload else 1
    return sender if isinstance(sender, int) and sender >= 1 else 1


def strip_reader(result: dict[str, Any]) -> dict[str, Any]:
    return {**result, "a": _args_without_reader(result["a"])}


# --- the codec ---------------------------------------------------------------------------
class ContractError(ValueError):
    """A payload that is not a contract message."""


UPGRADE_WORKERS = "upgrade the workers first, then the bots"
_PICKLE_PROTOCOL_MARK = 0x80


class Codec:
    """Serialise, deserialise and parse the messages of one contract version."""

    def __init__(
        self,
        version: int,
        requests: Mapping[str, type[BaseModel]],
        results: Mapping[str, type[BaseModel]],
        failure: type[BaseModel],
        added: AddedValues,
    ) -> None:
        self.version = version
        self.requests = requests
        self.results = results
        self.failure = failure  # has ``failed: Literal[True]``, ``code`` and ``message``
        self.added = added
        self._ignored: set[str] = set()  # result fields from a newer engine, logged once

    def to_wire(self, message: BaseModel, reader: int | None = None) -> dict[str, Any]:
        """A message as sent: no default-valued fields, in the shape ``reader`` knows."""
        return to_wire(message, self.version if reader is None else reader, self.added)

    # --- arq's job_serializer / job_deserializer ---------------------------------------------
    def _default(self, obj: Any) -> Any:
        if isinstance(obj, BaseModel):
            return self.to_wire(obj)
        if isinstance(obj, BaseException):
            # arq stores a raised exception as the job result; carry it as data.
            return {"__exception__": type(obj).__name__, "message": str(obj)}
        if isinstance(obj, set | frozenset | tuple):
            return list(obj)
        raise TypeError(f"cannot serialise {type(obj).__name__} across the queue")

    def _answer_for(self, job: Any, answer: Any, reader: int) -> Any:
        """A job's answer (workers return plain dicts) re-shaped for the bot that asked."""
        if isinstance(answer, BaseModel):
            return self.to_wire(answer, reader)
        if not isinstance(answer, dict):
            return answer
        model = self.failure if answer.get("failed") is True else self.results.get(job)
        if model is None:
            return answer
        try:
            return self.to_wire(model.model_validate(answer), reader)
        except ValidationError:
            return answer  # the bot reports it as unreadable; nothing is guessed here

    def serialize(self, obj: Any) -> bytes:
        if is_job(obj):  # a bot queueing a job: say which contract it speaks
            obj = mark_job(obj, self.version)
        elif is_result(obj) and obj["s"]:  # a worker answering: in the asker's shape
            reader = min(reader_of(obj), self.version)
            obj = {**strip_reader(obj), "r": self._answer_for(obj["f"], obj["r"], reader)}
        return msgpack.packb(obj, default=self._default, use_bin_type=True)

    def deserialize(self, data: bytes) -> Any:
        if not data:
            raise ContractError("empty payload")
        if data[0] == _PICKLE_PROTOCOL_MARK:
            raise ContractError("pickle payloads are refused")
        try:
            obj = msgpack.unpackb(data, raw=False, strict_map_key=False)
        except Exception as exc:  # msgpack raises several unrelated types
            raise ContractError(f"not a msgpack payload: {exc}") from None
        return unmark_job(obj) if is_job(obj) else obj

    # --- parsing ----------------------------------------------------------------------------
    def parse_request(self, job: str, payload: Any) -> Any:
        """Validate a job's argument into its request model, or raise ContractError.

        Strict: a field this worker does not know is refused by name, and when the bot
        is newer the message says to upgrade the workers first."""
        model = self.requests.get(job)
        if model is None:
            raise ContractError(f"unknown job {job!r}")
        if not isinstance(payload, dict):
            raise ContractError(f"{job}: expected a mapping, got {type(payload).__name__}")
        sender = payload.get(READER_KEY, 1)
        payload = {k: v for k, v in payload.items() if k != READER_KEY}
        try:
            return model.model_validate(payload)
        except ValidationError as exc:
            errors = exc.errors()
        except Exception as exc:
            raise ContractError(f"{job}: invalid request: {exc}") from None
        unknown = list(
            dict.fromkeys(field_path(e["loc"]) for e in errors if e["type"] == "extra_forbidden")
        )
        if not unknown:
            raise ContractError(f"{job}: invalid request: {_errors(errors)}")
        if isinstance(sender, int) and sender > self.version:
            raise ContractError(
                f"{job}: this worker (contract {self.version}) does not know "
                f"{', '.join(unknown)}, sent by a bot on contract {sender}: {UPGRADE_WORKERS}"
            )
        raise ContractError(f"{job}: invalid request: unknown field {', '.join(unknown)}")

    def parse_result(self, job: str, payload: Any) -> Any:
        """What a job returned as its result model or the failure model.

        Tolerant: fields this bot does not know (a newer engine's) are dropped and logged
        once each; anything else that does not fit raises ContractError."""
        if isinstance(payload, dict) and "__exception__" in payload:
            return self.failure(
                code=str(payload["__exception__"]), message=str(payload.get("message"))
            )
        failed = isinstance(payload, dict) and payload.get("failed") is True
        model = self.failure if failed else self.results[job]
        try:
            return model.model_validate(payload)
        except ValidationError as exc:
            unknown = [e["loc"] for e in exc.errors() if e["type"] == "extra_forbidden"]
            if not unknown:
                raise ContractError(f"{job}: invalid result: {exc}") from None
        try:
            result = model.model_validate(without(payload, unknown))
        except ValidationError as exc:
            raise ContractError(f"{job}: invalid result: {exc}") from None
        new = sorted({field_path(loc) for loc in unknown} - self._ignored)
        if new:
            self._ignored.update(new)
            log.warning(
                "%s: the engine sent fields this bot does not know (%s); ignored. The engine "
                "is newer than this bot: upgrade the bots too.",
                job,
                ", ".join(new),
            )
        return result

    def outdated_engine(self, failure: Any) -> Any:
        """The plain failure for a refusal that means the worker is older than the bot,
        else None. A worker of this code says :data:`UPGRADE_WORKERS`; a contract-1 worker
        names the field with pydantic's ``extra_forbidden``, and for a job it lacks arq
        answers ``function '...' not found``."""
        msg = str(failure.message)
        code = failure.code
        refused = code == "bad_request" and (UPGRADE_WORKERS in msg or "extra_forbidden" in msg)
        missing = (
            code == "JobExecutionFailed" and msg.startswith("function ") and "not found" in msg
        )
        if not (refused or missing):
            return None
        return self.failure(
            code="engine_outdated",
            message="the studio's engine is older than this bot and cannot take this order "
            "yet (the operator must upgrade the engine workers)",
        )


def _errors(errors: list[Any]) -> str:
    """pydantic's errors in one line, without the input values (they can be photos)."""
    return "; ".join(
        f"{'.'.join(map(str, e['loc'])) or '(message)'}: {e['msg']}" for e in errors[:5]
    )
