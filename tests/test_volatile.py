"""Tests for prefixlint.volatile: detection of values that break prompt caching."""

from __future__ import annotations

import dataclasses
import time

import pytest

from prefixlint.volatile import KINDS, Volatile, excerpt, find_volatile


def _only(text: str) -> Volatile:
    found = find_volatile(text)
    assert len(found) == 1, found
    return found[0]


# (text, kind, value, severity) -- the value occurs exactly once in the text and
# is the only finding; offsets are checked against its position.
POSITIVE = [
    # ISO 8601 date-times
    pytest.param("2026-11-24T10:42:03Z", "datetime", "2026-11-24T10:42:03Z", "error", id="iso-z"),
    pytest.param("2026-11-24T10:42:03.123456+00:00", "datetime", "2026-11-24T10:42:03.123456+00:00", "error",
                 id="iso-micro-offset"),
    pytest.param("2026-11-24 10:42:03", "datetime", "2026-11-24 10:42:03", "error", id="iso-space"),
    pytest.param("now=2026-11-24T10:42Z;", "datetime", "2026-11-24T10:42Z", "error", id="iso-minutes"),
    pytest.param("at 2026-11-24T10:42:03-0800 sharp", "datetime", "2026-11-24T10:42:03-0800", "error",
                 id="iso-compact-offset"),
    pytest.param("2026-11-24 10:42:03,123 INFO started", "datetime", "2026-11-24 10:42:03,123", "error",
                 id="python-logging"),
    pytest.param("backup_20261124T104203Z.tar", "datetime", "20261124T104203Z", "error", id="iso-basic"),
    # RFC 2822 / HTTP dates / log formats
    pytest.param("Date: Tue, 24 Nov 2026 10:42:03 +0000", "datetime", "Tue, 24 Nov 2026 10:42:03 +0000", "error",
                 id="rfc2822"),
    pytest.param("Tue, 24 Nov 2026 10:42:03 GMT", "datetime", "Tue, 24 Nov 2026 10:42:03 GMT", "error",
                 id="http-date"),
    pytest.param('[24/Nov/2026:10:42:03 +0000] "GET /"', "datetime", "24/Nov/2026:10:42:03 +0000", "error",
                 id="common-log-format"),
    # dates alone
    pytest.param("5/29/2025", "date", "5/29/2025", "warning", id="us-date"),
    pytest.param("05/29/2025", "date", "05/29/2025", "warning", id="us-date-padded"),
    pytest.param("29.05.2025", "date", "29.05.2025", "warning", id="dotted-date"),
    pytest.param("2026-11-24", "date", "2026-11-24", "warning", id="iso-date"),
    pytest.param("2026/11/24", "date", "2026/11/24", "warning", id="ymd-slash-date"),
    pytest.param("Monday, November 24, 2026", "date", "Monday, November 24, 2026", "warning", id="long-date-weekday"),
    pytest.param("November 24, 2026", "date", "November 24, 2026", "warning", id="long-date"),
    pytest.param("Nov. 24th, 2026", "date", "Nov. 24th, 2026", "warning", id="abbreviated-ordinal-date"),
    pytest.param("24 November 2026", "date", "24 November 2026", "warning", id="day-month-year"),
    pytest.param("the 24th of November, 2026.", "date", "24th of November, 2026", "warning", id="day-of-month"),
    pytest.param("logs/report-2026-11-24.md", "date", "2026-11-24", "warning", id="date-in-path"),
    # a date followed by a time of day is one datetime
    pytest.param("5/29/2025 10:42:03", "datetime", "5/29/2025 10:42:03", "error", id="us-datetime"),
    pytest.param("Monday, November 24, 2026 at 10:42 AM", "datetime", "Monday, November 24, 2026 at 10:42 AM",
                 "error", id="long-datetime-ampm"),
    pytest.param("November 24, 2026, 10:42 p.m. UTC", "datetime", "November 24, 2026, 10:42 p.m. UTC", "error",
                 id="long-datetime-utc"),
    pytest.param("2026-11-24 10:42", "datetime", "2026-11-24 10:42", "error", id="date-hh-mm"),
    # time of day alone
    pytest.param("10:42:03", "time", "10:42:03", "error", id="time-seconds"),
    pytest.param("10:42:03.123", "time", "10:42:03.123", "error", id="time-millis"),
    pytest.param("10:42 AM", "time", "10:42 AM", "error", id="time-am"),
    pytest.param("10:42 pm", "time", "10:42 pm", "error", id="time-pm"),
    pytest.param("at 9:05PM today", "time", "9:05PM", "error", id="time-pm-attached"),
    pytest.param("Current time: 23:59:59 UTC.", "time", "23:59:59 UTC", "error", id="time-utc"),
    # epoch
    pytest.param("ts=1732444923 end", "epoch", "1732444923", "error", id="epoch-seconds"),
    pytest.param('{"created": 1732444923}', "epoch", "1732444923", "error", id="epoch-json"),
    pytest.param("1732444923123", "epoch", "1732444923123", "error", id="epoch-millis"),
    pytest.param("time.time() = 1732444923.123456", "epoch", "1732444923.123456", "error", id="epoch-float"),
    pytest.param("cache_1732444923_v", "epoch", "1732444923", "error", id="epoch-underscored"),
    pytest.param("1732444923000000", "epoch", "1732444923000000", "error", id="epoch-micros"),
    pytest.param("1732444923000000001", "epoch", "1732444923000000001", "error", id="epoch-nanos"),
    # UUIDs
    pytest.param("id 550e8400-e29b-41d4-a716-446655440000.", "uuid", "550e8400-e29b-41d4-a716-446655440000",
                 "error", id="uuid"),
    pytest.param("{550E8400-E29B-41D4-A716-446655440000}", "uuid", "550E8400-E29B-41D4-A716-446655440000", "error",
                 id="uuid-upper"),
    # request ids
    pytest.param("req_011CPrxYzAbCdEf12", "request-id", "req_011CPrxYzAbCdEf12", "error", id="req"),
    pytest.param("msg_01XFDUDYJgAACzvnptvVoYEL", "request-id", "msg_01XFDUDYJgAACzvnptvVoYEL", "error", id="msg"),
    pytest.param("id: chatcmpl-9xAbCdEfGh12345", "request-id", "chatcmpl-9xAbCdEfGh12345", "error", id="chatcmpl"),
    pytest.param("resp_67ccd2bed1ec8190b14f964abc054267", "request-id", "resp_67ccd2bed1ec8190b14f964abc054267",
                 "error", id="resp"),
    pytest.param("run_abc123def456ghi", "request-id", "run_abc123def456ghi", "error", id="run"),
    pytest.param("call_abc123DEF456ghi", "request-id", "call_abc123DEF456ghi", "error", id="call"),
    pytest.param("toolu_01A09q90qw90lq917835lq9", "request-id", "toolu_01A09q90qw90lq917835lq9", "error",
                 id="toolu"),
    pytest.param("request_id: abc123def", "request-id", "abc123def", "error", id="request_id-colon"),
    pytest.param("X-Request-Id: 7f3a9c2e", "request-id", "7f3a9c2e", "error", id="x-request-id-header"),
    pytest.param('{"request_id": "a1b2c3d4e5"}', "request-id", "a1b2c3d4e5", "error", id="request_id-json"),
    pytest.param("request id=ZX81-2024-q", "request-id", "ZX81-2024-q", "error", id="request-id-space"),
    # hex nonces and hashes
    pytest.param("nonce: 9f86d081884c7d65", "hex-nonce", "9f86d081884c7d65", "error", id="hex-16"),
    pytest.param("etag d41d8cd98f00b204e9800998ecf8427e", "hex-nonce", "d41d8cd98f00b204e9800998ecf8427e", "error",
                 id="hex-md5"),
    pytest.param("commit da39a3ee5e6b4b0d3255bfef95601890afd80709", "hex-nonce",
                 "da39a3ee5e6b4b0d3255bfef95601890afd80709", "error", id="hex-sha1"),
    pytest.param("sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae", "hex-nonce",
                 "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae", "error", id="hex-sha256"),
    pytest.param("seed=0x9F86D081884C7D65", "hex-nonce", "0x9F86D081884C7D65", "error", id="hex-0x-upper"),
]


