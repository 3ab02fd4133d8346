"""Find volatile values (timestamps, dates, ids, nonces) in prompt text.

Providers reuse a cached prompt prefix only when it is byte-identical to an
earlier request.  A value that changes on every request -- the current time,
a request id, a random nonce -- placed in a system prompt or a tool
description therefore breaks the cache every time; a date alone breaks it
once a day.  :func:`find_volatile` locates such values so the linter can point
at them, and :func:`excerpt` renders a short one-line context for reports.

Only the standard library ``re`` module is used.  Each kind of value has one
precompiled regular expression written without nested or ambiguous
quantifiers, so the scan is linear in the length of the text; overlapping
candidates are then resolved in favour of the longest (then most specific)
match.

Severity follows how often the value changes: ``"error"`` for anything with a
resolution of a minute or finer (or per request), ``"warning"`` for values
that only change daily (a date, or a timestamp pinned to midnight).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from prefixlint.redact import redact

__all__ = ["KINDS", "Volatile", "excerpt", "find_volatile"]

#: Every value of :attr:`Volatile.kind`.
KINDS: tuple[str, ...] = ("datetime", "time", "date", "epoch", "uuid", "request-id", "hex-nonce")


@dataclass(frozen=True, slots=True)
class Volatile:
    """One volatile value found in a text."""

    kind: str  # one of KINDS
    start: int  # character offset of the value in the text
    end: int  # offset just past the value
    value: str  # the matched text, ``text[start:end]``
    severity: str  # "error" (changes every request/second/minute) or "warning" (changes daily)
    label: str  # human words, e.g. "ISO 8601 timestamp"


# ---------------------------------------------------------------------------
# Building blocks
# ---------------------------------------------------------------------------

_YEAR_DIGITS = r"(?:19|20)\d\d"
_YEAR = rf"{_YEAR_DIGITS}(?!\d)"
_MONTH2 = r"(?:0[1-9]|1[0-2])"
_DAY2 = r"(?:0[1-9]|[12]\d|3[01])"
_MONTH_1_2 = r"(?:0?[1-9]|1[0-2])"
_DAY_1_2 = r"(?:0?[1-9]|[12]\d|3[01])"
_ORDINAL = r"(?:st|nd|rd|th)?"
_MONTH_NAME = (
    r"(?i:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b\.?"
)
_WEEKDAY = (
    r"(?i:mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:r(?:s(?:day)?)?)?|fri(?:day)?"
    r"|sat(?:urday)?|sun(?:day)?)\b\.?"
)
# "AM", "pm", "a.m." -- never followed by another letter ("10:42 amazing").
_AMPM = r"(?:[AaPp][Mm]|[AaPp]\.[Mm]\.)(?![A-Za-z])"


def _tz(name: str) -> str:
    """Optional time-zone designator after a time of day, captured as ``name``."""
    return (
        rf"(?P<{name}>Z(?![A-Za-z0-9])"
        r"|[ \t]?[+-](?:[01]\d|2[0-3]):?[0-5]\d(?!\d)"
        r"|[ \t]?(?:UTC|GMT)(?:[+-]\d{1,2}(?::?[0-5]\d)?)?(?![A-Za-z0-9])"
        r"|[ \t](?:[ECMP][SD]T|CES?T|BST|JST|IST|AES?T|AEDT)(?![A-Za-z0-9]))?"
    )


# A calendar date.  Named groups tell the forms apart (for the label).
_NUMERIC_DATE = (
    # ISO 8601 calendar date: 2026-11-24 (and the slash variant 2026/11/24)
    rf"(?P<iso>(?<![\d.]){_YEAR_DIGITS}-{_MONTH2}-{_DAY2}(?!\d))"
    rf"|(?P<ymd>(?<![\d.]){_YEAR_DIGITS}/{_MONTH_1_2}/{_DAY_1_2}(?!\d))"
    # numeric day/month/year in either order: 5/29/2025, 29.05.2025, 05-29-2025
    rf"|(?P<num>(?<![0-9A-Za-z.])(?<!\d[/-]){_DAY_1_2}(?P<sep>[/.-]){_DAY_1_2}(?P=sep){_YEAR})"
    # day first: 24 November 2026 / 24th of November, 2026 / 24-Nov-2026 / 24/Nov/2026
    rf"|(?P<dm>\b{_DAY_1_2}{_ORDINAL}(?:\s+(?:of\s+)?|[-/]){_MONTH_NAME}(?:,?\s+|[-/]){_YEAR})"
)
# month name first: November 24, 2026 / Nov 24 2026
_NAMED_DATE = rf"(?P<md>{_MONTH_NAME}\s+{_DAY_1_2}{_ORDINAL},?\s+{_YEAR})"
# A value starting with a digit only tries the numeric forms; a capitalised word
# may be a weekday ("Monday, ") followed by any form, or a month name.
_DATE = (
    rf"(?:\b(?=[A-Z]){_WEEKDAY},?\s+)?"
    rf"(?:(?=\d)(?<![\d.])(?:{_NUMERIC_DATE})|\b(?=[A-Za-z]){_NAMED_DATE})"
)
# A time of day directly following a date ("T", ", ", " at ", " @ ", ":").
# After a date, HH:MM alone is unambiguous, so seconds are optional here.
_TIME_AFTER_DATE = (
    r"(?:T|:|,?[ \t]+(?:(?:at|@)[ \t]+)?)"
    r"(?P<hh>[01]?\d|2[0-3]):(?P<mm>[0-5]\d)"
    r"(?::(?P<ss>[0-5]\d|60)(?:[.,](?P<frac>\d{1,9}))?)?"
    rf"(?:[ \t]?(?P<ampm>{_AMPM}))?"
    + _tz("tz")
    + r"(?![\d:])"
)
# A time of day on its own: needs seconds, or AM/PM (bare HH:MM is too often a
# ratio, a score or a verse reference).
_TIME_ALONE = (
    r"(?<![\d:.])"
    r"(?:"
    r"(?P<t_hh>[01]?\d|2[0-3]):(?P<t_mm>[0-5]\d):(?P<t_ss>[0-5]\d|60)(?:[.,](?P<t_frac>\d{1,9}))?"
    rf"(?:[ \t]?{_AMPM})?"
    rf"|(?P<t_12>(?:0?\d|1[0-2]):[0-5]\d[ \t]?{_AMPM})"
    r")"
    + _tz("t_tz")
    + r"(?![\d:])"
)

# Dates, date-times and times of day.  The leading lookahead lets the engine
# reject most positions (lower-case letters, punctuation) with one test; a
# value always starts with a digit or a capitalised weekday/month name.
_CLOCK_RE = re.compile(
    rf"(?=[0-9JFMASONDTW])(?:(?P<date>{_DATE})(?P<time>{_TIME_AFTER_DATE})?|(?P<talone>{_TIME_ALONE}))"
)

# Identifier-like tokens: each alternative starts at the beginning of an
# alphanumeric run (hence the shared lookbehind), and no two alternatives can
# both produce a finding at the same position, so leftmost-first alternation
# loses nothing.
_TOKEN_RE = re.compile(
    r"(?<![0-9A-Za-z])"
    r"(?:"
    # Hex-led values: all of these start with at least 8 hex digits.
    r"(?=(?:0[xX])?[0-9a-fA-F]{8})(?:"
    # UUID, any case
    r"(?P<uuid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})(?![0-9A-Za-z])"
    # ISO 8601 basic format: 20261124T104203Z
    rf"|(?P<basic>{_YEAR_DIGITS}{_MONTH2}{_DAY2}"
    r"T(?P<b_hh>[01]\d|2[0-3])(?P<b_mm>[0-5]\d)(?P<b_ss>[0-5]\d)?(?:[.,](?P<b_frac>\d{1,9}))?Z?)"
    r"(?![0-9A-Za-z])"
    # Unix epoch seconds (10 digits, optional fraction), ms (13), us (16), ns (19);
    # not in a version string, a decimal, a phone number ("+1 ...", "tel:") or an amount
    r"|(?<![.+#$])(?<!\d[-/])(?<!\+\d[ -])(?<!\+\d\d[ -])(?<!\+\d\d\d[ -])(?<![Tt][Ee][Ll]:)"
    r"(?P<epoch>(?P<e_int>\d{10}(?:\d{3}(?:\d{3}(?:\d{3})?)?)?)(?:\.\d{1,9})?)"
    r"(?![0-9A-Za-z]|\.\d)"
    # hex nonce / hash: 16+ hex characters of one case, optionally 0x-prefixed
    r"|(?P<hex>(?:0[xX])?(?P<h_body>[0-9a-f]{16,}|[0-9A-F]{16,}))(?![0-9A-Za-z])"
    r")"
    # Ids introduced by a word.
    r"|(?=[cmrstR])(?:"
    # provider ids: msg_01XFDUDYJgAACzvnptvVoYEL, chatcmpl-9x..., toolu_01...; at
    # least 12 characters with a digit ("call_weatherservice" is a name, not an id)
    r"(?P<reqid>(?:(?:req|msg|msgbatch|resp|run|call|toolu|srvtoolu)_|(?:chatcmpl|cmpl)-)"
    r"(?=[A-Za-z0-9]{12})[A-Za-z0-9]*\d[A-Za-z0-9]*)"
    # request_id: abc123, X-Request-Id: ..., "request_id": "..."; the finding is the id itself
    r"|(?i:request[-_ ]?id)\\?[\"']?[ \t]*[:=][ \t]*\\?[\"']?"
    r"(?P<reqtok>(?=[A-Za-z0-9_-]*\d)[A-Za-z0-9][A-Za-z0-9_-]{5,})"
    r")"
    r")"
)

_EPOCH_MIN = 978307200  # 2001-01-01T00:00:00Z
_EPOCH_MAX = 2524608000  # 2050-01-01T00:00:00Z
_EPOCH_UNITS = {10: (1, "seconds"), 13: (10**3, "milliseconds"), 16: (10**6, "microseconds"), 19: (10**9, "nanoseconds")}

_HAS_DIGIT = re.compile(r"\d")
_HAS_HEX_LETTER = re.compile(r"[a-fA-F]")

# Tie-break between equally long overlapping candidates: lower wins.
_PRIORITY = {"request-id": 0, "uuid": 1, "datetime": 2, "epoch": 3, "date": 4, "time": 5, "hex-nonce": 6}


def _all_zero(*parts: str | None) -> bool:
    """True when every given digit string is absent or made of zeros only."""
    return not any(p and p.strip("0") for p in parts)


def _clock_candidates(text: str, out: list[Volatile]) -> None:
    append = out.append
    for m in _CLOCK_RE.finditer(text):
        start, end = m.span()
        value = m.group()
        if m.group("talone") is not None:
            if m.group("t_12") is None and _all_zero(m.group("t_hh"), m.group("t_mm"), m.group("t_ss"), m.group("t_frac")):
                continue  # 00:00:00 on its own is a constant (a zero duration, or midnight)
            append(Volatile("time", start, end, value, "error", "time of day"))
        elif m.group("time") is None:
            append(Volatile("date", start, end, value, "warning", "date"))
        else:
            if m.group("iso"):
                label = "ISO 8601 timestamp"
            elif (dm := m.group("dm")) and "/" not in dm and "-" not in dm and m.group("tz") and m.group("ss"):
                label = "RFC 2822 timestamp"
            else:
                label = "date and time"
            if not m.group("ampm") and _all_zero(m.group("hh"), m.group("mm"), m.group("ss"), m.group("frac")):
                append(Volatile("datetime", start, end, value, "warning", f"{label} at midnight (changes daily)"))
            else:
                append(Volatile("datetime", start, end, value, "error", label))


def _token_candidates(text: str, out: list[Volatile]) -> None:
    append = out.append
    for m in _TOKEN_RE.finditer(text):
        kind = m.lastgroup
        if kind == "uuid":
            value = m.group()
            if value.replace("-", "").strip("0"):  # the nil UUID is a constant
                append(Volatile("uuid", m.start(), m.end(), value, "error", "UUID"))
        elif kind == "reqid":
            append(Volatile("request-id", m.start(), m.end(), m.group(), "error", "request id"))
        elif kind == "reqtok":
            append(Volatile("request-id", m.start("reqtok"), m.end("reqtok"), m.group("reqtok"), "error", "request id"))
        elif kind == "basic":
            if _all_zero(m.group("b_hh"), m.group("b_mm"), m.group("b_ss"), m.group("b_frac")):
                severity, label = "warning", "ISO 8601 timestamp at midnight (changes daily)"
            else:
                severity, label = "error", "ISO 8601 timestamp"
            append(Volatile("datetime", m.start(), m.end(), m.group(), severity, label))
        elif kind == "epoch":
            digits = m.group("e_int")
            scale, unit = _EPOCH_UNITS[len(digits)]
            seconds, rest = divmod(int(digits), scale)
            if not _EPOCH_MIN <= seconds < _EPOCH_MAX:
                continue
            value = m.group()
            if seconds % 86400 == 0 and _all_zero(str(rest), value[len(digits) + 1:]):
                append(Volatile("epoch", m.start(), m.end(), value, "warning",
                                f"Unix epoch {unit} at midnight UTC (changes daily)"))
            else:
                append(Volatile("epoch", m.start(), m.end(), value, "error", f"Unix epoch {unit}"))
        elif kind == "hex":
            body = m.group("h_body")
            if _HAS_DIGIT.search(body) and _HAS_HEX_LETTER.search(body):
                append(Volatile("hex-nonce", m.start(), m.end(), m.group(), "error", "hex nonce"))


def _resolve(candidates: list[Volatile]) -> list[Volatile]:
    """Keep a non-overlapping subset, preferring longer, then more specific, then earlier."""
    candidates.sort(key=lambda v: (v.start - v.end, _PRIORITY[v.kind], v.start))
    starts: list[int] = []
    ends: list[int] = []
    kept: list[Volatile] = []
    for v in candidates:
        i = bisect_right(starts, v.start)
        if i and ends[i - 1] > v.start:
            continue
        if i < len(starts) and starts[i] < v.end:
            continue
        starts.insert(i, v.start)
        ends.insert(i, v.end)
        kept.insert(i, v)
    return kept


def find_volatile(text: str) -> list[Volatile]:
    """Return the volatile values in ``text``, sorted by offset and non-overlapping.

    Where candidates overlap, the longest wins (``2026-11-24T10:42:03Z`` is one
    datetime, not a date plus a time); between equally long ones the more
    specific kind wins (a request id over a UUID or hex string).
    """
    if not text:
        return []
    out: list[Volatile] = []
    _clock_candidates(text, out)
    _token_candidates(text, out)
    if len(out) < 2:
        return out
    return _resolve(out)


# ---------------------------------------------------------------------------
# Excerpts
# ---------------------------------------------------------------------------

_ESCAPES = {i: f"\\x{i:02x}" for i in [*range(0x20), 0x7F, 0x85]}
_ESCAPES.update({0x0A: "\\n", 0x09: "\\t", 0x0D: "\\r", 0x2028: "\\u2028", 0x2029: "\\u2029"})
_ELLIPSIS = "…"


def _one_line(s: str) -> str:
    return s.translate(_ESCAPES)


_WIDEN = 4096


def _redact_around(text: str, start: int, end: int, width: int) -> tuple[str, int, int]:
    """Redact secrets near the excerpt window, seen whole even when the window cuts them.

    The window is widened to whitespace on both sides (a secret is one unbroken run of
    characters) before redaction, so a key cut at the window's edge is still recognised.
    """
    n = len(text)
    lo, hi = max(0, start - width), min(n, end + width)
    floor, ceiling = max(0, lo - _WIDEN), min(n, hi + _WIDEN)
    while lo > floor and not text[lo - 1].isspace():
        lo -= 1
    while hi < ceiling and not text[hi].isspace():
        hi += 1
    region = text[lo:hi]
    cleaned = redact(region)
    if cleaned == region:
        return text, start, end
    new_start = lo + min(len(redact(text[lo:start])), len(cleaned))
    new_end = max(new_start, new_start + len(redact(text[start:end])))
    return text[:lo] + cleaned + text[hi:], new_start, min(new_end, lo + len(cleaned))


def excerpt(text: str, start: int, end: int, width: int = 40) -> str:
    """One-line excerpt of ``text`` around ``[start, end)``.

    Shows up to ``width`` characters either side of the span, marks a cut-off
    side with ``…``, and escapes newlines, tabs and other control characters
    (``\\n``, ``\\t``, ``\\r``, ``\\xNN``) so the result is always one line.  A span
    longer than ``2 * width`` is itself shortened in the middle.  ``start ==
    end`` gives the context around a single point.
    """
    n = len(text)
    width = max(0, width)
    start = max(0, min(start, n))
    end = max(start, min(end, n))
    text, start, end = _redact_around(text, start, end, width)
    n = len(text)
    lo = max(0, start - width)
    hi = min(n, end + width)
    middle = text[start:end]
    if width and len(middle) > 2 * width:
        middle = f"{_one_line(middle[:width])}{_ELLIPSIS}{_one_line(middle[-width:])}"
    else:
        middle = _one_line(middle)
    return "".join((
        _ELLIPSIS if lo > 0 else "",
        _one_line(text[lo:start]),
        middle,
        _one_line(text[end:hi]),
        _ELLIPSIS if hi < n else "",
    ))
