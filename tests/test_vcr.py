"""VCR cassettes (vcrpy / pytest-recording YAML): records, usage, skips, bad and hostile input, corpus."""

from __future__ import annotations

import gzip
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import orjson
import pytest
import yaml

from conftest import FIXTURES
from prefixlint import engine, sources
from prefixlint.providers import detect
from prefixlint.rules import RULES
from prefixlint.sources import vcr

CASSETTES = FIXTURES / "cassettes"
LOOP = CASSETTES / "anthropic-agent-loop.yaml"
BROKEN = CASSETTES / "anthropic-tool-removed.yaml"
CHAT = CASSETTES / "openai-chat-with-get.yaml"
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "cassettes"

CHAT_BODY = {"model": "gpt-4.1-mini", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]}


def run(*paths, **options) -> engine.RunResult:
    return engine.run([str(p) for p in paths], RULES, engine.Options(**options))


def read(path) -> tuple[list, list]:
    diagnostics: list = []
    return list(sources.read(str(path), diagnostics)), diagnostics


def cassette(tmp_path: Path, interactions: list, name: str = "c.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump({"interactions": interactions, "version": 1}, sort_keys=False))
    return path


def post(body, uri: str = "https://api.openai.com/v1/chat/completions", response=None, **request) -> dict:
    return {
        "request": {"body": body, "headers": {"content-type": ["application/json"]}, "method": "POST", "uri": uri, **request},
        "response": response or {"body": {"string": ""}, "headers": {}, "status": {"code": 200, "message": "OK"}},
    }


def sse_response(text: str) -> dict:
    return {"body": {"string": text}, "headers": {"content-type": ["text/event-stream"]}, "status": {"code": 200}}


# -- the fixtures, end to end -------------------------------------------------------------------


def test_fixtures_exact_findings_and_counts():
    result = run(CASSETTES)
    found = [
        (f.code, Path(f.location.file).name, f.location.entry, f.location.line, f.location.thread, f.location.turn, f.location.pointer)
        for f in result.findings
    ]
    assert found == [("PL101", "anthropic-tool-removed.yaml", 1, 147, "T1", 2, "/tools/1")]
    assert "removed `edit_file`" in result.findings[0].message
    assert result.diagnostics == []
    summary = result.summary
    assert (summary.files, summary.records, summary.requests, summary.invalid) == (3, 9, 8, 0)
    assert dict(summary.skipped) == {"GET request": 1}
    assert dict(summary.by_provider) == {"anthropic messages": 6, "openai chat": 2}
    assert result.exit_code("error") == 1


def test_clean_loop_and_chat_report_nothing_and_match_recorded_usage():
    result = run(LOOP, CHAT)
    assert result.findings == [] and result.diagnostics == []
    stats = {Path(t.file).name: t for t in result.threads}
    # one conversation per cassette; the cache model predicts what the recording shows
    assert stats["anthropic-agent-loop.yaml"].requests == 3
    assert stats["anthropic-agent-loop.yaml"].observed_read == 1101 + 1229
    assert stats["openai-chat-with-get.yaml"].observed_read == 1152
    assert stats["openai-chat-with-get.yaml"].predicted_read == 1152


def test_records_carry_origin_url_headers_and_body():
    records, diagnostics = read(LOOP)
    assert diagnostics == []
    assert [(r.origin.entry, r.origin.line) for r in records] == [(0, 5), (1, 147), (2, 307)]
    assert str(records[1].origin) == f"{LOOP}:147"
    first = records[0]
    assert first.url == "https://api.anthropic.com/v1/messages"
    assert first.headers["anthropic-version"] == "2023-06-01"  # vcrpy's one-element list, flattened
    assert first.body["model"] == "claude-sonnet-4-5" and len(first.body["messages"]) == 1
    assert [len(r.body["messages"]) for r in records] == [1, 3, 5]
    assert first.timestamp is None  # a response `date` header is no request time (see the module docstring)
    assert detect(first.body, first) == (("anthropic", "messages"), "")


def test_usage_from_anthropic_stream_is_message_start_updated_by_message_delta():
    records, _ = read(LOOP)
    assert records[0].usage == {
        "input_tokens": 3, "cache_creation_input_tokens": 1101, "cache_read_input_tokens": 0, "output_tokens": 71,
    }
    assert records[0].response_id == "msg_01XFDUDYJgAACzvnptvVoY1a"
    assert records[2].usage["cache_read_input_tokens"] == 1229 and records[2].usage["output_tokens"] == 52


def test_parsed_body_json_usage_and_the_get_interaction_is_skipped():
    records, diagnostics = read(CHAT)
    assert diagnostics == []
    chat1, get, chat2 = records
    assert chat1.body["model"] == "gpt-4.1-mini" and chat1.body["tools"][0]["function"]["strict"] is True
    assert chat1.usage["prompt_tokens"] == 1153 and chat1.response_id == "chatcmpl-CdT1b7QfE2mWq9"
    assert chat2.usage["prompt_tokens_details"] == {"audio_tokens": 0, "cached_tokens": 1152}
    assert (get.origin.entry, get.origin.line, get.body, get.usage) == (1, 166, {}, None)
    assert get.url.startswith("https://timetable.northwind-rail.example/")
    assert detect(get.body, get) == (None, "GET request")


# -- body shapes -------------------------------------------------------------------------------


def test_every_body_shape_is_read(tmp_path):
    text = orjson.dumps(CHAT_BODY).decode()
    parsed = post(None)
    del parsed["request"]["body"]
    parsed["request"]["parsed_body"] = CHAT_BODY  # pydantic-ai's serializer
    path = cassette(tmp_path, [
        post({"string": text}),
        post(text),
        parsed,
        post(text.encode()),  # !!binary, JSON inside
        post(gzip.compress(text.encode())),  # !!binary, gzip-compressed JSON
        post(CHAT_BODY),  # already a mapping under `body`
    ])
    assert "!!binary" in path.read_text()
    records, diagnostics = read(path)
    assert diagnostics == []
    assert [r.body for r in records] == [CHAT_BODY] * 6
    assert records[0].size == len(text)


def test_parsed_body_with_yaml_only_types_becomes_json(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(
        "interactions:\n- request:\n    method: POST\n    uri: https://api.openai.com/v1/chat/completions\n"
        "    parsed_body:\n      model: gpt-4.1-mini\n      metadata: {day: 2025-11-17, 1: one, raw: !!binary aGk=}\n"
        "      messages: [{role: user, content: hi}]\n"
    )
    (record,), diagnostics = read(path)
    assert diagnostics == []
    assert record.body["metadata"] == {"day": "2025-11-17", "1": "one", "raw": "hi"}
    orjson.dumps(record.body)


@pytest.mark.parametrize(
    ("interaction", "reason"),
    [
        (post(orjson.dumps(CHAT_BODY).decode(), method="GET"), "GET request"),
        (post(orjson.dumps(CHAT_BODY).decode(), method="DELETE"), "DELETE request"),
        (post(None), "no request body"),
        (post("   "), "no request body"),
        (post("a=1&b=2"), "request body is not JSON"),
        (post(b"\x0a\x03\xff\xfe protobuf"), "request body is not JSON"),
        (post('{"input": "hello", "model": "text-embedding-3-small"}', uri="https://api.openai.com/v1/embeddings"), "embeddings call"),
        (post('{"input": "hi", "model": "gpt-5"}', uri="https://api.openai.com/v1/responses/input_tokens"), "token-counting call"),
        (post('{"model": "claude-sonnet-4-5", "messages": []}', uri="https://api.anthropic.com/v1/messages/count_tokens"), "token-counting call"),
        (post('{"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}', uri="https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:countTokens"), "token-counting call"),
        ({"request_sample": {"json": {"model": "grok-4"}}, "response_sample": {}}, "not an HTTP interaction"),
        ("not a mapping", "not an HTTP interaction"),
        (post(orjson.dumps(CHAT_BODY).decode(), response={"body": {"string": '{"error": {"type": "invalid_request_error"}}'},
                                                          "status": {"code": 400, "message": "Bad Request"}}),
         "request failed (HTTP 4xx)"),
        (post(orjson.dumps(CHAT_BODY).decode(), response={"body": {"string": ""}, "status_code": 529}),
         "request failed (HTTP 5xx)"),
    ],
    ids=["get", "delete", "no-body", "blank-body", "form", "protobuf", "embeddings", "input-tokens", "count-tokens", "gemini",
         "grpc-sample", "scalar", "http-400", "http-529"],
)
def test_interactions_that_are_no_llm_request_are_skipped_and_counted(tmp_path, interaction, reason):
    path = cassette(tmp_path, [interaction, post(orjson.dumps(CHAT_BODY).decode())])
    result = run(path)
    assert result.diagnostics == []
    assert (result.summary.records, result.summary.requests) == (2, 1)
    assert dict(result.summary.skipped) == {reason: 1}


def test_lowercase_method_and_session_key(tmp_path):
    interaction = post(orjson.dumps(CHAT_BODY).decode(), method="post")
    interaction["request"]["headers"]["x-session-id"] = ["run-42"]
    path = cassette(tmp_path, [interaction])
    records = list(sources.read(str(path), [], "/request/headers/x-session-id/0"))
    assert records[0].session == "run-42"
    assert detect(records[0].body, records[0]) == (("openai", "chat"), "")


# -- usage from every kind of response ---------------------------------------------------------


def _usage(tmp_path, response) -> tuple:
    path = cassette(tmp_path, [post(orjson.dumps(CHAT_BODY).decode(), response=response)])
    (record,), _ = read(path)
    return record.usage, record.response_id


def test_usage_from_openai_stream_last_chunk(tmp_path):
    chunk = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "choices": [{"delta": {"content": "hi"}}], "usage": None}
    last = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "choices": [], "usage": {"prompt_tokens": 2000, "prompt_tokens_details": {"cached_tokens": 1920}}}
    text = "".join(f"data: {orjson.dumps(c).decode()}\n\n" for c in (chunk, chunk, last)) + "data: [DONE]\n\n"
    assert _usage(tmp_path, sse_response(text)) == ({"prompt_tokens": 2000, "prompt_tokens_details": {"cached_tokens": 1920}}, "chatcmpl-1")