@pytest.mark.parametrize(("text", "kind", "value", "severity"), POSITIVE)
def test_detects(text: str, kind: str, value: str, severity: str) -> None:
    v = _only(text)
    start = text.index(value)
    assert (v.kind, v.value, v.severity) == (kind, value, severity)
    assert (v.start, v.end) == (start, start + len(value))
    assert text[v.start:v.end] == v.value
    assert v.kind in KINDS
    assert v.label


@pytest.mark.parametrize(("text", "label"), [
    ("2026-11-24T10:42:03Z", "ISO 8601 timestamp"),
    ("Tue, 24 Nov 2026 10:42:03 +0000", "RFC 2822 timestamp"),
    ("5/29/2025 10:42:03", "date and time"),
    ("10:42:03", "time of day"),
    ("November 24, 2026", "date"),
    ("1732444923", "Unix epoch seconds"),
    ("1732444923123", "Unix epoch milliseconds"),
    ("550e8400-e29b-41d4-a716-446655440000", "UUID"),
    ("msg_01XFDUDYJgAACzvnptvVoYEL", "request id"),
    ("9f86d081884c7d65", "hex nonce"),
])
def test_labels(text: str, label: str) -> None:
    assert _only(text).label == label


# Texts that must produce no finding at all.
NEGATIVE = [
    pytest.param("pip install requests==2.20.0", id="version"),
    pytest.param("requires v1.2.3 or later", id="v-version"),
    pytest.param("use python3.11 and node 20.11.1", id="python-version"),
    pytest.param("calver 2024.1.1 release", id="calver"),
    pytest.param("v1.2.2026", id="version-ending-in-year"),
    pytest.param("mix at a 3:1 ratio", id="ratio"),
    pytest.param("a 16:9 screen", id="aspect-ratio"),
    pytest.param("It is 2026 now.", id="plain-year"),
    pytest.param("(c) 2001-2026 Example Corp", id="year-range"),
    pytest.param("listen on port 8080 or 443", id="port"),
    pytest.param("localhost:8080/api", id="host-port"),
    pytest.param('File "main.py", line 628, in run', id="line-number"),
    pytest.param("pi is 3.14159265358979 and e is 2.718281828", id="decimal"),
    pytest.param("color: #ff00aa; background: #FFF;", id="css-colour"),
    pytest.param("the magic number deadbeef", id="short-hex-word"),
    pytest.param("cafebabe1234", id="short-hex"),
    pytest.param("decaffeinated facade", id="hex-letters-only"),
    pytest.param("/usr/lib/python3/dist-packages/foo/bar.py", id="path"),
    pytest.param("meeting at 10:42 in room 4", id="hh-mm-alone"),
    pytest.param("John 3:16", id="verse"),
    pytest.param("duration 00:00:00", id="zero-duration"),
    pytest.param("call_weatherservicelookup is a tool name", id="id-prefix-without-digits"),
    pytest.param("msg_short1", id="id-too-short"),
    pytest.param("request_id: {request_id}", id="request-id-placeholder"),
    pytest.param("phone +12125551234", id="phone-plus"),
    pytest.param("call +1 2125551234 or +44-2071234567", id="phone-country-code"),
    pytest.param("tel:2125551234", id="phone-tel"),
    pytest.param("1732444923.1.2", id="version-starting-with-digits"),
    pytest.param("count 12345678901234567", id="long-digit-run"),
    pytest.param("0123456789", id="ten-digits-before-2001"),
    pytest.param("9999999999", id="ten-digits-after-2050"),
    pytest.param("price $1732444923", id="currency"),
    pytest.param("ab1732444923cd", id="digits-inside-word"),
    pytest.param("1.2.1732444923", id="digits-in-version"),
    pytest.param("00000000-0000-0000-0000-000000000000", id="nil-uuid"),
    pytest.param("13:61:00 is not a time", id="invalid-minutes"),
    pytest.param("2026-13-45 is not a date", id="invalid-iso-date"),
    pytest.param("2026-11-245", id="iso-date-followed-by-digit"),
    pytest.param("IPv6 fe80::1:2:3", id="ipv6"),
    pytest.param("mac 00:1a:2b:3c:4d:5e", id="mac-address"),
    pytest.param("may 5 of them be here", id="may-as-word"),
    pytest.param("You may 24 hours later", id="month-without-year"),
    pytest.param("abcdefABCDEF0123456789", id="mixed-case-hex-is-not-hex"),
    pytest.param("", id="empty"),
]


