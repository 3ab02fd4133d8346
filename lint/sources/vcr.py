"""VCR cassettes: the recorded HTTP traffic of a test suite (vcrpy, pytest-recording), in YAML.

A cassette is ``{interactions: [{request: {method, uri, headers, body}, response: {status,
headers, body}}], version: 1}``. A request body is a JSON string (``body: "..."`` or
``body: {string: "..."}``, sometimes ``!!binary``), or already-parsed JSON (``parsed_body``,
pydantic-ai's serializer); a response body is JSON or the text of a server-sent event stream.

Every interaction becomes one :class:`Record` (origin: the file, the interaction's index as
``entry`` and its line in the YAML), so that every interaction is linted or counted as skipped:

- ``url`` is the request URI, ``headers`` the request headers (a single-valued list becomes its
  value). No ``timestamp``: a cassette's only clock is the response's ``date`` header, the time a
  response began to the second, and cassettes are re-recorded piecemeal; the TTL and fan-out
  rules would read test timing as cache behaviour;
- ``body`` is the request body as JSON. An interaction that cannot be an LLM request gets a body
  the providers stage skips: ``{}`` for a method other than POST, a request without a body, a
  non-HTTP interaction (gRPC samples) and an embeddings or input-token-counting endpoint whose
  body would pass for a Responses request; ``None`` ("not a JSON object") for a body that is not
  JSON (protobuf, multipart, form data);
- ``usage`` and ``response_id`` come from the response: the ``usage`` (Gemini: ``usageMetadata``)
  and ``id`` of a JSON body; from a stream, Anthropic's ``message_start`` usage updated by the
  final ``message_delta``, the ``usage`` of the last OpenAI chunk that has one, the Responses
  API's ``response.completed``.

YAML is parsed with the safe loader only (libyaml's when installed). Before building anything, one
flat pass over the parser's events refuses what would hang or crash the loader or the stages after
it: nesting deeper than ``MAX_DEPTH`` (libyaml's composer recurses on the C stack), more than
``MAX_ALIASES`` alias uses, aliases that would expand the document to more than its own size again
plus ``MAX_ALIAS_GROWTH`` (the "billion laughs"), recursive aliases, and files over ``MAX_BYTES``.
A refused or malformed cassette costs one diagnostic (with its line), never a traceback.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import re
import zlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import orjson
from prefixlint.model import Diagnostic, InputError, Origin, Record

if TYPE_CHECKING:
    import yaml

__all__ = ["YAML_SUFFIXES", "is_cassette", "is_yaml_name", "read", "records", "response_usage"]

YAML_SUFFIXES = (".yaml", ".yml")
MAX_BYTES = 128 * 1024 * 1024  # a cassette is loaded whole: refuse bigger files
MAX_DEPTH = 256
MAX_ALIASES = 500
MAX_ALIAS_GROWTH = 1024 * 1024  # characters (and nodes) aliases may add beyond the file's size
SNIFF_BYTES = 64 * 1024

_TOP_KEY = re.compile(rb"""(?m)^(?:\{\s*)?["']?interactions["']?[ \t]*:""")


_NO_BODY = object()  # the request has no body at all
_NOT_JSON = object()  # it has one, but it is not JSON
_STRING_BODY = frozenset(("string", "encoding"))  # a VCR body: {"string": ..., "encoding": ...}


class _Refused(Exception):
    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def is_yaml_name(path: str) -> bool:
    """True for ``.yaml``/``.yml`` files, gzip-compressed or not."""
    return path.removesuffix(".gz").lower().endswith(YAML_SUFFIXES)


def is_cassette(path: str) -> bool:
    """A YAML file whose first ``SNIFF_BYTES`` have a top-level ``interactions`` key."""
    if not is_yaml_name(path):
        return False
    try:
        with open(path, "rb") as handle:
            if path.endswith(".gz"):
                with gzip.GzipFile(fileobj=handle, mode="rb") as unzipped:
                    head = unzipped.read(SNIFF_BYTES)
            else:
                head = handle.read(SNIFF_BYTES)
    except (OSError, EOFError, zlib.error):
        return False
    return _TOP_KEY.search(head) is not None


def read(path: str, name: str, diagnostics: list[Diagnostic], session_key: str | None = None) -> Iterator[Record]:
    """One record per interaction of the cassette at ``path`` (reported as ``name``).

    ``session_key`` is a JSON pointer looked up in the interaction as recorded (headers are lists
    there: ``/request/headers/x-session-id/0``), then in the request body.
    """
    try:
        data = _read_bytes(path)
    except (OSError, EOFError, zlib.error) as exc:
        diagnostics.append(Diagnostic(Origin(name), f"cannot read: {exc}"))
        return
    if len(data) > MAX_BYTES:
        diagnostics.append(Diagnostic(Origin(name), f"cassette larger than {MAX_BYTES // 2**20} MiB: not read"))
        return
    import yaml  # (imported when a cassette is read: about 15 ms of start-up every run otherwise)

    try:
        lines = _scan(data)
        doc = yaml.load(data, Loader=_loader())  # a safe loader: libyaml's or the pure-Python one
    except _Refused as exc:
        diagnostics.append(Diagnostic(Origin(name, line=exc.line), exc.message))
        return
    except yaml.YAMLError as exc:
        diagnostics.append(Diagnostic(Origin(name, line=_error_line(exc, data)), f"invalid YAML: {_error_text(exc)}"))
        return
    except Exception as exc:  # noqa: BLE001 - the safe constructor raises ValueError and others for
        # values it cannot build (a timestamp like 2024-13-45): reported, never a traceback
        diagnostics.append(Diagnostic(Origin(name), f"invalid YAML: {type(exc).__name__}: {exc}"))
        return
    if not isinstance(doc, dict) or not isinstance(doc.get("interactions"), list):
        diagnostics.append(Diagnostic(Origin(name, line=1), "not a VCR cassette: no top-level 'interactions' list"))
        return
    yield from records(doc, name, session_key, lines)


def records(
    doc: dict[str, Any], name: str, session_key: str | None = None, lines: list[int] | None = None
) -> Iterator[Record]:
    """The records of an already-loaded cassette (YAML, or a vcrpy JSON cassette)."""
    interactions = doc.get("interactions")
    if not isinstance(interactions, list):
        return
    if lines is not None and len(lines) != len(interactions):
        lines = None
    for index, interaction in enumerate(interactions):
        origin = Origin(name, line=lines[index] if lines else None, entry=index)
        yield _record(interaction, origin, session_key)


# -- reading and checking the YAML -------------------------------------------------------------


def _read_bytes(path: str) -> bytes:
    try:
        handle = open(path, "rb")
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    with handle:
        if path.endswith(".gz"):
            with gzip.GzipFile(fileobj=handle, mode="rb") as unzipped:
                return unzipped.read(MAX_BYTES + 1)
        return handle.read(MAX_BYTES + 1)


def _loader() -> type:
    """The safe loader: libyaml's when installed, else the pure-Python one."""
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _scan(data: bytes) -> list[int]:
    """Check the document's shape from its parser events, without building it; return the line of
    each interaction (1-based). Raises :class:`_Refused` for what the loader must not be given."""
    import yaml

    loader = _loader()(data)
    lines: list[int] = []
    # one frame per open collection: [is_mapping, children seen, last key, is the interactions list]
    stack: list[list[Any]] = []
    opened: list[tuple[str | None, int]] = []  # (anchor, weight when it opened), per open collection
    anchors: dict[str, int] = {}  # anchor -> weight of its node (characters and nodes)
    pending: set[str] = set()  # anchors whose collection is still open
    weight = grown = aliases = documents = 0
    mapping_start, sequence_start = yaml.MappingStartEvent, yaml.SequenceStartEvent
    scalar, alias = yaml.ScalarEvent, yaml.AliasEvent
    ends = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
    try:
        while loader.check_event():
            event = loader.get_event()
            kind = type(event)
            if kind in ends:
                stack.pop()
                anchor, start = opened.pop()
                if anchor is not None:
                    anchors[anchor] = weight - start
                    pending.discard(anchor)
                continue
            if kind is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    raise _Refused("more than one YAML document: not a VCR cassette", event.start_mark.line + 1)
                continue
            if kind is not scalar and kind is not alias and kind is not mapping_start and kind is not sequence_start:
                continue
            line = event.start_mark.line + 1
            if stack:
                parent = stack[-1]
                if parent[3]:
                    lines.append(line)
                if parent[0] and parent[1] % 2 == 0:
                    parent[2] = event.value if kind is scalar else None
                parent[1] += 1
            if kind is scalar:
                size = len(event.value) + 1
                weight += size
                if event.anchor is not None:
                    anchors[event.anchor] = size
            elif kind is alias:
                name = event.anchor
                if name in pending:
                    raise _Refused(f"recursive YAML alias *{name}: refused", line)
                if name not in anchors:
                    raise _Refused(f"invalid YAML: undefined alias *{name}", line)
                aliases += 1
                weight += anchors[name]
                grown += anchors[name]
                if aliases > MAX_ALIASES:
                    raise _Refused(f"more than {MAX_ALIASES} YAML aliases: refused (possible alias bomb)", line)
                if grown > len(data) + MAX_ALIAS_GROWTH:
                    raise _Refused("YAML aliases expand the document beyond its size: refused (alias bomb)", line)
            else:
                if len(stack) >= MAX_DEPTH:
                    raise _Refused(f"YAML nested deeper than {MAX_DEPTH} levels: refused", line)
                is_list = kind is sequence_start and len(stack) == 1
                is_interactions = is_list and stack[0][0] and stack[0][2] == "interactions" and stack[0][1] % 2 == 0
                stack.append([kind is mapping_start, 0, None, is_interactions])
                opened.append((event.anchor, weight))
                if event.anchor is not None:
                    pending.add(event.anchor)
                weight += 1
    finally:
        loader.dispose()
    return lines


def _error_line(exc: yaml.YAMLError, data: bytes) -> int | None:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is not None:
        return mark.line + 1
    position = getattr(exc, "position", None)  # ReaderError: a character offset
    if isinstance(position, int):
        return data[:position].count(b"\n") + 1
    return None


def _error_text(exc: yaml.YAMLError) -> str:
    import yaml

    if isinstance(exc, yaml.MarkedYAMLError):
        return " ".join(part for part in (exc.context, exc.problem) if part) or "malformed"
    if isinstance(exc, yaml.reader.ReaderError):
        return f"invalid character or encoding ({exc.reason})"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


# -- one interaction --------------------------------------------------------------------------


def _record(interaction: Any, origin: Origin, session_key: str | None) -> Record:
    request = interaction.get("request") if isinstance(interaction, dict) else None
    if not isinstance(request, dict):  # not an HTTP interaction (gRPC samples, other recorders)
        return Record(body={}, origin=origin, skip="not an HTTP interaction")
    uri = request.get("uri", request.get("url"))
    url = uri if isinstance(uri, str) else None
    headers = _headers(request.get("headers"))
    method = request.get("method")
    body, size = _request_body(request)
    skip = None
    if isinstance(method, str) and method.upper() != "POST":
        body, skip = {}, f"{method.upper()} request"
    elif body is _NO_BODY:
        body, skip = {}, "no request body"
    elif body is _NOT_JSON:
        body, skip = None, "request body is not JSON"
    response = interaction.get("response")
    usage = response_id = None
    code = _status(response)
    if skip is None and code is not None and code >= 400:  # as claude-trace and HAR: the provider never ran it
        body, skip = {}, f"request failed (HTTP {code // 100}xx)"
    output = None
    if isinstance(response, dict) and isinstance(body, dict) and body:
        usage, response_id = _response_usage(response)
        if url is not None and url.split("?", 1)[0].rstrip("/").endswith("/responses"):
            output = _response_output(response)
    record = Record(
        body=body,  # type: ignore[arg-type] - None when the body is not JSON: the providers stage skips it
        origin=origin,
        size=size,
        headers=headers,
        usage=usage,
        response_id=response_id,
        url=url,
        skip=skip,
        output=output,
    )
    if session_key is not None:
        from prefixlint.sources import (
            resolve_pointer,  # the package imports this module
        )

        value = resolve_pointer(interaction, session_key)
        if value is None and isinstance(body, dict):
            value = resolve_pointer(body, session_key)
        if value is not None:
            record.session = value if isinstance(value, str) else orjson.dumps(value, default=str).decode()
    return record


def _response_output(response: dict[str, Any]) -> list | None:
    """The output items of a recorded OpenAI Responses reply (a JSON body), so that a request
    chained to it by ``previous_response_id`` is rebuilt with the reply (see prefixlint.chains)."""
    value = response.get("parsed_body", response.get("body"))
    if isinstance(value, dict) and value.keys() <= _STRING_BODY:
        value = value.get("string")
    if isinstance(value, bytes):
        value = _gunzip(value)
    if isinstance(value, (str, bytes)) and value.lstrip()[:1] in ("{", b"{"):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            return None
    output = value.get("output") if isinstance(value, dict) else None
    return output if isinstance(output, list) else None


def _status(response: Any) -> int | None:
    """The HTTP status of a recorded response: vcrpy's ``status: {code, message}``, or a number
    under ``status`` / ``status_code``."""
    if not isinstance(response, dict):
        return None
    status = response.get("status", response.get("status_code"))
    if isinstance(status, dict):
        status = status.get("code")
    return status if isinstance(status, int) and not isinstance(status, bool) else None


def _headers(raw: Any) -> dict[str, Any] | None:
    """vcrpy keeps every header as a list of values: a single value becomes a string."""
    if not isinstance(raw, dict):
        return None
    flat: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, list):
            value = value[0] if len(value) == 1 else ", ".join(str(v) for v in value)
        flat[str(key)] = value
    return flat


def _request_body(request: dict[str, Any]) -> tuple[Any, int]:
    """The request body as JSON and its size in bytes, or ``_NO_BODY`` / ``_NOT_JSON``."""
    if "parsed_body" in request:
        value = request["parsed_body"]
        if isinstance(value, (str, bytes)):
            return _decode(value)
        return (_plain(value) if value is not None else _NO_BODY), 0
    value = request.get("body")
    if isinstance(value, dict) and value.keys() <= _STRING_BODY:
        value = value.get("string")
    if value is None:
        return _NO_BODY, 0
    if isinstance(value, (str, bytes)):
        return _decode(value)
    return _plain(value), 0


def _decode(value: str | bytes) -> tuple[Any, int]:
    if isinstance(value, bytes):
        value = _gunzip(value)
        if value is None:
            return _NOT_JSON, 0
    size = len(value)
    if not value.strip():
        return _NO_BODY, 0
    try:
        return orjson.loads(value), size
    except orjson.JSONDecodeError:
        return _NOT_JSON, size


def _gunzip(data: bytes) -> bytes | None:
    if not data.startswith(b"\x1f\x8b"):
        return data
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data), mode="rb") as unzipped:
            out = unzipped.read(MAX_BYTES + 1)
    except (OSError, EOFError, zlib.error):
        return None
    return out if len(out) <= MAX_BYTES else None


