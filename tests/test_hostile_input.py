"""Hostile input: property-based tests over every reader and the engine.

Whatever the bytes, ``engine.run`` returns: no exception escapes, no internal error is reported,
every bad line or record costs a diagnostic with its file and line (or entry), and no record is
silently dropped: records = requests + skipped + invalid, and every diagnostic is an unreadable
line or document or an invalid request (``summary.unreadable`` + ``summary.invalid``).
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import orjson
import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prefixlint import engine
from prefixlint.rules import RULES

SETTINGS = settings(
    max_examples=int(os.environ.get("HYP_EXAMPLES", 25)), deadline=None, derandomize=not os.environ.get("HYP_DB"),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
MESSAGE = st.fixed_dictionaries({"role": st.sampled_from(["user", "assistant", "system", "tool", 3, None]),
                                 "content": json_values})
# Near misses of real requests, so that the providers stage sees hostile shapes too.
request_like = st.one_of(
    st.fixed_dictionaries({"model": st.sampled_from(["claude-sonnet-4-5", "gpt-4o", 7, None]),
                           "messages": st.lists(MESSAGE, max_size=3) | json_values},
                          optional={"system": json_values, "tools": json_values, "max_tokens": json_values,
                                    "input": json_values, "tool_choice": json_values}),
    st.fixed_dictionaries({"request": json_values | st.fixed_dictionaries({"body": json_values | st.text(max_size=30)}),
                           "response": json_values}),
    st.fixed_dictionaries({"contents": json_values}, optional={"systemInstruction": json_values}),
)
records = json_values | request_like
bad_lines = st.one_of(
    st.sampled_from([b'{"model": "gpt-4o", "messages": [', b"NaN", b"[Infinity]", b'{"a": -Infinity}', b"{'a': 1}",
                     b'{"a": 1} trailing', b"\xff\xfe{}", b'{"s": "\xc3\x28"}', b'"\\ud800"', b"[1e400]", b"}"]),
    records.map(lambda r: json.dumps(r).encode()[:-1] or b"{"),  # truncated
)


def lint(path: Path | str, **options) -> engine.RunResult:
    return engine.run([str(path)], RULES, engine.Options(**options))


def assert_accounted(result: engine.RunResult, path: Path | None = None) -> None:
    """Nothing escaped, nothing internal went wrong, and every record and bad line is counted."""
    s = result.summary
    assert s.requests + s.invalid + sum(s.skipped.values()) == s.records
    internal = [str(d) for d in result.diagnostics if "internal error" in d.message]
    assert not internal, internal
    if not result.input_error:
        assert len(result.diagnostics) == s.unreadable + s.invalid, [str(d) for d in result.diagnostics]
    for d in result.diagnostics:
        if path is not None:
            assert d.origin.file == str(path)


def nonblank(lines: list[bytes]) -> list[int]:
    """1-based numbers of the lines a reader reads as records (not blank)."""
    return [i for i, line in enumerate(lines, 1) if line.strip()]


def assert_lines(result: engine.RunResult, lines: list[bytes], bad: set[int]) -> None:
    s = result.summary
    assert s.records + s.unreadable == len(nonblank(lines))
    flagged = {d.origin.line for d in result.diagnostics}
    assert bad <= flagged, (bad, [str(d) for d in result.diagnostics])


@SETTINGS
@given(st.lists(st.tuples(st.booleans(), records, bad_lines), min_size=1, max_size=8))
def test_jsonl_of_arbitrary_records_and_bad_lines(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("h") / "log.jsonl"
    lines, bad = [], set()
    for i, (is_bad, record, line) in enumerate(rows, 1):
        if is_bad:
            bad.add(i)
            lines.append(line)
        else:
            lines.append(json.dumps(record).encode())  # stdlib: big integers and all
    path.write_bytes(b"\n".join(lines) + b"\n")
    result = lint(path)
    assert_accounted(result, path)
    bad = {i for i in bad if lines[i - 1].strip() and not _parses(lines[i - 1])}  # a truncation may still parse
    whole = b"\n".join(lines).lstrip()
    if whole.startswith(b"[") and _parses(whole):
        return  # one JSON array document, not JSON Lines
    first = lines[0].strip()
    if 1 in bad and (first.startswith(b"{") or (first.startswith(b"[") and not first.endswith(b"]"))):
        # a bad first '{' (or open '[') line: maybe one broken pretty-printed document, one diagnostic
        assert result.diagnostics and result.diagnostics[0].origin.line == 1
        return
    assert_lines(result, lines, bad)


def _parses(data: bytes) -> bool:
    try:
        orjson.loads(data)
    except orjson.JSONDecodeError:
        return False
    return True


@SETTINGS
@given(st.lists(records, max_size=8))
def test_json_array_of_arbitrary_records(tmp_path_factory, values):
    path = tmp_path_factory.mktemp("h") / "log.json"
    path.write_bytes(json.dumps(values, indent=1).encode())
    result = lint(path)
    assert_accounted(result, path)
    assert result.summary.records == len(values) and result.summary.unreadable == 0
    for d in result.diagnostics:
        assert d.origin.entry is not None


@SETTINGS
@given(st.binary(max_size=2000), st.sampled_from(["x.jsonl", "x.json", "x.har", "x.ndjson"]))
def test_binary_files(tmp_path_factory, data, name):
    path = tmp_path_factory.mktemp("h") / name
    path.write_bytes(data)
    result = lint(path)
    assert_accounted(result, path)
    if name != "x.har" and not data.lstrip().startswith((b"[", b"{")):
        assert_lines(result, data.split(b"\n"), set())
    for d in result.diagnostics:
        assert d.origin.line is not None or d.origin.entry is not None


@SETTINGS
@given(st.binary(max_size=600), st.sampled_from([".jsonl.gz", ".jsonl.zst", ".yaml.gz"]))
def test_random_bytes_compressed(tmp_path_factory, data, suffix):
    path = tmp_path_factory.mktemp("h") / f"x{suffix}"
    path.write_bytes(data)
    assert_accounted(lint(path), path)


@SETTINGS
@given(st.lists(records, min_size=1, max_size=6), st.sampled_from([".gz", ".zst"]), st.floats(0, 1))
def test_truncated_compressed_logs(tmp_path_factory, values, suffix, cut):
    raw = b"".join(json.dumps(v).encode() + b"\n" for v in values)
    packed = gzip.compress(raw) if suffix == ".gz" else zstandard.ZstdCompressor().compress(raw)
    path = tmp_path_factory.mktemp("h") / f"x.jsonl{suffix}"
    path.write_bytes(packed[: int(len(packed) * cut)])
    result = lint(path)
    assert_accounted(result, path)
    assert result.summary.records + result.summary.unreadable <= len(values) + 1


@pytest.mark.parametrize(
    "data",
    [b"[" * 100_000, b'{"a":' * 100_000, b'{"model": "x", "messages": ' + b"[" * 100_000,
     b"[" * 1000 + b"]" * 1000, b'{"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": '
     + b"[" * 1000 + b"]" * 1000 + b"}]}"],
    ids=["list", "object", "in-request", "deep-but-valid", "deep-valid-content"],
)
@pytest.mark.parametrize("name", ["x.jsonl", "x.json", "x.har"])
def test_deep_nesting(tmp_path, data, name):
    path = tmp_path / name
    path.write_bytes(data + b"\n" + b'{"model": "gpt-4o", "messages": []}\n')
    result = lint(path)
    assert_accounted(result, path)
    assert all(d.origin.line is not None or d.origin.entry is not None for d in result.diagnostics)
    if data.startswith(b"[" * 1000 + b"]"):
        return
    assert result.diagnostics, "a nesting orjson refuses is a diagnostic"


def test_duplicate_keys_and_literals(tmp_path):
    path = tmp_path / "x.jsonl"
    lines = [b'{"model": "gpt-4o", "model": "gpt-4o-mini", "messages": [], "messages": [{"role": "user", "content": "hi"}]}',
             b'{"model": NaN}', b"Infinity", b"-Infinity", b'{"a": 1, "a": {"a": [1, 1, 1]}}']
    path.write_bytes(b"\n".join(lines))
    result = lint(path)
    assert_accounted(result, path)
    assert_lines(result, lines, {2, 3, 4})


def _big_line(size: int) -> bytes:
    text = "a" * size
    return orjson.dumps({"model": "claude-sonnet-4-5", "max_tokens": 10,
                         "messages": [{"role": "user", "content": text}]})


def _large_single_line(tmp_path: Path, size: int) -> None:
    path = tmp_path / "x.jsonl"
    big = _big_line(size)
    with path.open("wb") as out:
        out.write(big + b"\n")
        out.write(big[:-2] + b"\n")  # the same, truncated: a diagnostic, not a crash
        out.write(big + b"\n")
    result = lint(path)
    assert_accounted(result, path)
    assert result.summary.requests == 2 and result.summary.unreadable == 1
    assert [d.origin.line for d in result.diagnostics] == [2]


def test_large_single_line(tmp_path):
    _large_single_line(tmp_path, 20 * 2**20)


@pytest.mark.slow
def test_very_large_single_line(tmp_path):
    _large_single_line(tmp_path, 200 * 2**20)


@pytest.mark.parametrize("name", ["x.jsonl", "x.json", "x.har", "x.ndjson", "x.jsonl.gz", "x.jsonl.zst", "x.yaml"])
def test_empty_files(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"")
    result = lint(path)
    assert_accounted(result, path)
    assert result.summary.records == 0 and result.exit_code("error") in (0, 2)
    (tmp_path / "blank.jsonl").write_bytes(b"\n \n\t\n")
    assert lint(tmp_path / "blank.jsonl").summary.records == 0


YAML_BOMB = b"""interactions: &a
- &b [lol, lol, lol, lol, lol, lol, lol, lol, lol]
- &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
- &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
- &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
- &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
- &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
- &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
- &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
"""


@pytest.mark.parametrize(
    "data",
    [YAML_BOMB, b"interactions:\n- " + b"[" * 100_000, b"interactions:\n" + b"".join(b"  " * i + b"a:\n" for i in range(5000)),
     b"interactions: &x [*x]\n", b"interactions: !!python/object/apply:os.system ['echo pwned']\n",
     b"interactions:\n- request: {body: !!binary 'not base64!!'}\n", b"interactions: [\x00\xff\xfe]\n",
     b"interactions:\n- request:\n    method: POST\n    uri: https://api.anthropic.com/v1/messages\n    body: '{\"model\": '\n"],
    ids=["billion-laughs", "deep-flow", "deep-block", "recursive-alias", "python-tag", "bad-binary", "binary-bytes",
         "truncated-body"],
)
def test_hostile_cassettes(tmp_path, data):
    path = tmp_path / "cassette.yaml"
    path.write_bytes(data)
    result = lint(path)
    assert_accounted(result, path)
    assert result.diagnostics or result.summary.records


@SETTINGS
@given(st.lists(st.one_of(records, st.fixed_dictionaries({"request": request_like | json_values,
                                                          "response": json_values})), max_size=6))
def test_cassettes_of_arbitrary_interactions(tmp_path_factory, interactions):
    path = tmp_path_factory.mktemp("h") / "cassette.yaml"
    path.write_text(json.dumps({"interactions": interactions, "version": 1}))  # JSON is YAML
    result = lint(path)
    assert_accounted(result, path)
    assert result.summary.records + result.summary.unreadable >= min(1, len(interactions)) - (not interactions)


@SETTINGS
@given(st.binary(max_size=400))
def test_cassette_of_random_bytes(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("h") / "cassette.yaml"
    path.write_bytes(b"interactions:\n" + data)
    assert_accounted(lint(path), path)


@SETTINGS
@given(st.lists(json_values | st.fixed_dictionaries(
    {"request": st.fixed_dictionaries({"url": st.sampled_from(["https://api.openai.com/v1/chat/completions", "x"]),
                                       "method": st.sampled_from(["POST", "GET"]),
                                       "postData": st.fixed_dictionaries({"text": st.text(max_size=30)}) | json_values}),
     "response": json_values}), max_size=6))
def test_har_of_arbitrary_entries(tmp_path_factory, entries):
    path = tmp_path_factory.mktemp("h") / "x.har"
    path.write_text(json.dumps({"log": {"version": "1.2", "entries": entries}}))
    result = lint(path)
    assert_accounted(result, path)
    assert result.summary.records == len(entries)


@SETTINGS
@given(st.lists(st.tuples(st.booleans(), json_values, bad_lines), max_size=6))
def test_claude_code_transcripts(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("h") / "session.jsonl"
    head = {"sessionId": "s", "uuid": "u", "type": "assistant",
            "message": {"model": "claude-sonnet-4-5", "id": "m1", "usage": {"input_tokens": 5}}}
    lines, bad = [orjson.dumps(head)], set()
    for i, (is_bad, value, line) in enumerate(rows, 2):
        if is_bad:
            bad.add(i)
            lines.append(line)
        else:
            lines.append(json.dumps({**head, "uuid": str(i), "message": value}).encode())
    path.write_bytes(b"\n".join(lines) + b"\n")
    result = lint(path)
    assert_accounted(result, path)
    assert_lines(result, lines, {i for i in bad if lines[i - 1].strip() and not _parses(lines[i - 1])})


# --- harness configurations ------------------------------------------------------------------

HARNESS_MARKER = {"prefixlint": "harness/v1"}
harness_like = st.fixed_dictionaries(
    {"model": st.sampled_from(["claude-sonnet-4-5", "gpt-5", "", 3]) | json_values},
    optional={
        "provider": st.sampled_from(["anthropic", "openai", "x"]),
        "system": st.text(max_size=40) | st.sampled_from(["{{ now }}", "{{ x | random }}", "{a}{", "${", "%(a)s",
                                                          "{{ 1/0 }}", "{% for %}", "{0}", "{a.b[c]}"])
                  | st.fixed_dictionaries({"template": st.text(max_size=30)}) | json_values,
        "variables": st.dictionaries(st.text(max_size=6), st.fixed_dictionaries(
            {"lifetime": st.sampled_from(["static", "per-session", "per-request", "x"])},
            optional={"example": scalars})) | json_values,
        "tools": st.lists(st.fixed_dictionaries({"name": st.text(max_size=6)}, optional={"input_schema": json_values})
                          | st.fixed_dictionaries({"file": st.text(max_size=6)}) | json_values, max_size=3),
        "tool_order": st.sampled_from(["declared", "sorted", "unordered", 1]),
        "cache": st.fixed_dictionaries({}, optional={
            "strategy": st.sampled_from(["none", "automatic", "breakpoints", "x"]),
            "breakpoints": st.lists(st.fixed_dictionaries(
                {"at": st.sampled_from(["tools", "system", "last-message", "last-user-message", "messages"])},
                optional={"role": st.sampled_from(["user", "assistant"]), "index": st.integers(-20, 20),
                          "ttl": st.sampled_from(["5m", "1h"])}), max_size=6),
            "prompt_cache_key": st.text(max_size=10)}) | json_values,
        "settings": st.dictionaries(st.text(max_size=8), json_values, max_size=3) | json_values,
        "history": st.fixed_dictionaries({"window": st.integers(-2, 12)}) | json_values,
        "assume": st.fixed_dictionaries({}, optional={"system_tokens": st.integers(-1, 3000),
                                                      "tools": st.integers(-1, 6)}) | json_values,
    },
)


@SETTINGS
@given(harness_like)
def test_harness_configurations_of_any_shape(tmp_path_factory, doc):
    path = tmp_path_factory.mktemp("h") / "agent.harness.json"
    path.write_text(json.dumps({**HARNESS_MARKER, **doc}))
    result = lint(path)
    assert_accounted(result, path)
    assert result.summary.records in (0, 12)  # rendered whole, or one diagnostic
    assert (result.summary.records == 0) == bool(result.diagnostics)


@SETTINGS
@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_harness_yaml_with_arbitrary_bytes_after_the_marker(tmp_path_factory, tail):
    path = tmp_path_factory.mktemp("h") / "agent.harness.yaml"
    path.write_bytes(b"prefixlint: harness/v1\nmodel: claude-sonnet-4-5\n" + tail)
    result = lint(path)
    assert_accounted(result, path)
    assert all(d.origin.line is None or d.origin.line >= 1 for d in result.diagnostics)


@SETTINGS
@given(st.lists(st.tuples(st.text(max_size=30), st.text(max_size=30)), max_size=8),
       st.lists(json_values | st.fixed_dictionaries({"model_name": st.text(max_size=5), "litellm_params": json_values
                                                     | st.fixed_dictionaries({"model": st.sampled_from(
                                                         ["anthropic/claude-sonnet-4-5", "gpt-4o", "x/y", ""]),
                                                         "cache_control_injection_points": json_values})}), max_size=4))
def test_spring_and_litellm_configurations_of_any_shape(tmp_path_factory, pairs, entries):
    folder = tmp_path_factory.mktemp("h")
    props = folder / "application.properties"
    lines = ["spring.ai.anthropic.chat.options.model=claude-sonnet-4-5"]
    lines += [f"spring.ai.anthropic.chat.options.{k}={v}".replace("\n", " ") for k, v in pairs]
    props.write_text("\n".join(lines) + "\n")
    litellm = folder / "config.yaml"
    litellm.write_text(json.dumps({"model_list": entries}))
    for path in (props, litellm):
        result = lint(path)
        assert_accounted(result, path)
