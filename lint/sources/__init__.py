"""Sources stage: find the input files, read them as a stream of records with their origin.

A file is JSON Lines (one record per line) or one JSON document (an object, or an array of
records), optionally gzip- or zstd-compressed. A record is a bare request body or an envelope
holding one (under ``request``, ``request.body`` or ``body``) with ``timestamp``, ``session``,
``headers``, ``response``/``usage`` beside it. JSON Lines files are streamed line by line (``.gz``
and ``.zst`` decompressed as they are read), so memory does not grow with the size of the file.
VCR cassettes (``.yaml``/``.yml`` test recordings) are read by :mod:`prefixlint.sources.vcr`, HAR
captures (a document with ``log.entries``, usually ``*.har``) by :mod:`prefixlint.sources.har`.

claude-trace logs are envelopes: ``{"request": {timestamp, method, url, headers, body},
"response": {timestamp, status_code, headers, body | body_raw} | null, "logged_at"}``. The
response's usage and id come from its JSON ``body`` or from the server-sent events of
``body_raw``; a request other than POST or a response with an HTTP error status is skipped.
"""

from __future__ import annotations

import gzip
import io
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import orjson
from prefixlint import harness
from prefixlint.model import Diagnostic, InputError, Origin, Record
from prefixlint.sources import har, vcr
from prefixlint.sources.splice import Splicer

LOG_SUFFIXES = (".json", ".jsonl", ".ndjson", har.HAR_SUFFIX)
COMPRESSED = (".gz", ".zst")
STDIN = "-"
# Lines of agent logs are long (the whole conversation): reading them through a small buffer costs
# more than parsing them. 1 MiB reads a 100 KB line in one piece.
READ_BUFFER = 1 << 20


class Counted:
    """A diagnostics list for the readers: appends to ``target`` and counts what it is given (each
    is a line, entry or document that could not be read)."""

    __slots__ = ("target", "count")

    def __init__(self, target: list[Diagnostic]) -> None:
        self.target = target
        self.count = 0

    def append(self, diagnostic: Diagnostic) -> None:
        self.target.append(diagnostic)
        self.count += 1


def discover(paths: Iterable[str]) -> Iterator[str]:
    """Expand directories into the log files they hold (sorted); raise InputError for a missing path."""
    for raw in paths:
        if raw == STDIN:
            yield STDIN
            continue
        path = Path(raw)
        if path.is_dir():
            found = []
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in files:
                    base = _uncompressed(name)
                    full = os.path.join(root, name)
                    if base.endswith(LOG_SUFFIXES) or vcr.is_cassette(full) or harness.kind(full):
                        found.append(full)
            yield from sorted(found)
        elif path.exists():
            yield raw
        else:
            raise InputError(f"{raw}: no such file or directory")


def _uncompressed(name: str) -> str:
    for suffix in COMPRESSED:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _open(path: str) -> IO[bytes]:
    if path == STDIN:
        return sys.stdin.buffer
    try:
        handle: IO[bytes] = open(path, "rb", buffering=READ_BUFFER)
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if path.endswith(".gz"):
        return io.BufferedReader(gzip.GzipFile(fileobj=handle, mode="rb"), buffer_size=READ_BUFFER)  # type: ignore[arg-type]
    if path.endswith(".zst"):
        try:
            import zstandard
        except ImportError:
            handle.close()
            raise InputError(f"{path}: reading .zst files needs the zstandard package") from None
        reader = zstandard.ZstdDecompressor(max_window_size=2**31).stream_reader(handle, closefd=True)
        return io.BufferedReader(reader, buffer_size=READ_BUFFER)  # type: ignore[arg-type]
    return handle


def _first(obj: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        value = obj.get(key)
        if value is not None:
            return value
    return None


def _parse_body(value: Any) -> Any:
    if isinstance(value, (str, bytes)):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return None
    return value


def resolve_pointer(obj: Any, pointer: str) -> Any:
    """The value at a JSON pointer (RFC 6901), or None."""
    if pointer in ("", "/"):
        return obj
    node = obj
    for token in pointer.lstrip("/").split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict):
            node = node.get(token)
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return None
    return node


