"""HAR 1.2 captures: the HTTP archive that browser devtools, mitmproxy, Charles and Proxyman export.

A HAR is one JSON document ``{"log": {"entries": [...]}}``; an entry is ``{startedDateTime,
request: {method, url, headers: [{name, value}], postData: {mimeType, text}}, response: {status,
content: {mimeType, text, encoding}}}``. Every entry becomes one :class:`Record` (origin: the file
and the entry's index), so that every entry is linted or counted as skipped:

- only LLM API calls are linted: Anthropic ``/v1/messages``, OpenAI-compatible
  ``/chat/completions`` and ``/responses``, Gemini ``:generateContent`` and
  ``:streamGenerateContent``, Bedrock ``/converse`` and ``/invoke``. Everything else a browser or a
  proxy records (pages, scripts, telemetry) is skipped as "not an LLM API call"; token-counting
  calls keep their URL and are skipped by the providers stage;
- a method other than POST, a request without a body or with a body that is not JSON, and a
  response with an HTTP error status are skipped with the reason;
- ``timestamp`` is ``startedDateTime``; ``headers`` the request headers (credentials masked: a
  capture carries them, nothing downstream needs them); ``url`` the request URL;
- ``usage`` and ``response_id`` come from ``response.content.text`` (JSON or a server-sent event
  stream, base64 when ``encoding`` says so), parsed by :func:`prefixlint.sources.vcr.response_usage`.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from typing import Any

import orjson
from prefixlint.model import Origin, Record
from prefixlint.redact import redact_headers
from prefixlint.sources.vcr import response_usage

__all__ = ["HAR_SUFFIX", "NOT_LLM", "is_har", "is_llm_url", "records"]

HAR_SUFFIX = ".har"
NOT_LLM = "not an LLM API call"

# The path of an LLM API call (query string removed, lower case).
_LLM_PATH = re.compile(
    r"""(
        /v1/messages(/count_tokens)?$                      # Anthropic (and Claude-compatible gateways)
      | /chat/completions$                                 # OpenAI and every OpenAI-compatible server
      | /responses(/compact|/input_tokens)?$               # OpenAI Responses
      | :(stream)?generatecontent$ | :counttokens$         # Gemini (AI Studio and Vertex)
      | /converse(-stream)?$                               # Bedrock Converse
      | /invoke(-with-response-stream)?$                   # Bedrock InvokeModel
    )""",
    re.VERBOSE,
)


def is_har(doc: Any) -> bool:
    """A JSON document with a ``log.entries`` list."""
    log = doc.get("log") if isinstance(doc, dict) else None
    return isinstance(log, dict) and isinstance(log.get("entries"), list)


def is_llm_url(url: str) -> bool:
    path = url.split("?", 1)[0].split("#", 1)[0].rstrip("/").lower()
    return _LLM_PATH.search(path) is not None


def records(doc: dict[str, Any], name: str, session_key: str | None = None) -> Iterator[Record]:
    """One record per entry of an already-loaded HAR document (reported as ``name``)."""
    for index, entry in enumerate(doc["log"]["entries"]):
        record = _record(entry, Origin(name, entry=index))
        if session_key is not None and not record.skip:
            from prefixlint.sources import (
                resolve_pointer,  # the package imports this module
            )

            value = resolve_pointer(entry, session_key)
            if value is None and isinstance(record.body, dict):
                value = resolve_pointer(record.body, session_key)
            if value is not None:
                record.session = value if isinstance(value, str) else orjson.dumps(value, default=str).decode()
        yield record


def _record(entry: Any, origin: Origin) -> Record:
    request = entry.get("request") if isinstance(entry, dict) else None
    if not isinstance(request, dict):
        return Record(body={}, origin=origin, skip="not an HTTP request")
    url = request.get("url") if isinstance(request.get("url"), str) else None
    if url is None or not is_llm_url(url):
        return Record(body={}, origin=origin, skip=NOT_LLM)
    started = entry.get("startedDateTime")
    record = Record(
        body={},
        origin=origin,
        url=url,
        headers=_headers(request.get("headers")),
        timestamp=started if isinstance(started, str) else None,
    )
    method = request.get("method")
    if isinstance(method, str) and method.upper() != "POST":
        record.skip = f"{method.upper()} request"
        return record
    post = request.get("postData")
    text = _text(post) if isinstance(post, dict) else None
    if text is None or not text.strip():
        record.skip = "no request body"
        return record
    record.size = len(text)
    try:
        body = orjson.loads(text)
    except orjson.JSONDecodeError:
        record.body, record.skip = None, "request body is not JSON"  # type: ignore[assignment]
        return record
    record.body = body
    response = entry.get("response")
    if not isinstance(response, dict):
        return record
    status = response.get("status")
    if isinstance(status, int) and status >= 400:
        record.skip = f"request failed (HTTP {status // 100}xx)"
        return record
    content = response.get("content")
    if isinstance(content, dict):
        reply = _text(content)
        if reply:
            record.usage, record.response_id = response_usage(reply)
    return record


def _text(part: dict[str, Any]) -> str | None:
    """The ``text`` of a postData or content object, base64-decoded when ``encoding`` says so."""
    text = part.get("text")
    if not isinstance(text, str):
        return None
    if str(part.get("encoding", "")).lower() == "base64":
        try:
            return base64.b64decode(text, validate=False).decode("utf-8")
        except (binascii.Error, ValueError):
            return None
    return text


def _headers(raw: Any) -> dict[str, Any] | None:
    """HAR headers are a list of ``{name, value}``: a dict (repeated names joined), credentials masked."""
    if not isinstance(raw, list):
        return None
    flat: dict[str, Any] = {}
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        key, value = item["name"], item.get("value")
        if key.startswith(":"):  # HTTP/2 pseudo-headers (:authority, :path) some exports keep
            continue
        flat[key] = f"{flat[key]}, {value}" if key in flat else value
    return redact_headers(flat)