def test_usage_from_responses_stream_completed_event(tmp_path):
    events = [
        ("response.created", {"type": "response.created", "response": {"id": "resp_1", "usage": None}}),
        ("response.output_text.delta", {"type": "response.output_text.delta", "delta": "hi"}),
        ("response.completed", {"type": "response.completed", "response": {"id": "resp_1", "usage": {"input_tokens": 1500, "input_tokens_details": {"cached_tokens": 1408}}}}),
    ]
    text = "".join(f"event: {name}\ndata: {orjson.dumps(data).decode()}\n\n" for name, data in events)
    assert _usage(tmp_path, sse_response(text)) == ({"input_tokens": 1500, "input_tokens_details": {"cached_tokens": 1408}}, "resp_1")


def test_usage_from_anthropic_stream_with_cumulative_message_delta(tmp_path):
    start = {"type": "message_start", "message": {"id": "msg_1", "usage": {"input_tokens": 5, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 900, "output_tokens": 1}}}
    delta = {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"input_tokens": 5, "cache_read_input_tokens": 900, "cache_creation_input_tokens": None, "output_tokens": 40}}
    text = f"event: message_start\ndata: {orjson.dumps(start).decode()}\n\nevent: ping\ndata: {{\"type\": \"ping\"}}\n\nevent: message_delta\ndata: {orjson.dumps(delta).decode()}\n\n"
    usage, rid = _usage(tmp_path, sse_response(text))
    assert rid == "msg_1"
    assert usage == {"input_tokens": 5, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 900, "output_tokens": 40}