def to_record(obj: Any, origin: Origin, size: int, session_key: str | None = None) -> Record:
    """Unwrap an envelope (if it is one) into a Record; a bare body becomes a Record as it is.

    ``session_key`` is a JSON pointer naming the conversation id; it is looked up in the record as
    read (the envelope) and then in the request body.
    """
    record = _to_record(obj, origin, size)
    if session_key is not None:
        value = resolve_pointer(obj, session_key)
        if value is None and record.body is not obj:
            value = resolve_pointer(record.body, session_key)
        if value is not None:
            record.session = value if isinstance(value, str) else orjson.dumps(value).decode()
    return record


def _to_record(obj: Any, origin: Origin, size: int) -> Record:
    if not isinstance(obj, dict):
        return Record(body=obj, origin=origin, size=size)
    request = obj.get("request")
    meta: dict[str, Any] = obj
    url = None
    headers = obj.get("headers")
    if isinstance(request, dict):
        body = _parse_body(request["body"]) if "body" in request else request
        url = request.get("url") if isinstance(request.get("url"), str) else None
        if isinstance(request.get("headers"), dict):
            headers = request["headers"]
    elif isinstance(request, str):
        body = _parse_body(request)
    elif "body" in obj and isinstance(obj["body"], (dict, str)) and "messages" not in obj:
        body = _parse_body(obj["body"])
    else:
        return Record(body=obj, origin=origin, size=size)
    response = obj.get("response")
    usage = obj.get("usage")
    response_id = None
    output = None
    skip = None
    if isinstance(response, dict):
        inner = response.get("body") if isinstance(response.get("body"), dict) else response
        output = inner.get("output") if isinstance(inner.get("output"), list) else None
        inner_usage, response_id = _response_usage(response)
        usage = usage or inner_usage
        status = _first(response, "status_code", "status")
        if isinstance(status, int) and status >= 400:
            skip = f"request failed (HTTP {status // 100}xx)"
    method = request.get("method") if isinstance(request, dict) else None
    if isinstance(method, str) and method.upper() != "POST":
        skip = f"{method.upper()} request"
    timestamp = meta.get("timestamp")
    if timestamp is None and isinstance(request, dict):
        timestamp = request.get("timestamp")  # claude-trace: when the request was sent
    if timestamp is None:
        timestamp = _first(meta, "logged_at", "time")
    session = _first(meta, "session", "session_id")
    return Record(
        body=body,
        origin=origin,
        size=size,
        timestamp=str(timestamp) if timestamp is not None else None,
        session=str(session) if session is not None else None,
        headers=headers if isinstance(headers, dict) else None,
        usage=usage if isinstance(usage, dict) else None,
        response_id=response_id,
        output=output,
        url=url,
        skip=skip,
    )


def _response_usage(response: dict[str, Any]) -> tuple[Any, str | None]:
    """Usage and id of a recorded response: its JSON ``body``, the JSON or server-sent events of
    its ``body``/``body_raw`` text (claude-trace), or else the response object itself."""
    body = response.get("body")
    if body is None:
        body = response.get("body_raw")
    return vcr.response_usage(response if body is None else body)


def _describe_bad_line(line: bytes) -> str:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"invalid UTF-8 (byte 0x{line[exc.start]:02x} at column {exc.start + 1})"
    try:
        orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        return f"invalid JSON: {exc}"
    return "invalid JSON"


def is_read_failure(exc: BaseException) -> bool:
    """An error of the file itself (I/O, a truncated or corrupt .gz or .zst), reported as
    'cannot read' rather than raised."""
    if isinstance(exc, (OSError, EOFError, gzip.BadGzipFile)):
        return True
    return type(exc).__module__.split(".")[0] == "zstandard"  # zstandard.ZstdError


def read(path: str, diagnostics: list[Diagnostic], session_key: str | None = None) -> Iterator[Record]:
    """Stream the records of one file. Malformed lines become diagnostics; reading goes on."""
    name = "<stdin>" if path == STDIN else path
    if path != STDIN and (found := harness.kind(path)) is not None:
        yield from harness.read(path, name, diagnostics, found)
        return
    if path != STDIN and vcr.is_yaml_name(path):
        yield from vcr.read(path, name, diagnostics, session_key)
        return
    handle = _open(path)
    try:
        if path != STDIN and _uncompressed(path).lower().endswith(har.HAR_SUFFIX):
            yield from _read_document(handle.read(), name, 1, diagnostics, session_key)
        else:
            yield from _read_handle(handle, name, diagnostics, session_key)
    except Exception as exc:  # noqa: BLE001 - only read failures are caught, see is_read_failure
        if not is_read_failure(exc):
            raise
        diagnostics.append(Diagnostic(Origin(name), f"cannot read: {exc}"))
    finally:
        if handle is not sys.stdin.buffer:
            handle.close()


