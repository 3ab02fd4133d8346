"""claude-trace logs, HAR captures and .zst logs: records, exact findings, skips, and no leaked secret."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from conftest import CORPUS, FIXTURES
from prefixlint import engine, sources
from prefixlint.cli import app
from prefixlint.model import Diagnostic
from prefixlint.rules import RULES
from prefixlint.sources import har

zstandard = pytest.importorskip("zstandard")

TRACE = FIXTURES / "traces" / "claude-trace.jsonl"
HAR = FIXTURES / "har" / "openai-chat.har"

# (code, file name, line, entry, thread, turn, pointer)
TRACE_FINDINGS = [
    ("PL101", "claude-trace.jsonl", 5, None, "T2", 3, "/tools/2"),
]
HAR_FINDINGS = [
    ("PL202", "openai-chat.har", None, 1, "T1", 1, "/messages/0"),
    ("PL201", "openai-chat.har", None, 3, "T1", 2, "/messages/0"),
    ("PL608", "openai-chat.har", None, 3, "T1", 2, None),
]


def run(*paths: Path) -> engine.RunResult:
    return engine.run([str(p) for p in paths], RULES, engine.Options())


def brief(result: engine.RunResult) -> list[tuple]:
    return [
        (f.code, Path(f.location.file).name.split(".")[0] + _suffix(f.location.file), f.location.line,
         f.location.entry, f.location.thread, f.location.turn, f.location.pointer)
        for f in result.findings
    ]


def _suffix(name: str) -> str:
    """The uncompressed suffix: compressed copies compare equal to the fixture."""
    for ext in (".jsonl", ".har"):
        if ext in Path(name).name:
            return ext
    return ""


def records(path: Path) -> list:
    diagnostics: list[Diagnostic] = []
    out = list(sources.read(str(path), diagnostics))
    assert diagnostics == []
    return out


def zst(src: Path, dst: Path) -> Path:
    dst.write_bytes(zstandard.ZstdCompressor(level=3).compress(src.read_bytes()))
    return dst


def gz(src: Path, dst: Path) -> Path:
    dst.write_bytes(gzip.compress(src.read_bytes()))
    return dst


# -- claude-trace ----------------------------------------------------------------------------


def test_claude_trace_records_usage_timestamps_and_skips():
    recs = records(TRACE)
    assert [r.origin.line for r in recs] == [1, 2, 3, 4, 5, 6, 7]
    title, first, counting, second, third, failed, orphan = recs
    # JSON response body: usage and id
    assert title.response_id == "msg_title" and title.usage["input_tokens"] == 40
    # SSE body_raw: message_start usage updated by the final message_delta
    assert first.response_id == "msg_01"
    assert first.usage == {"input_tokens": 20, "cache_creation_input_tokens": 2100, "cache_read_input_tokens": 0,
                           "output_tokens": 30}
    assert second.usage["cache_read_input_tokens"] == 2100 and third.usage["cache_creation_input_tokens"] == 2300
    assert counting.url.endswith("/v1/messages/count_tokens?beta=true")
    # the request's own timestamp wins over logged_at; milliseconds in some claude-trace versions
    assert first.timestamp == "1754042401.0"
    assert second.timestamp == "1754042410000"
    assert failed.skip == "request failed (HTTP 4xx)"
    assert orphan.skip is None and orphan.usage is None and orphan.response_id is None
    assert all(r.url.startswith("https://api.anthropic.com/v1/messages") for r in recs)


def test_claude_trace_findings_and_summary():
    result = run(TRACE)
    assert result.diagnostics == []
    assert brief(result) == TRACE_FINDINGS
    assert "removed `Edit`" in result.findings[0].message
    summary = result.summary
    assert (summary.records, summary.requests, summary.threads) == (7, 5, 2)
    assert dict(summary.skipped) == {"token-counting call": 1, "request failed (HTTP 4xx)": 1}
    main = next(t for t in result.threads if t.thread == "T2")
    assert (main.requests, main.observed_requests) == (4, 3)  # the orphaned request has no usage


def test_envelope_with_get_method_is_skipped(tmp_path):
    line = orjson.loads(TRACE.read_bytes().splitlines()[1])
    line["request"]["method"] = "GET"
    log = tmp_path / "t.jsonl"
    log.write_bytes(orjson.dumps(line) + b"\n")
    (rec,) = records(log)
    assert rec.skip == "GET request"


# -- HAR -------------------------------------------------------------------------------------


def test_har_records():
    recs = records(HAR)
    assert [r.origin.entry for r in recs] == [0, 1, 2, 3]
    assert [r.origin.line for r in recs] == [None] * 4
    assert [r.skip for r in recs] == [har.NOT_LLM, None, har.NOT_LLM, None]
    first, second = recs[1], recs[3]
    # base64 JSON content, then an SSE stream whose last chunk has the usage
    assert first.response_id == "chatcmpl-1" and first.usage["prompt_tokens"] == 620
    assert second.response_id == "chatcmpl-2" and second.usage["prompt_tokens"] == 640
    assert first.timestamp == "2025-08-01T10:00:01.000Z"
    assert first.headers["authorization"] == "[REDACTED]"
    assert first.body["model"] == "gpt-4.1-mini"


def test_har_findings_and_summary():
    result = run(HAR)
    assert result.diagnostics == []
    assert brief(result) == HAR_FINDINGS
    summary = result.summary
    assert (summary.records, summary.requests, summary.threads) == (4, 2, 1)
    assert dict(summary.skipped) == {"not an LLM API call": 2}


@pytest.mark.parametrize(
    "url, llm",
    [
        ("https://api.anthropic.com/v1/messages?beta=true", True),
        ("https://api.anthropic.com/v1/messages/count_tokens", True),  # skipped by the providers stage
        ("https://api.openai.com/v1/chat/completions", True),
        ("http://localhost:11434/v1/chat/completions/", True),
        ("https://api.openai.com/v1/responses", True),
        ("https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent?key=x", True),
        ("https://aiplatform.googleapis.com/v1/projects/p/models/gemini-2.5-pro:streamGenerateContent?alt=sse", True),
        ("https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-3-5-sonnet/converse", True),
        ("https://bedrock-runtime.us-east-1.amazonaws.com/model/m/invoke-with-response-stream", True),
        ("https://api.openai.com/v1/embeddings", False),
        ("https://api.openai.com/v1/models", False),
        ("https://example.com/messages", False),
        ("https://example.com/app.js", False),
    ],
)
def test_har_llm_urls(url, llm):
    assert har.is_llm_url(url) is llm


def test_har_entries_skipped_with_reason(tmp_path):
    doc = orjson.loads(HAR.read_bytes())
    llm = doc["log"]["entries"][1]
    get = orjson.loads(orjson.dumps(llm))
    get["request"]["method"] = "GET"
    failed = orjson.loads(orjson.dumps(llm))
    failed["response"]["status"] = 503
    not_json = orjson.loads(orjson.dumps(llm))
    not_json["request"]["postData"]["text"] = "a=b"
    no_body = orjson.loads(orjson.dumps(llm))
    del no_body["request"]["postData"]
    doc["log"]["entries"] = [get, failed, not_json, no_body, "junk"]
    path = tmp_path / "capture.har"
    path.write_bytes(orjson.dumps(doc))  # minified: one line
    assert [r.skip for r in records(path)] == [
        "GET request", "request failed (HTTP 5xx)", "request body is not JSON", "no request body",
        "not an HTTP request",
    ]


def test_har_detected_by_content_under_another_name(tmp_path):
    path = tmp_path / "capture.json"
    shutil.copy(HAR, path)
    assert brief(run(path)) == [(c, "capture", *rest) for c, _, *rest in HAR_FINDINGS]


def test_har_suffix_that_is_not_a_har(tmp_path):
    path = tmp_path / "x.har"
    path.write_text('{"model": "m"}')
    recs = records(path)
    assert len(recs) == 1 and recs[0].body == {"model": "m"}


# -- compressed files ------------------------------------------------------------------------


@pytest.mark.parametrize("compress, ext", [(zst, ".zst"), (gz, ".gz")])
def test_compressed_copies_give_the_same_findings(tmp_path, compress, ext):
    trace = compress(TRACE, tmp_path / f"claude-trace.jsonl{ext}")
    capture = compress(HAR, tmp_path / f"openai-chat.har{ext}")
    assert brief(run(trace)) == TRACE_FINDINGS
    assert brief(run(capture)) == HAR_FINDINGS
    assert sorted(Path(p).name for p in sources.discover([str(tmp_path)])) == sorted([trace.name, capture.name])


def test_discover_walks_har_and_zst(tmp_path):
    for name in ("a.har", "b.jsonl.zst", "c.ndjson.gz", "d.har.zst", "e.txt", "f.zst"):
        (tmp_path / name).write_bytes(b"")
    assert [Path(p).name for p in sources.discover([str(tmp_path)])] == ["a.har", "b.jsonl.zst", "c.ndjson.gz", "d.har.zst"]


def test_corrupt_zst_is_a_diagnostic(tmp_path):
    path = tmp_path / "bad.jsonl.zst"
    path.write_bytes(b"not zstd at all\n")
    diagnostics: list[Diagnostic] = []
    assert list(sources.read(str(path), diagnostics)) == []
    assert len(diagnostics) == 1 and "cannot read" in diagnostics[0].message


def test_corpus_zst_first_lines_stream():
    log = CORPUS / "agent-loops" / "mini-swe-agent-deepseek.jsonl.zst"
    if not log.exists():
        pytest.skip("../shared/corpus is not present")
    diagnostics: list[Diagnostic] = []
    reader = sources.read(str(log), diagnostics)
    try:
        first = [next(reader) for _ in range(200)]
    finally:
        reader.close()
    assert diagnostics == []
    assert [r.origin.line for r in first] == list(range(1, 201))
    assert all(isinstance(r.body, dict) and r.body.get("messages") for r in first)


# -- secrets ---------------------------------------------------------------------------------

ANTHROPIC = "sk-ant-api03-Xq3vT9bK2mN8pL5rW1yZ7cF4hJ6dG0sA-_uE2iO9nB3vC8xM1kQ7wR5tY4_pL0aZ9sD8fG7hJ6kL5zXcVbNmAA"
OPENAI = "sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56Qr78St90Uv12Wx34Yz56_-Ab12Cd34"
GOOGLE = "AIzaSyD4fG7hJ9kL2mN5pQ8rS1tU3vW6xY0zA2b"
COOKIE = "sessionid=Zm9vYmFyYmF6cXV4cXV1eDEyMzQ1Njc4OTA"
SECRETS = (ANTHROPIC, OPENAI, GOOGLE, COOKIE, "Zm9vYmFyYmF6cXV4cXV1eDEyMzQ1Njc4OTA")


def _planted_trace(path: Path) -> Path:
    out = []
    for i, raw in enumerate(TRACE.read_bytes().splitlines()):
        line = orjson.loads(raw)
        request = line["request"]
        request["headers"] = {**request["headers"], "x-api-key": ANTHROPIC, "authorization": f"Bearer {ANTHROPIC}",
                              "cookie": COOKIE}
        request["url"] += f"&key={GOOGLE}"
        body = request["body"]
        if len(body.get("system", [])) == 1 and "Claude Code" in body["system"][0]["text"]:
            text = body["system"][0]["text"]
            body["system"] = [{**body["system"][0],
                               "text": f"{text} Use ANTHROPIC_API_KEY={ANTHROPIC} now. Time: 2025-08-01T10:00:{i:02d}Z"}]
        out.append(orjson.dumps(line))
    path.write_bytes(b"\n".join(out) + b"\n")
    return path


def _planted_har(path: Path) -> Path:
    doc = orjson.loads(HAR.read_bytes())
    for i, entry in enumerate(doc["log"]["entries"]):
        request = entry["request"]
        request["url"] += f"?key={GOOGLE}"
        request["headers"] = [*request["headers"], {"name": "authorization", "value": f"Bearer {OPENAI}"},
                              {"name": "x-goog-api-key", "value": GOOGLE}, {"name": "cookie", "value": COOKIE}]
        request["cookies"] = [{"name": "sessionid", "value": COOKIE.split("=", 1)[1]}]
        post = request.get("postData")
        if post and "gpt" in post["text"]:
            body = orjson.loads(post["text"])
            body["messages"][0]["content"] += f" Key: {OPENAI} (entry {i})."
            post["text"] = orjson.dumps(body).decode()
    path.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
    return path


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github", "markdown", "html"])
def test_no_secret_in_any_report(tmp_path, fmt):
    trace = _planted_trace(tmp_path / "trace.jsonl")
    capture = _planted_har(tmp_path / "capture.har")
    # the planted secrets do reach the records (so the test can fail), and findings with excerpts
    assert any(ANTHROPIC in orjson.dumps(r.body).decode() for r in records(trace))
    result = run(trace, capture)
    assert {f.code for f in result.findings} >= {"PL101", "PL201"}
    assert any(f.excerpt for f in result.findings)
    runner = CliRunner()
    out = runner.invoke(app, ["check", str(trace), str(capture), "--format", fmt, "--fail-on", "never"])
    assert out.exit_code == 0, out.output
    assert out.output.strip()
    for secret in SECRETS:
        assert secret not in out.output, (fmt, secret)
    if fmt in ("text", "json"):
        assert "[REDACTED]" in out.output  # the excerpt around the changed system prompt