def test_usage_from_json_body_string_gemini_and_compressed_bytes(tmp_path):
    body = {"id": "chatcmpl-2", "usage": {"prompt_tokens": 10}}
    assert _usage(tmp_path, {"body": {"string": orjson.dumps(body).decode()}}) == ({"prompt_tokens": 10}, "chatcmpl-2")
    assert _usage(tmp_path, {"body": {"string": gzip.compress(orjson.dumps(body))}}) == ({"prompt_tokens": 10}, "chatcmpl-2")
    assert _usage(tmp_path, {"content": orjson.dumps(body).decode()}) == ({"prompt_tokens": 10}, "chatcmpl-2")  # httpx-style
    gemini = {"candidates": [], "usageMetadata": {"promptTokenCount": 10, "cachedContentTokenCount": 0}}
    assert _usage(tmp_path, {"parsed_body": gemini}) == ({"promptTokenCount": 10, "cachedContentTokenCount": 0}, None)
    assert _usage(tmp_path, {"body": {"string": "<html>rate limited</html>"}}) == (None, None)
    assert _usage(tmp_path, {"body": {"string": b"\x89PNG\r\n\x1a\n\x00\xff"}}) == (None, None)


# -- discovery -----------------------------------------------------------------------------------


def test_discover_finds_cassettes_by_content_not_every_yaml(tmp_path):
    cassette(tmp_path, [post(orjson.dumps(CHAT_BODY).decode())], "a.yaml")
    (tmp_path / "b.yml").write_text("version: 1\ninteractions: []\n")
    with gzip.open(tmp_path / "c.yaml.gz", "wb") as handle:
        handle.write(b"interactions: []\n")
    (tmp_path / "config.yaml").write_text("rule: PL101\ncases: []\n")
    (tmp_path / "log.jsonl").write_bytes(b"")
    found = [Path(p).name for p in sources.discover([str(tmp_path)])]
    assert found == ["a.yaml", "b.yml", "c.yaml.gz", "log.jsonl"]
    assert vcr.is_cassette(str(tmp_path / "c.yaml.gz")) and not vcr.is_cassette(str(tmp_path / "config.yaml"))
    result = run(tmp_path / "c.yaml.gz")
    assert (result.summary.records, result.diagnostics) == (0, [])