@pytest.mark.parametrize("text", NEGATIVE)
def test_no_false_positive(text: str) -> None:
    assert find_volatile(text) == []


def test_several_findings_sorted_and_exact() -> None:
    text = (
        "You are a helpful assistant.\n"
        "Current date: 2026-11-24. Request: req_011CPrxYzAbCdEf12\n"
        "Session 550e8400-e29b-41d4-a716-446655440000 started at 10:42:03 (ts 1732444923)."
    )
    found = find_volatile(text)
    assert [(v.kind, v.start, v.end, v.value, v.severity) for v in found] == [
        ("date", 43, 53, "2026-11-24", "warning"),
        ("request-id", 64, 85, "req_011CPrxYzAbCdEf12", "error"),
        ("uuid", 94, 130, "550e8400-e29b-41d4-a716-446655440000", "error"),
        ("time", 142, 150, "10:42:03", "error"),
        ("epoch", 155, 165, "1732444923", "error"),
    ]
    for v in found:
        assert text[v.start:v.end] == v.value


def test_longest_match_wins_over_parts() -> None:
    # The date, the time and the zone are one datetime, not three findings.
    text = "Generated Tue, 24 Nov 2026 10:42:03 +0000 by the server"
    assert [(v.kind, v.start, v.end) for v in find_volatile(text)] == [("datetime", 10, 41)]


def test_request_id_preferred_over_uuid_and_hex() -> None:
    uuid = "550e8400-e29b-41d4-a716-446655440000"
    v = _only(f"request_id={uuid}")
    assert (v.kind, v.value, v.start) == ("request-id", uuid, 11)
    v = _only("request-id: 9f86d081884c7d65")
    assert (v.kind, v.value, v.start) == ("request-id", "9f86d081884c7d65", 12)


