"""Reading logs: file discovery, formats, envelopes, detection, and bad input."""

from __future__ import annotations

import gzip
import json

import orjson

from conftest import brief
from prefixlint import engine, sources
from prefixlint.model import Origin
from prefixlint.providers import detect
from prefixlint.rules import RULES

A1 = {"model": "claude-sonnet-4-5", "max_tokens": 100, "system": "Be brief.", "messages": [{"role": "user", "content": "hi"}]}
A2 = {
    "model": "claude-haiku-4-5",
    "max_tokens": 100,
    "system": "Be brief.",
    "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}, {"role": "user", "content": "bye"}],
}


def run(*paths, **options):
    return engine.run([str(p) for p in paths], RULES, engine.Options(**options))


def test_discover_recurses_into_log_files_only(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / ".hidden").mkdir()
    for name in ("a.jsonl", "b.json", "c.ndjson", "sub/d.jsonl.gz", "notes.txt", ".hidden/e.jsonl", "sub/f.json.gz"):
        (tmp_path / name).write_bytes(b"")
    found = [p.replace(str(tmp_path) + "/", "") for p in sources.discover([str(tmp_path)])]
    assert found == ["a.jsonl", "b.json", "c.ndjson", "sub/d.jsonl.gz", "sub/f.json.gz"]


def test_missing_path_is_an_input_error_and_other_paths_are_linted(tmp_path):
    good = tmp_path / "good.jsonl"
    good.write_bytes(orjson.dumps(A1) + b"\n" + orjson.dumps(A2) + b"\n")
    result = run(tmp_path / "missing.jsonl", good)
    assert result.input_error
    assert [str(d) for d in result.diagnostics] == [f"{tmp_path}/missing.jsonl: no such file or directory"]
    assert brief(result) == [("PL401", 2, 2, "/model")]
    assert result.exit_code("error") == 2


def test_bad_lines_are_diagnosed_and_the_rest_is_linted(tmp_path):
    log = tmp_path / "log.jsonl"
    log.write_bytes(
        orjson.dumps(A1) + b"\n"
        + b"{not json\n"
        + b'{"model": "x", "messages": "\xff\xfe"}\n'
        + b"\n"
        + orjson.dumps({"model": "claude-sonnet-4-5", "max_tokens": 5, "system": "s", "messages": "oops"}) + b"\n"
        + orjson.dumps(A2) + b"\n"
    )
    result = run(log)
    messages = [str(d) for d in result.diagnostics]
    assert messages[0].startswith(f"{log}:2: invalid JSON")
    assert messages[1] == f"{log}:3: invalid UTF-8 (byte 0xff at column 29)"
    assert messages[2] == f"{log}:5: invalid anthropic request: /messages must be an array, got a string"
    assert len(messages) == 3
    assert brief(result) == [("PL401", 6, 2, "/model")]
    assert result.summary.invalid == 1
    assert result.exit_code("never") == 0  # diagnostics are reported; the rest is judged on findings
    assert result.exit_code("error") == 1


def test_json_array_document_and_gzip(tmp_path):
    doc = tmp_path / "log.json.gz"
    with gzip.open(doc, "wb") as fh:
        fh.write(json.dumps([A1, A2], indent=2).encode())
    result = run(doc)
    assert [(f.code, f.location.entry, f.location.line) for f in result.findings] == [("PL401", 1, None)]
    assert str(Origin(str(doc), entry=1)) == f"{doc}#1"


def test_pretty_printed_single_object(tmp_path):
    doc = tmp_path / "one.json"
    doc.write_text(json.dumps(A1, indent=2))
    result = run(doc)
    assert result.summary.requests == 1 and not result.diagnostics


def test_envelope_shapes(tmp_path):
    log = tmp_path / "log.jsonl"
    records = [
        {"timestamp": "2026-11-24T10:00:00Z", "session": "s1", "request": A1, "response": {"usage": {"input_tokens": 5}}},
        {"request": {"url": "https://api.anthropic.com/v1/messages", "headers": {}, "body": orjson.dumps(A2).decode()}},
        {"body": A2, "session_id": "s2"},
    ]
    log.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    got = list(sources.read(str(log), []))
    assert got[0].timestamp == "2026-11-24T10:00:00Z" and got[0].session == "s1"
    assert got[0].usage == {"input_tokens": 5} and got[0].body == A1
    assert got[1].body == A2 and got[1].url.endswith("/v1/messages")
    assert got[2].body == A2 and got[2].session == "s2"


def test_non_requests_are_skipped_and_counted(tmp_path):
    log = tmp_path / "log.jsonl"
    records = [
        A1,
        {"id": "chatcmpl-1", "object": "chat.completion", "choices": []},
        {"type": "message", "role": "assistant", "content": [{"type": "text", "text": "hi"}]},
        {"request": {"url": "https://api.anthropic.com/v1/messages/count_tokens", "body": A1}},
        {"event": "heartbeat"},
        [1, 2, 3],
    ]
    log.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    result = run(log)
    assert result.summary.requests == 1
    assert dict(result.summary.skipped) == {
        "response, not a request": 2,
        "token-counting call": 1,
        "unrecognised record": 1,
        "not a JSON object": 1,
    }
    assert not result.diagnostics and result.exit_code("error") == 0


def test_detection():
    def kind(body, url=None):
        from prefixlint.model import Record

        return detect(body, Record(body=body, origin=Origin("x"), url=url))[0]

    assert kind(A1) == ("anthropic", "messages")
    assert kind({"model": "gpt-5", "messages": [{"role": "system", "content": "x"}]}) == ("openai", "chat")
    assert kind({"model": "gpt-5", "input": "hi", "instructions": "x"}) == ("openai", "responses")
    assert kind({"model": "claude-sonnet-4-5", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}) == (
        "anthropic",
        "messages",
    )
    assert kind({"model": "m", "messages": [{"role": "user", "content": "x"}]}, "http://h/v1/chat/completions") == (
        "openai",
        "chat",
    )


def test_provider_override(tmp_path):
    log = tmp_path / "log.jsonl"
    log.write_bytes(orjson.dumps({"model": "m", "messages": [{"role": "user", "content": "x"}]}) + b"\n")
    assert run(log, provider="anthropic").summary.by_provider == {"anthropic messages": 1}
    assert run(log).summary.by_provider == {"openai chat": 1}
