"""Claude Code transcripts: per-API-call usage points, from which prefix breaks are inferred.

Claude Code writes one JSON record per line to ``~/.claude/projects/<dir>/<session>.jsonl`` (and
its subagents to ``<session>/subagents/*.jsonl``): ``type`` (user, assistant, system, summary,
...), ``uuid``, ``parentUuid``, ``sessionId``, ``timestamp``, ``isSidechain``, ``version`` and
``message``. Assistant messages carry ``model``, ``id`` and ``usage`` (``input_tokens``,
``cache_creation_input_tokens``, ``cache_read_input_tokens``). A transcript holds no system
prompt and no tools, so requests cannot be rebuilt: instead each API call becomes a
:class:`CallPoint` with its recorded usage, and ``usage``-scope rules compare it with the
previous call of the same conversation.

- Detection is by content (:func:`is_transcript`): among the first lines, a record with a string
  ``sessionId``, ``uuid`` and ``type``. The file name does not matter.
- One streamed reply is written over several lines that repeat its ``message.id`` (and
  ``requestId``): it counts once, at the first line that carries usage.
- Conversations (threads): the main chain of a session, and each sidechain (subagent: line with
  ``isSidechain: true``, told apart by ``agentId`` when present) of it; named ``S1``, ``S2``, ...
  in the order they first appear in the file.
- Compaction: a ``type: "system"`` record with ``subtype: "compact_boundary"`` marks the next call
  of its conversation as following a compaction.
- Replies with the model ``<synthetic>`` (Claude Code's own error messages) are no API call.

Nothing of the message content is read beyond these fields, and nothing of it is reported.
Memory grows with the number of API calls (the reply ids seen), not with the size of the file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
from prefixlint.model import Diagnostic, InputError, Origin

SNIFF_LINES = 10  # lines read to decide whether a file is a transcript
SYNTHETIC_MODEL = "<synthetic>"
NO_CALL = "transcript line (no API call)"
REPEATED = "transcript line (repeats a streamed reply)"


_NOT_OBJECT: dict = {}  # a line that is valid JSON but not an object (a number, a list)

def _is_record(obj: Any) -> bool:
    return (
        isinstance(obj, dict)
        and isinstance(obj.get("sessionId"), str)
        and isinstance(obj.get("uuid"), str)
        and isinstance(obj.get("type"), str)
    )


def is_transcript(path: str) -> bool:
    """Whether ``path`` is a Claude Code transcript: a record with ``sessionId``, ``uuid`` and
    ``type`` among its first lines (the others may be ``summary`` or snapshot records)."""
    from prefixlint.sources import STDIN, _open

    if path == STDIN or path.endswith((".yaml", ".yml")):
        return False
    try:
        handle = _open(path)
    except InputError:
        return False
    try:
        for _ in range(SNIFF_LINES):
            line = handle.readline()
            if not line:
                return False
            if not line.strip():
                continue
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError:
                return False
            if _is_record(obj):
                return True
            if not isinstance(obj, dict):
                return False
        return False
    except Exception:  # noqa: BLE001 - unreadable or corrupt (zlib): the ordinary reader reports it
        return False
    finally:
        handle.close()


@dataclass(slots=True)
class CallPoint:
    """One API call of a transcript, with the call before it in the same conversation."""

    origin: Origin  # file and line of the first line of the reply that carries usage
    session: str
    sidechain: bool
    agent: str | None
    thread: str  # S1, S2, ... per file
    number: int  # call number within the conversation (1-based)
    model: str | None
    version: str | None
    timestamp: str | None
    time: float | None  # seconds since the epoch, None when unreadable
    input_tokens: int
    cache_creation: int
    cache_read: int
    write_1h: int = 0  # of cache_creation, tokens written with the 1-hour TTL (when recorded)
    compacted: bool = False  # a compact_boundary of this conversation since the previous call
    prev: CallPoint | None = field(default=None, repr=False)

    @property
    def prompt_tokens(self) -> int:
        return self.input_tokens + self.cache_creation + self.cache_read

    def key(self) -> str:
        return f"{self.session}\x00{int(self.sidechain)}\x00{self.agent or ''}"


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _read_lines(path: str, diagnostics: list[Diagnostic]) -> Iterator[tuple[int, int, dict | None]]:
    """(line number, size, record or None for a malformed line) of every non-empty line."""
    from prefixlint.sources import _describe_bad_line, _open

    handle = _open(path)
    try:
        lineno = 0
        for line in handle:
            lineno += 1
            if not line.strip():
                continue
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError:
                diagnostics.append(Diagnostic(Origin(path, line=lineno), _describe_bad_line(line.rstrip(b"\r\n"))))
                yield lineno, len(line), None
                continue
            yield lineno, len(line), obj if isinstance(obj, dict) else _NOT_OBJECT
    finally:
        handle.close()


def calls(
    path: str,
    diagnostics: list[Diagnostic],
    on_line: Callable[[int, bool, str | None], None] | None = None,
) -> Iterator[CallPoint]:
    """Stream the API calls of one transcript, each linked to the previous call of its conversation.

    ``on_line(size, is_call, skip_reason)`` is told about every line read (for counting)."""
    from prefixlint.cache.simulator import parse_time

    seen: set[str] = set()
    last: dict[str, CallPoint] = {}
    names: dict[str, str] = {}
    counts: dict[str, int] = {}
    compacted: set[str] = set()
    for lineno, size, obj in _read_lines(path, diagnostics):
        if obj is None or obj is _NOT_OBJECT:  # malformed (a diagnostic already), or JSON but no record
            if on_line is not None:
                on_line(size, False, None if obj is None else "not a JSON object")
            continue
        session = obj.get("sessionId") if isinstance(obj.get("sessionId"), str) else ""
        sidechain = obj.get("isSidechain") is True
        agent = obj.get("agentId") if sidechain and isinstance(obj.get("agentId"), str) else None
        key = f"{session}\x00{int(sidechain)}\x00{agent or ''}"
        kind = obj.get("type")
        if kind == "system" and obj.get("subtype") == "compact_boundary":
            compacted.add(key)
        message = obj.get("message") if isinstance(obj.get("message"), dict) else {}
        usage = message.get("usage") if isinstance(message.get("usage"), dict) else None
        model = message.get("model") if isinstance(message.get("model"), str) else None
        if kind != "assistant" or usage is None or model == SYNTHETIC_MODEL:
            if on_line is not None:
                on_line(size, False, NO_CALL)
            continue
        ids = [v for v in (message.get("id"), obj.get("requestId")) if isinstance(v, str)]
        if any(i in seen for i in ids):
            seen.update(ids)
            if on_line is not None:
                on_line(size, False, REPEATED)
            continue
        seen.update(ids)
        if on_line is not None:
            on_line(size, True, None)
        if key not in names:
            names[key] = f"S{len(names) + 1}"
        counts[key] = counts.get(key, 0) + 1
        creation = usage.get("cache_creation") if isinstance(usage.get("cache_creation"), dict) else {}
        timestamp = obj.get("timestamp")
        timestamp = str(timestamp) if timestamp is not None else None
        point = CallPoint(
            origin=Origin(path, line=lineno),
            session=session,
            sidechain=sidechain,
            agent=agent,
            thread=names[key],
            number=counts[key],
            model=model,
            version=obj.get("version") if isinstance(obj.get("version"), str) else None,
            timestamp=timestamp,
            time=parse_time(timestamp),
            input_tokens=_int(usage.get("input_tokens")),
            cache_creation=_int(usage.get("cache_creation_input_tokens")),
            cache_read=_int(usage.get("cache_read_input_tokens")),
            write_1h=_int(creation.get("ephemeral_1h_input_tokens")),
            compacted=key in compacted,
            prev=last.get(key),
        )
        compacted.discard(key)
        if point.prev is not None:
            point.prev.prev = None  # keep one call of history per conversation
        last[key] = point
        yield point


def lint(linter: Any, path: str, rules: list, on_bytes: Callable[[int], None] | None = None) -> None:
    """Run the ``usage``-scope ``rules`` on every call of the transcript ``path`` and stamp their
    findings through ``linter`` (a :class:`prefixlint.engine.Linter`)."""
    from prefixlint.engine import _Turn
    from prefixlint.model import Record
    from prefixlint.providers.base import digest

    summary = linter.summary

    def on_line(size: int, is_call: bool, reason: str | None) -> None:
        if on_bytes is not None:
            on_bytes(size)
        if reason is None and not is_call:
            return  # malformed: a diagnostic already
        summary.records += 1
        if is_call:
            summary.requests += 1
            summary.by_provider["anthropic claude-code"] += 1
        else:
            summary.skipped[reason] += 1

    threads: set[str] = set()
    from prefixlint.sources import Counted, is_read_failure

    sink = Counted(linter.diagnostics)  # malformed lines, an unreadable file: counted as unreadable
    try:
        for point in calls(path, sink, on_line):
            threads.add(point.thread)
            if point.prev is None:
                continue
            record = Record(body={}, origin=point.origin, timestamp=point.timestamp, session=point.session)
            signature = digest(point.key().encode()).hex()
            turn = _Turn(record, None, point.thread, signature, point.number, None, None)  # type: ignore[arg-type]
            for rule in rules:
                for v in linter._guarded(rule, record, lambda r, p: r.check(p), point):
                    if v.impact is None:
                        v.impact = drop_impact(linter.tables, point)
                    linter._stamp(rule, v, turn)
    except Exception as exc:  # noqa: BLE001 - only read failures are caught, see is_read_failure
        if not is_read_failure(exc):
            raise
        sink.append(Diagnostic(Origin(path), f"cannot read: {exc}"))
    finally:
        summary.threads += len(threads)
        summary.unreadable += sink.count


def drop_impact(tables: Any, point: CallPoint) -> dict[str, Any]:
    """The tokens no longer read from the cache (and written again) at this call, and their cost:
    tokens x input price x (5-minute write multiplier - read multiplier)."""
    tokens = max(0, (point.prev.cache_read if point.prev else 0) - point.cache_read)
    cost = None
    try:
        pricing = tables.model("anthropic", point.model)
    except ValueError:
        pricing = None
    if pricing is not None and pricing.input_usd_per_mtok is not None:
        cost = round(tokens * pricing.input_usd_per_mtok * (pricing.write_multiplier_5m - pricing.read_multiplier) / 1e6, 6)
    return {
        "tokens": tokens,
        "cost_usd": cost,
        "model": point.model,
        "estimated": False,
        "calibrated": True,
        "note": "inferred from recorded usage",
    }