def _plain(value: Any) -> Any:
    """JSON types only: YAML can hold bytes (``!!binary``), dates, sets and non-string keys."""
    try:
        return orjson.loads(orjson.dumps(value, default=_to_json, option=orjson.OPT_NON_STR_KEYS))
    except (orjson.JSONEncodeError, TypeError):
        pass
    try:  # integers beyond 64 bits, keys orjson cannot turn into strings
        return json.loads(json.dumps(value, default=_to_json))
    except (TypeError, ValueError, RecursionError):
        return _NOT_JSON


def _to_json(value: Any) -> Any:
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return base64.b64encode(value).decode("ascii")
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


# -- the response: usage and id ---------------------------------------------------------------


def response_usage(body: Any) -> tuple[dict[str, Any] | None, str | None]:
    """Usage and response id from a recorded response body: parsed JSON, or the text (or bytes) of
    a JSON document or a server-sent event stream. Used by the other capture readers too."""
    return _response_usage({"body": body})


def _response_usage(response: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    if "parsed_body" in response and not isinstance(response["parsed_body"], (str, bytes)):
        return _json_usage(response["parsed_body"])
    value = response.get("body", response.get("content"))
    if isinstance(value, dict) and value.keys() <= _STRING_BODY:
        value = value.get("string")
    elif isinstance(value, dict):
        return _json_usage(value)
    if isinstance(value, bytes):
        value = _gunzip(value)
        if value is None:
            return None, None
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            return None, None
    if not isinstance(value, str):
        return None, None
    text = value.lstrip()
    if text.startswith(("{", "[")):
        try:
            return _json_usage(orjson.loads(text))
        except orjson.JSONDecodeError:
            return None, None
    if text.startswith(("event:", "data:", "id:", ":")) or "\ndata:" in text:
        return _sse_usage(text)
    return None, None


def _json_usage(body: Any) -> tuple[dict[str, Any] | None, str | None]:
    if not isinstance(body, dict):
        return None, None
    usage = body.get("usage")
    if not isinstance(usage, dict):
        usage = body.get("usageMetadata")
    rid = body.get("id")
    return (usage if isinstance(usage, dict) else None), (rid if isinstance(rid, str) else None)


def _sse_usage(text: str) -> tuple[dict[str, Any] | None, str | None]:
    """Usage and response id from the text of a server-sent event stream."""
    start: dict[str, Any] | None = None  # Anthropic message_start usage
    delta: dict[str, Any] = {}  # Anthropic message_delta usage (cumulative: the last one wins)
    last: dict[str, Any] | None = None  # OpenAI chunk usage, Responses usage, Gemini usageMetadata
    rid: str | None = None
    for line in text.splitlines():
        if not line.startswith("data:"):
            continue
        payload = line[5:].strip()
        if not payload.startswith("{") or (rid is not None and '"usage' not in payload):
            continue
        try:
            event = orjson.loads(payload)
        except orjson.JSONDecodeError:
            continue
        if not isinstance(event, dict):
            continue
        kind = event.get("type")
        inner = event.get("message") if kind == "message_start" else event.get("response")
        if isinstance(inner, dict):
            if rid is None and isinstance(inner.get("id"), str):
                rid = inner["id"]
            if isinstance(inner.get("usage"), dict):
                if kind == "message_start":
                    start = dict(inner["usage"])
                else:
                    last = inner["usage"]
            continue
        if rid is None and isinstance(event.get("id"), str):
            rid = event["id"]
        usage = event.get("usage")
        if kind == "message_delta" and isinstance(usage, dict):
            delta.update((k, v) for k, v in usage.items() if v is not None)
        elif isinstance(usage, dict):
            last = usage
        elif isinstance(event.get("usageMetadata"), dict):
            last = event["usageMetadata"]
    if start is not None:
        start.update(delta)
        return start, rid
    return (delta or last), rid