def _read_handle(
    handle: IO[bytes], name: str, diagnostics: list[Diagnostic], key: str | None
) -> Iterator[Record]:
    first = handle.readline()
    lineno = 1
    while first and not first.strip():
        first = handle.readline()
        lineno += 1
    if not first:
        return
    stripped = first.lstrip()
    if stripped.startswith(b"["):
        rest = handle.read()
        data = first + rest
        try:
            doc = orjson.loads(data)
        except orjson.JSONDecodeError:
            try:  # JSON Lines whose first record is an array: every line is still a record
                obj = orjson.loads(first) if rest.strip() else None
            except orjson.JSONDecodeError:
                obj = None
            if obj is not None:
                yield to_record(obj, Origin(name, line=lineno), len(first), key)
                yield from _read_lines(io.BytesIO(rest), name, lineno + 1, diagnostics, key)
            elif rest.strip() and first.rstrip().endswith(b"]"):  # a bad one-line array: JSON Lines still
                diagnostics.append(Diagnostic(Origin(name, line=lineno), _describe_bad_line(first.rstrip(b"\r\n"))))
                yield from _read_lines(io.BytesIO(rest), name, lineno + 1, diagnostics, key)
            else:
                diagnostics.append(Diagnostic(Origin(name, line=lineno), _describe_bad_line(data)))
            return
        yield from _doc_records(doc, name, lineno, len(data), key)
        return
    try:
        obj = orjson.loads(first)
    except orjson.JSONDecodeError:
        rest = handle.read()
        if stripped.startswith(b"{") and rest:
            # Maybe one pretty-printed JSON document rather than JSON Lines.
            try:
                obj = orjson.loads(first + rest)
            except orjson.JSONDecodeError:
                pass
            else:
                yield from _document(obj, name, lineno, len(first) + len(rest), key)
                return
        diagnostics.append(Diagnostic(Origin(name, line=lineno), _describe_bad_line(first.rstrip(b"\r\n"))))
        yield from _read_lines(io.BytesIO(rest), name, lineno + 1, diagnostics, key)  # lines end at b"\n" only
        return
    if har.is_har(obj):  # a HAR document on one line
        yield from har.records(obj, name, key)
        return
    yield to_record(obj, Origin(name, line=lineno), len(first), key)
    yield from _read_lines(handle, name, lineno + 1, diagnostics, key)


def _read_lines(
    lines: Iterable[bytes], name: str, lineno: int, diagnostics: list[Diagnostic], key: str | None
) -> Iterator[Record]:
    splicer = Splicer()
    loads = splicer.loads  # orjson.loads, without parsing again the messages a line repeats
    for line in lines:
        if not line.isspace():  # what line.strip() tells, without copying a long line
            try:
                obj = loads(line)
            except orjson.JSONDecodeError:
                diagnostics.append(Diagnostic(Origin(name, line=lineno), _describe_bad_line(line.rstrip(b"\r\n"))))
            else:
                record = to_record(obj, Origin(name, line=lineno), len(line), key)
                record.repeats = splicer.repeats
                yield record
        lineno += 1


def _read_document(
    data: bytes, name: str, lineno: int, diagnostics: list[Diagnostic], key: str | None
) -> Iterator[Record]:
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError:
        diagnostics.append(Diagnostic(Origin(name, line=lineno), _describe_bad_line(data)))
        return
    yield from _doc_records(doc, name, lineno, len(data), key)


def _doc_records(doc: Any, name: str, lineno: int, size: int, key: str | None) -> Iterator[Record]:
    if not isinstance(doc, list):
        yield from _document(doc, name, lineno, size, key)
        return
    for i, obj in enumerate(doc):
        yield to_record(obj, Origin(name, entry=i), 0, key)


def _document(doc: Any, name: str, lineno: int, size: int, key: str | None) -> Iterator[Record]:
    """The records of one JSON document that is not an array: a HAR capture, or a single record."""
    if har.is_har(doc):
        yield from har.records(doc, name, key)
    else:
        yield to_record(doc, Origin(name, line=lineno), size, key)