def test_provider_id_with_hex_body_is_one_request_id() -> None:
    v = _only("msg_0123456789abcdef0123")
    assert (v.kind, v.start, v.end) == ("request-id", 0, 24)


@pytest.mark.parametrize(("text", "kind"), [
    ("2026-11-24T00:00:00Z", "datetime"),
    ("2026-11-24 00:00", "datetime"),
    ("20261124T000000Z", "datetime"),
    ("1732406400", "epoch"),
    ("1732406400000", "epoch"),
])
def test_midnight_values_change_daily(text: str, kind: str) -> None:
    v = _only(text)
    assert (v.kind, v.severity, v.value) == (kind, "warning", text)
    assert "daily" in v.label


def test_results_are_non_overlapping_and_exact_on_a_mixed_corpus() -> None:
    text = "\n".join(str(p.values[0]) for p in POSITIVE) + "\n" + "\n".join(str(p.values[0]) for p in NEGATIVE)
    found = find_volatile(text)
    assert len(found) >= len(POSITIVE)
    for a, b in zip(found, found[1:]):
        assert a.end <= b.start
    for v in found:
        assert text[v.start:v.end] == v.value
        assert v.severity in ("error", "warning")
        assert v.kind in KINDS


def test_volatile_is_frozen() -> None:
    v = _only("10:42:03")
    with pytest.raises(dataclasses.FrozenInstanceError):
        v.kind = "date"  # type: ignore[misc]
    assert not hasattr(v, "__dict__")


def _best_time(fn, *args, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - t0)
    return best


def test_fast_on_a_200kb_prompt() -> None:
    chunk = (
        "You are a helpful assistant for Example Corp (v2.20.0). Answer in at most 3 paragraphs; see "
        "section 4.2, line 628 of the handbook. Ratio 16:9, port 8080, python3.11. "
    )
    text = (chunk * 40 + "Today is 2026-11-24T10:42:03Z, request req_011CPrxYzAbCdEf12.\n") * 30
    assert len(text) >= 200_000
    assert len(find_volatile(text)) == 60
    assert _best_time(find_volatile, text) < 0.05


@pytest.mark.parametrize("text", [
    "a" * 200_000,
    "1" * 200_000,
    "9f" * 100_000,
    "1:" * 100_000,
    "1/" * 100_000,
    "2026-" * 40_000,
    "Monday, " * 25_000,
    "req_" + "a" * 200_000,
    "request_id: " + "-" * 200_000,
    ("0" * 15 + "-") * 12_500,
])
def test_no_catastrophic_backtracking(text: str) -> None:
    assert _best_time(find_volatile, text, repeat=1) < 0.5


# -- excerpt ---------------------------------------------------------------

def test_excerpt_short_text_is_whole_and_unmarked() -> None:
    assert excerpt("date: 2026-11-24", 6, 16) == "date: 2026-11-24"


def test_excerpt_truncates_both_sides() -> None:
    text = "x" * 100 + "VALUE" + "y" * 100
    assert excerpt(text, 100, 105, width=10) == "…" + "x" * 10 + "VALUE" + "y" * 10 + "…"


def test_excerpt_truncates_one_side() -> None:
    text = "head VALUE" + "z" * 50
    assert excerpt(text, 5, 10, width=5) == "head VALUEzzzzz…"
    assert excerpt("z" * 50 + "VALUE", 50, 55, width=5) == "…zzzzzVALUE"


def test_excerpt_escapes_newlines_and_tabs() -> None:
    out = excerpt("line1\nline2\tX 2026-11-24\r\nend", 14, 24, width=40)
    assert out == "line1\\nline2\\tX 2026-11-24\\r\\nend"
    assert "\n" not in out and "\t" not in out and "\r" not in out
    assert len(out.splitlines()) == 1


def test_excerpt_escapes_other_line_breaks() -> None:
    out = excerpt("a\x0bb\x0cc\x1cd\u2028e\x85f", 0, 1)
    assert len(out.splitlines()) == 1


def test_excerpt_counts_width_in_original_characters() -> None:
    text = "\n" * 50 + "V" + "\n" * 50
    assert excerpt(text, 50, 51, width=3) == "…\\n\\n\\nV\\n\\n\\n…"


def test_excerpt_at_a_point_and_out_of_range() -> None:
    assert excerpt("abcdef", 3, 3, width=2) == "…bcde…"
    assert excerpt("abc", 10, 20) == "abc"
    assert excerpt("", 0, 0) == ""


def test_excerpt_shortens_a_long_span() -> None:
    value = "a" * 30 + "b" * 30
    assert excerpt(value, 0, 60, width=5) == "aaaaa…bbbbb"