def test_fixture_directory_lints_cassettes_and_logs_but_not_rule_cases():
    found = [Path(p).relative_to(FIXTURES).as_posix() for p in sources.discover([str(FIXTURES)])]
    assert [p for p in found if p.startswith("cassettes/")] == [
        "cassettes/anthropic-agent-loop.yaml", "cassettes/anthropic-tool-removed.yaml", "cassettes/openai-chat-with-get.yaml",
    ]
    assert not any(p.startswith("rules/") for p in found)


# -- malformed and hostile cassettes -----------------------------------------------------------


def test_malformed_yaml_is_one_diagnostic_with_its_line_and_the_rest_is_linted(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("interactions:\n- request:\n    method: POST\n    body: {string: 'unterminated\n  response: [\n")
    result = run(bad, CHAT)
    assert [str(d) for d in result.diagnostics] == [f"{bad}:6: invalid YAML: while scanning a quoted scalar found unexpected end of stream"]
    assert result.summary.requests == 2
    assert result.exit_code("error") == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- just\n- a list\n", "1: not a VCR cassette: no top-level 'interactions' list"),
        ("interactions: {}\n", "1: not a VCR cassette: no top-level 'interactions' list"),
        ("--- {interactions: []}\n--- {interactions: []}\n", "2: more than one YAML document: not a VCR cassette"),
        ("interactions: !!python/object/apply:os.system ['true']\n", "1: invalid YAML: could not determine a constructor"),
        ("interactions:\n- request:\n    created: 2024-13-45\n", " invalid YAML: ValueError: month must be in 1..12"),
        ("interactions: &a [*a]\n", "1: recursive YAML alias *a: refused"),
        ("interactions: [*nowhere]\n", "1: invalid YAML: undefined alias *nowhere"),
    ],
    ids=["list", "mapping", "two-documents", "python-tag", "bad-date", "recursive", "undefined-alias"],
)
def test_wrong_shapes_are_diagnosed_not_raised(tmp_path, text, message):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    records, diagnostics = read(path)
    assert records == []
    assert len(diagnostics) == 1 and str(diagnostics[0]).startswith(f"{path}:{message}")


def _billion_laughs(levels: int = 9) -> str:
    lines = ['a0: &a0 "lol"']
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    return "interactions:\n- request:\n    method: POST\n    parsed_body:\n" + "".join(f"      {line}\n" for line in lines)


def test_yaml_bomb_is_refused_quickly(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(_billion_laughs())
    started = time.perf_counter()
    result = run(path)
    assert time.perf_counter() - started < 2.0
    assert result.summary.records == 0
    assert len(result.diagnostics) == 1
    assert "alias" in result.diagnostics[0].message and "refused" in result.diagnostics[0].message


def test_wide_alias_bomb_is_refused_by_size(tmp_path):
    big = "x" * 200_000
    path = tmp_path / "wide.yaml"
    path.write_text(f"big: &big {big}\ninteractions: [" + ", ".join(["*big"] * 100) + "]\n")
    _, diagnostics = read(path)
    assert [d.message for d in diagnostics] == ["YAML aliases expand the document beyond its size: refused (alias bomb)"]


def test_a_few_aliases_are_fine(tmp_path):
    body = orjson.dumps(CHAT_BODY).decode()
    path = tmp_path / "c.yaml"
    path.write_text(
        "interactions:\n"
        f"- request: {{method: POST, uri: 'https://api.openai.com/v1/chat/completions', headers: &h {{host: [api.openai.com]}}, body: '{body}'}}\n"
        f"- request: {{method: POST, uri: 'https://api.openai.com/v1/chat/completions', headers: *h, body: '{body}'}}\n"
    )
    records, diagnostics = read(path)
    assert diagnostics == [] and [r.headers for r in records] == [{"host": "api.openai.com"}] * 2


def test_deep_nesting_is_refused_before_the_c_loader_sees_it(tmp_path):
    path = tmp_path / "deep.yaml"
    path.write_text("interactions: " + "[" * 200_000 + "]" * 200_000 + "\n")
    # libyaml's composer recurses on the C stack: a crash would kill the interpreter, so run it apart
    code = (
        "import sys; from prefixlint.sources import vcr; d = []; "
        "list(vcr.read(sys.argv[1], 'deep.yaml', d)); print(d[0])"
    )
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    # Our own event scan refuses it; PyYAML 6.0.4 and later refuse it even earlier, in the parser.
    assert done.stdout.strip() in (
        f"deep.yaml:1: YAML nested deeper than {vcr.MAX_DEPTH} levels: refused",
        "deep.yaml:1: invalid YAML: while increasing flow level exceeded maximum nesting depth",
    )


def test_oversized_or_unreadable_cassette(tmp_path, monkeypatch):
    path = cassette(tmp_path, [post(orjson.dumps(CHAT_BODY).decode())])
    monkeypatch.setattr(vcr, "MAX_BYTES", 100)
    _, diagnostics = read(path)
    assert [d.message for d in diagnostics] == ["cassette larger than 0 MiB: not read"]
    monkeypatch.undo()
    broken = tmp_path / "broken.yaml.gz"
    broken.write_bytes(b"\x1f\x8b\x08\x00not really gzip")
    result = run(broken)
    assert len(result.diagnostics) == 1 and result.diagnostics[0].message.startswith("cannot read:")
    missing = run(tmp_path / "missing.yaml")
    assert missing.input_error


# -- the real cassettes ------------------------------------------------------------------------


def _count_interactions(paths: list[str]) -> int:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    total = 0
    for path in paths:
        with open(path, "rb") as handle:
            doc = yaml.load(handle, Loader=loader)  # a safe loader
        total += len(doc["interactions"])
    return total


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared corpus of real cassettes is absent")
def test_corpus_every_cassette_read_and_every_interaction_accounted_for():
    files = list(sources.discover([str(CORPUS)]))
    every_yaml = sorted(str(p) for p in CORPUS.rglob("*.yaml"))
    started = time.perf_counter()
    result = run(CORPUS)
    elapsed = time.perf_counter() - started
    summary = result.summary
    internal = [str(d) for d in result.diagnostics if "internal error" in d.message]
    assert internal == []
    assert result.diagnostics == []
    assert summary.files == len(files)
    # YAML files that are not cassettes (Claude Agent SDK message dumps) are left out, nothing else
    left_out = sorted(set(every_yaml) - set(files))
    assert all(b"interactions" not in Path(p).read_bytes()[:200] for p in left_out)
    assert summary.records == _count_interactions(files)
    assert summary.requests + summary.invalid + sum(summary.skipped.values()) == summary.records
    findings = Counter(f.code for f in result.findings)
    print(f"\ncassettes: {summary.files} files ({len(left_out)} other YAML files left out), {summary.records} interactions, "
          f"{summary.requests} requests, {summary.invalid} invalid, {summary.threads} threads, {elapsed:.1f} s")
    print("requests by provider:", dict(summary.by_provider.most_common()))
    print("skipped:", dict(summary.skipped.most_common()))
    print("findings:", dict(sorted(findings.items())))


def test_responses_chain_in_a_cassette_carries_the_recorded_replies(tmp_path):
    """A reply recorded in the cassette becomes part of the next request's rebuilt prompt."""
    interactions = []
    for n in (1, 2, 3):
        body = {"model": "gpt-5", "instructions": "Be brief.", "input": [{"role": "user", "content": f"Question {n}?"}]}
        if n > 1:
            body["previous_response_id"] = f"resp_{n - 1}"
        reply = {"id": f"resp_{n}", "output": [{"type": "message", "id": f"msg_{n}", "role": "assistant", "status": "completed",
                                               "content": [{"type": "output_text", "text": f"Answer {n}."}]}]}
        interactions.append(post(orjson.dumps(body).decode(), uri="https://api.openai.com/v1/responses",
                                 response={"body": {"string": orjson.dumps(reply).decode()}, "status": {"code": 200}}))
    path = cassette(tmp_path, interactions)
    records, diagnostics = read(path)
    assert not diagnostics
    assert [r.output[0]["id"] for r in records] == ["msg_1", "msg_2", "msg_3"]
    prompts = [p for _r, p, _a in engine.iter_turns(str(path), engine.Options())]
    assert [m.role for m in prompts[2].messages] == ["user", "assistant", "user", "assistant", "user"]
    result = run(path)
    assert result.findings == [] and result.summary.threads == 1
