"""The reader's Splicer (prefixlint.sources.splice): ``Splicer().loads(line)`` is ``orjson.loads(line)``.

Every check compares the Splicer's result with orjson's: the same serialisation, the same types all
the way down (``bool`` is not ``int``, ``1.0`` is not ``1``), the same key order, and for a line
orjson rejects the same ``orjson.JSONDecodeError`` (with the same message). The counters
``Splicer.spliced`` / ``Splicer.whole`` show that the lines that repeat an earlier line's messages
are parsed in part (so that a Splicer which always parses whole lines fails here), and the hostile
lines (a repeated "messages" key, the key inside a string, arrays of scalars, invalid JSON or UTF-8
after the repeated bytes, ...) show that whatever is in doubt is parsed whole.
"""

from __future__ import annotations

import json
import os
import random
import shutil

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from conftest import FIXTURES

import prefixlint.sources
from prefixlint.cli import app
from prefixlint.sources import splice
from prefixlint.sources.splice import MAX_DEPTH, MIN_SHARED, PER_OPENING, Splicer

# --------------------------------------------------------------------------------------------------
# Building lines

WORDS = ["the", "cache", "prefix", "tool", "result", "café", "naïve", "日本語のテキスト", "emoji 😀🎉",
         'a "quoted" word', "back\\slash", "tab\there", "line\nbreak", "ctrl\x01char", "€100", "ß", "\u2028",
         "Ωmega", "<tag attr='x'>", "{\"json\": [1, 2]}", "messages", '"messages": [', "]", ","]


def text(seed: int, size: int = 1200) -> str:
    """Deterministic text of at least ``size`` characters (one message alone is more than
    MIN_SHARED bytes), with non-ASCII characters, quotes, backslashes and control characters."""
    if size > 2000:  # (long ones: a shorter text, repeated)
        return text(seed, 2000) * (size // 2000 + 1)
    rng = random.Random(seed)
    out: list[str] = []
    n = 0
    while n < size:
        word = rng.choice(WORDS)
        out.append(word)
        n += len(word) + 1
    return f"[{seed}] " + " ".join(out)


def message(i: int, *, blocks: bool = False, seed: int = 0, size: int = 1200) -> dict:
    role = "user" if i % 2 == 0 else "assistant"
    body = text(seed * 1000 + i, size)
    if blocks:
        return {"role": role, "content": [{"type": "text", "text": body}, {"type": "text", "text": f"part {i}"}]}
    return {"role": role, "content": body}


def conversation(n: int, **kwargs) -> list[dict]:
    return [message(i, **kwargs) for i in range(n)]


def envelope(messages: list, turn: int = 0, session: str = "s1") -> dict:
    """A logged request: fields before and after the request, and before and after "messages"."""
    return {
        "timestamp": f"2026-01-01T00:{turn // 60:02d}:{turn % 60:02d}Z",
        "session": session,
        "request": {"model": "claude-sonnet-4-5", "max_tokens": 1024, "messages": messages,
                    "temperature": 0.5, "stream": True, "metadata": {"user_id": None, "n": turn}},
        "latency_ms": 12.5 + turn,
    }


def msgs(obj: dict) -> list:
    return obj["request"]["messages"]


def _odd(value, depth: int = 0) -> str:
    """JSON with unusual whitespace around every comma and bracket and after every colon (raw UTF-8;
    a space before a colon would hide the "messages": key: see HOSTILE["space before the colon"])."""
    pad = " \t "[: 1 + depth % 3]
    if isinstance(value, dict):
        if not value:
            return "{ }"
        items = f"{pad},\t ".join(f"{json.dumps(k, ensure_ascii=False)}:{pad}{_odd(v, depth + 1)}" for k, v in value.items())
        return "{" + pad + items + " }"
    if isinstance(value, list):
        if not value:
            return "[\t]"
        return "[ " + f" ,{pad}".join(_odd(v, depth + 1) for v in value) + pad + "]"
    return json.dumps(value, ensure_ascii=False)


WRITERS = {
    "orjson": orjson.dumps,  # compact, raw UTF-8 (also JSON.stringify, Go)
    "python": lambda v: json.dumps(v).encode(),  # ", " and ": ", non-ASCII escaped
    "python-raw": lambda v: json.dumps(v, ensure_ascii=False).encode(),
    "python-compact": lambda v: json.dumps(v, separators=(",", ":")).encode(),
    "odd-spacing": lambda v: _odd(v).encode(),
}
ENDINGS = {"none": b"", "lf": b"\n", "crlf": b"\r\n"}


# --------------------------------------------------------------------------------------------------
# Checking a result against orjson


def assert_same(got, want) -> None:
    """Equal values of the same types with keys in the same order (iterative: deep values too)."""
    stack = [(got, want, "$")]
    while stack:
        g, w, path = stack.pop()
        assert type(g) is type(w), f"{path}: {type(g).__name__} != {type(w).__name__}"
        if isinstance(w, dict):
            assert list(g) == list(w), f"{path}: keys {list(g)} != {list(w)}"
            stack.extend((g[k], w[k], f"{path}.{k}") for k in w)
        elif isinstance(w, list):
            assert len(g) == len(w), f"{path}: length {len(g)} != {len(w)}"
            stack.extend((a, b, f"{path}[{i}]") for i, (a, b) in enumerate(zip(g, w)))
        elif isinstance(w, float):
            assert repr(g) == repr(w), path  # (-0.0 is not 0.0)
        else:
            assert g == w, path


def check(splicer: Splicer, line: bytes):
    """``splicer.loads(line)`` is exactly ``orjson.loads(line)``; returns it (None when both raise)."""
    try:
        want = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        with pytest.raises(orjson.JSONDecodeError) as raised:
            splicer.loads(line)
        assert str(raised.value) == str(exc)
        return None
    got = splicer.loads(line)
    assert orjson.dumps(got) == orjson.dumps(want)
    assert_same(got, want)
    return got


def counts(splicer: Splicer) -> tuple[int, int]:
    return splicer.whole, splicer.spliced


def check_memory(splicer: Splicer) -> None:
    """The accounting is right and within bounds: ``bytes`` is the sum of the lines the remembered
    arrays are views of, at most MAX_BYTES (+ the largest one), at most PER_OPENING per opening."""
    arrays = [seen.held for candidates in splicer.seen.values() for seen in candidates]
    assert all(seen.held >= len(seen.data) for candidates in splicer.seen.values() for seen in candidates)
    assert splicer.bytes == sum(arrays)
    assert splicer.bytes <= splice.MAX_BYTES + max(arrays, default=0)
    assert all(len(candidates) <= PER_OPENING for candidates in splicer.seen.values())


# --------------------------------------------------------------------------------------------------
# Conversations: appended messages, the same messages again, the last message changed


@pytest.mark.parametrize("ending", ENDINGS)
@pytest.mark.parametrize("writer", WRITERS)
def test_growing_conversation(writer, ending):
    write, end = WRITERS[writer], ENDINGS[ending]
    s = Splicer()
    history = conversation(2)
    results = []
    for turn in range(8):
        results.append(check(s, write(envelope(history, turn)) + end))
        history = [*history, message(len(history))]
    assert counts(s) == (1, 7)  # lines 2..8 repeat the previous line's messages
    for prev, cur in zip(results, results[1:]):
        old, new = msgs(prev), msgs(cur)
        assert new is not old and len(new) == len(old) + 1
        # The repeated messages are the very objects of the previous line (with odd spacing before
        # a comma, the last one is parsed again: the repeated bytes end at an element boundary).
        shared = len(old) - 1 if writer == "odd-spacing" else len(old)
        assert all(a is b for a, b in zip(old[:shared], new))
        assert not any(new[-1] is m for m in old)
    check_memory(s)


@pytest.mark.parametrize("ending", ENDINGS)
@pytest.mark.parametrize("writer", WRITERS)
def test_same_messages_sent_again(writer, ending):
    write, end = WRITERS[writer], ENDINGS[ending]
    s = Splicer()
    history = conversation(4, blocks=True)
    results = [check(s, write(envelope(history, turn)) + end) for turn in range(4)]
    assert counts(s) == (1, 3)
    for prev, cur in zip(results, results[1:]):
        assert msgs(cur) is not msgs(prev)  # a list of its own, holding the same messages
        shared = 3 if writer == "odd-spacing" else 4
        assert all(a is b for a, b in zip(msgs(prev)[:shared], msgs(cur)))
        assert cur["timestamp"] != prev["timestamp"]


@pytest.mark.parametrize("breakpoints", [1, 2])
@pytest.mark.parametrize("ending", ENDINGS)
@pytest.mark.parametrize("writer", WRITERS)
def test_cache_control_moves_to_the_newest_message(writer, ending, breakpoints):
    """Each turn the cache breakpoint(s) move to the newest message(s): the previous line's last
    message(s) differ, the line is spliced up to the element boundary before them."""
    write, end = WRITERS[writer], ENDINGS[ending]
    s = Splicer()
    results = []
    for turn in range(7):
        history = conversation(turn + 3, blocks=True)
        for m in history[-breakpoints:]:
            m["content"][-1]["cache_control"] = {"type": "ephemeral"}
        results.append(check(s, write(envelope(history, turn)) + end))
    assert counts(s) == (1, 6)
    for prev, cur in zip(results, results[1:]):
        old, new = msgs(prev), msgs(cur)
        shared = len(old) - breakpoints
        assert all(a is b for a, b in zip(old[:shared], new))
        assert not any(new[i] is old[i] for i in range(shared, len(old)))  # changed: parsed again
        assert [("cache_control" in m["content"][-1]) for m in new] == [False] * (len(new) - breakpoints) + [True] * breakpoints


def test_messages_from_an_earlier_line_are_reused_not_copied():
    """The spliced list holds the earlier line's message objects; the rest of the line (envelope,
    other request fields) is parsed afresh."""
    s = Splicer()
    a = check(s, orjson.dumps(envelope(conversation(3), 0)))
    b = check(s, orjson.dumps(envelope(conversation(4), 1)))
    assert b["request"] is not a["request"] and b["request"]["metadata"] is not a["request"]["metadata"]
    assert [m is n for m, n in zip(msgs(a), msgs(b))] == [True, True, True]


def test_a_short_array_is_parsed_whole():
    s = Splicer()
    history = conversation(2, size=100)  # the array is shorter than MIN_SHARED bytes
    for turn in range(4):
        check(s, orjson.dumps(envelope(history, turn)))
        history = [*history, message(len(history), size=100)]
    assert counts(s) == (4, 0)


@pytest.mark.parametrize("writer", WRITERS)
def test_interleaved_conversations_with_the_same_opening(writer):
    """Conversations that open alike (the same first messages, or the same first MIN_SHARED bytes
    of a first message that then differs) are told apart: every line is exact."""
    write = WRITERS[writer]
    common = conversation(2)
    first = message(0)
    assert len(orjson.dumps(first)) > MIN_SHARED + 100
    twin = {**first, "content": first["content"][:MIN_SHARED + 50] + " but then different " + first["content"][MIN_SHARED + 50:]}
    histories = {
        "a": [*common, message(2, seed=1)],
        "b": [*common, message(2, seed=2)],
        "c": [*common],
        "d": [twin, message(1, seed=4)],  # shares the opening with a, b, c but no whole message
    }
    s = Splicer()
    for turn in range(6):
        for name, history in histories.items():
            check(s, write(envelope(history, turn, session=name)) + b"\n")
            history.append(message(len(history), seed=ord(name)))
    # Whole: a's first line, and d's (no whole message in common); b's and c's first lines repeat
    # a's first two messages, every later line its conversation's (or a twin's) messages.
    assert counts(s) == (2, 22)
    check_memory(s)


def test_interleaved_conversations_reuse_their_own_previous_line():
    common = conversation(2)
    histories = {"a": [*common, message(2, seed=1)], "b": [*common, message(2, seed=2)]}
    s = Splicer()
    last: dict[str, list] = {}
    for turn in range(4):
        for name, history in histories.items():
            result = check(s, orjson.dumps(envelope(history, turn, session=name)))
            if name in last:
                old = last[name]
                assert all(a is b for a, b in zip(old, msgs(result))), (turn, name)
            last[name] = msgs(result)
            history.append(message(len(history), seed=ord(name)))


def test_a_moving_cache_marker_leaves_one_array_per_conversation():
    """A line that repeats all but the last message of a conversation's previous line (whose cache
    marker moved on) and adds messages takes that line's place: the splicer holds one array per
    live conversation, not one per turn. A sibling of the same length, whose last message differs,
    is kept beside it."""
    s = Splicer()
    histories = {name: conversation(3, seed=seed, blocks=True) for seed, name in enumerate("ab", 1)}
    for turn in range(6):
        for name, history in histories.items():
            marked = [*history[:-1], {**history[-1], "content": [*history[-1]["content"][:-1],
                                                                 {**history[-1]["content"][-1], "cache_control": {"type": "ephemeral"}}]}]
            check(s, orjson.dumps(envelope(marked, turn, session=name)))
            history.append(message(len(history), seed=turn, blocks=True))
        assert len(s.order) == 2
    assert counts(s) == (2, 10)
    sibling = [*histories["a"][:-1], message(99, seed=99, blocks=True)]  # the same length as a's last line
    check(s, orjson.dumps(envelope(histories["a"], 6, session="a")))
    check(s, orjson.dumps(envelope(sibling, 6, session="a2")))
    assert len(s.order) == 3


def test_keys_are_looked_for_where_they_were_first():
    """The keys' offsets on the last lines are tried before searching a line; a key at such an
    offset that is text in a string, or is not followed by an array, is not taken."""
    s = Splicer()
    history = conversation(2)
    short, long = b'{"session":"a","request":{"messages":', b'{"session":"abcdef","request":{"messages":'
    for turn in range(3):  # two heads in turns: two offsets of "messages"
        for head in (short, long):
            check(s, head + orjson.dumps(history) + b"}}")
        history.append(message(len(history), seed=turn))
    at = len(short) - len(splice.KEY)
    assert sorted(s.places[splice.KEY]) == [at, len(long) - len(splice.KEY)]
    assert counts(s) == (1, 5)
    body = orjson.dumps(history)
    in_key = b'{"' + b"y" * (at - 3) + b'\\"messages":[1],"request":{"messages":' + body + b"}}"
    assert in_key.index(splice.KEY) == at and in_key[at - 1 : at] == b"\\"  # (a key "y...y\"messages")
    no_array = b'{"session":"abcdefghijkl","messages":7,"request":{"messages":' + body + b"}}"
    assert no_array.index(splice.KEY) == at
    for data in (in_key, no_array):
        got = check(s, data)  # exact: the request's messages are found after the remembered offset
        assert len(got["request"]["messages"]) == len(history)
    assert counts(s) == (1, 7)


# --------------------------------------------------------------------------------------------------
# Hostile lines after a primed Splicer: exact, and parsed whole (or raising) where in doubt

BASE = conversation(3)
ARRAY = b",".join(orjson.dumps(m) for m in BASE)
HEAD = b'{"timestamp":"2026-01-01T00:00:00Z","session":"s1","request":{"model":"m","messages":['
NEXT = b'{"role":"user","content":"the next question"}'


def line(after_array: bytes, head: bytes = HEAD, array: bytes = ARRAY) -> bytes:
    return head + array + after_array


def primed(head: bytes = HEAD) -> Splicer:
    """A Splicer that has seen one line holding BASE's messages (parsed whole)."""
    s = Splicer()
    first = line(b"]}}", head)
    check(s, first)
    assert counts(s) == (1, 0) and s.bytes == len(first)  # (the line the array is a view of)
    return s


SPLICED, WHOLE, RAISES = "spliced", "whole", "raises"

HOSTILE = {
    # sanity: the plain cases
    "appended": (line(b"," + NEXT + b"]}}"), SPLICED),
    "same": (line(b"]}}"), SPLICED),
    "same, other envelope": (line(b"]},\"extra\":[1,2,{\"x\":null}]}"), SPLICED),
    "whitespace before the comma": (line(b"  ,\t" + NEXT + b"]}}"), SPLICED),  # at the last element boundary
    "whitespace before the bracket": (line(b" \r\n ]}}"), SPLICED),
    # a later "messages" key in the same object (orjson keeps the last)
    "duplicate key": (line(b'],"messages":[{"role":"user","content":"the last one wins"}]}}'), WHOLE),
    "duplicate key, same array": (line(b'],"messages":[' + ARRAY + b"]}}"), WHOLE),
    "duplicate key, not an array": (line(b'],"messages":null}}'), WHOLE),
    "duplicate key, empty": (line(b'],"messages":[]}}'), WHOLE),
    "duplicate envelope key": (line(b']},"request":{"model":"other"}}'), WHOLE),
    "duplicate envelope key, same request": (line(b']},"request":{"model":"m","messages":[' + ARRAY + b"]}}"), WHOLE),
    # "messages": inside a string
    # (escaped, the text in a string is not the key's bytes: the real key is found)
    "key text in a string first": (line(b"]}}", b'{"note":"see \\"messages\\":[ here","request":{"model":"m","messages":['), SPLICED),
    "whole array in a string first": (
        line(b"]}}", b'{"note":' + orjson.dumps('"messages":[' + ARRAY.decode()) + b',"request":{"model":"m","messages":['), SPLICED),
    # (a key that ends with an escaped quote and messages: the key's bytes, after a backslash)
    "key text at the end of a key": (line(b"]}}", b'{"x\\"messages":[1],"request":{"model":"m","messages":['), SPLICED),  # (a later occurrence of the key is the array)
    "key text at the end of a key, array": (line(b"]}}", b'{"request":{"x\\"messages":[' + ARRAY + b'],"messages":['), SPLICED),  # (a later occurrence of the key is the array)
    "key text at the end of a value": (line(b"]}}", b'{"x":"a\\"messages":[1],"request":{"model":"m","messages":['), RAISES),
    "key after an escaped backslash (invalid)": (line(b"]}}", b'{"note":"x\\\\"messages":['), RAISES),
    "key after a closed string (invalid)": (line(b"]}}", b'{"note":"x""messages":['), RAISES),
    # "messages" not followed by an array
    "messages is a string": (b'{"request":{"messages":' + orjson.dumps(ARRAY.decode()) + b"}}", WHOLE),
    "messages is an object": (b'{"request":{"messages":{"list":[' + ARRAY + b"]}}}", WHOLE),
    "messages is null, array later": (b'{"meta":{"messages":null},"request":{"model":"m","messages":[' + ARRAY + b"]}}", SPLICED),  # (a later occurrence of the key is the array)
    "space before the colon": (b'{"request":{"model":"m","messages" :[' + ARRAY + b"]}}", WHOLE),
    "empty array first": (b'{"meta":{"messages":[]},"request":{"model":"m","messages":[' + ARRAY + b"]}}", WHOLE),
    # empty arrays, arrays of scalars
    "empty": (b'{"request":{"messages":[]}}', WHOLE),
    "empty with spaces": (b'{"request":{"messages":[' + b" " * 3000 + b"]}}", WHOLE),
    "spaces then a number": (b'{"request":{"messages":[' + b" " * 3000 + b"1]}}", WHOLE),
    "numbers": (b'{"request":{"messages":[' + b",".join(b"%d" % i for i in range(800)) + b"]}}", WHOLE),
    "floats": (b'{"request":{"messages":[' + b",".join(b"%d.5e-3" % i for i in range(600)) + b"]}}", WHOLE),
    "nulls and booleans": (b'{"request":{"messages":[' + b",".join([b"null", b"true", b"false"] * 300) + b"]}}", WHOLE),
    "strings": (b'{"request":{"messages":[' + b",".join(orjson.dumps(text(i, 200)) for i in range(12)) + b"]}}", WHOLE),
    "scalars appended": (line(b',1,-0.0,1e2,true,null,"s"]}}'), SPLICED),
    "scalar first": (b'{"request":{"messages":[5,' + ARRAY + b"]}}", WHOLE),
    "nested arrays": (line(b",[[1],[[2,{}]]],[]]}}"), SPLICED),
    # the repeated part followed by something other than "," or "]"
    "followed by a brace": (line(b"}}}"), RAISES),
    "followed by a number": (line(b"5]}}"), RAISES),
    "followed by a string": (line(b'"x"]}}'), RAISES),
    "followed by an object": (line(b"{}]}}"), RAISES),
    "followed by a colon": (line(b':1]}}'), RAISES),
    "followed by two brackets": (line(b"]]}}"), RAISES),
    "followed by nothing": (line(b""), RAISES),
    "trailing comma": (line(b",]}}"), RAISES),
    "two commas": (line(b",," + NEXT + b"]}}"), RAISES),
    "trailing garbage": (line(b"]}} x"), RAISES),
    "second document": (line(b"]}}{}"), RAISES),
    "one brace too many": (line(b"]}}}"), RAISES),
    "one brace too few": (line(b"]}"), RAISES),
    "trailing whitespace": (line(b"]}} \t\r\n"), SPLICED),
    # invalid JSON in the new part
    "single quotes": (line(b",{'role':'user'}]}}"), RAISES),
    "missing comma": (line(b',{"role":"user" "content":"x"}]}}'), RAISES),
    "missing value": (line(b',{"role":}]}}'), RAISES),
    "unterminated string": (line(b',{"role":"user","content":"open]}}'), RAISES),
    "bad literal": (line(b',{"a":tru}]}}'), RAISES),
    "leading zero": (line(b',{"a":01}]}}'), RAISES),
    "raw control character": (line(b',{"a":"\x01"}]}}'), RAISES),
    "bad escape": (line(b',{"a":"\\x41"}]}}'), RAISES),
    "comment": (line(b',{"a":1 /* c */}]}}'), RAISES),
    "NaN": (line(b',{"n":NaN}]}}'), RAISES),
    "Infinity": (line(b',{"n":Infinity}]}}'), RAISES),
    "-Infinity": (line(b',{"n":-Infinity}]}}'), RAISES),
    "nan": (line(b',{"n":nan}]}}'), RAISES),
    "number too large for a double": (line(b',{"n":1e400}]}}'), RAISES),
    # integers beyond 64 bits (the orjson installed here reads them as floats, some versions raise): as orjson does
    "u64 max": (line(b',{"n":18446744073709551615}]}}'), SPLICED),
    "u64 max + 1": (line(b',{"n":18446744073709551616}]}}'), None),
    "i64 min": (line(b',{"n":-9223372036854775808}]}}'), SPLICED),
    "i64 min - 1": (line(b',{"n":-9223372036854775809}]}}'), None),
    "huge integer": (line(b',{"n":' + b"9" * 400 + b"}]}}"), None),
    # invalid UTF-8 (and surrogates) in the new part or around it
    "invalid byte": (line(b',{"a":"\xff"}]}}'), RAISES),
    "bad continuation": (line(b',{"a":"\xc3\x28"}]}}'), RAISES),
    "overlong": (line(b',{"a":"\xc0\xaf"}]}}'), RAISES),
    "encoded surrogate": (line(b',{"a":"\xed\xa0\x80"}]}}'), RAISES),
    "beyond U+10FFFF": (line(b',{"a":"\xf4\x90\x80\x80"}]}}'), RAISES),
    "truncated sequence": (line(b',{"a":"\xe6\x97"}]}}'), RAISES),
    "invalid byte outside strings": (line(b",\xff]}}"), RAISES),
    "invalid byte after the document": (line(b"]}}\xff"), RAISES),
    "invalid byte in the envelope": (line(b"]}}", HEAD.replace(b'"s1"', b'"s\xff"')), RAISES),
    "escaped lone surrogate": (line(b',{"a":"\\ud800"}]}}'), RAISES),
    "escaped surrogate pair": (line(b',{"a":"\\ud83d\\ude00 \xf0\x9f\x98\x80"}]}}'), SPLICED),
    "byte order mark": (b"\xef\xbb\xbf" + line(b"]}}"), RAISES),
    # duplicate keys inside the new message (orjson keeps the last)
    "duplicate key in a new message": (line(b',{"role":"user","role":"assistant","content":"x"}]}}'), SPLICED),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_line_after_a_primed_splicer(name):
    data, expected = HOSTILE[name]
    s = primed()
    before = counts(s)
    result = check(s, data)
    whole, spliced = counts(s)[0] - before[0], counts(s)[1] - before[1]
    if expected == RAISES:
        assert result is None
    elif expected == SPLICED:
        assert result is not None and (whole, spliced) == (0, 1)
    elif expected == WHOLE:
        assert result is not None and (whole, spliced) == (1, 0)
    # The Splicer goes on working: the next turn of the primed conversation is exact (and, unless the
    # hostile line took its place, spliced).
    check(s, line(b"," + NEXT + b"," + NEXT + b"]}}"))
    check_memory(s)


@pytest.mark.parametrize("kind, spliced", [("strings", 2), ("numbers", 0), ("nulls", 0), ("mixed", 0)])
def test_arrays_of_scalars(kind, spliced):
    """Strings are whole values the splicer can find the end of (spliced); numbers, null, true are
    not (the lines are parsed whole: the array is not remembered)."""
    items = {"strings": [text(i, 200) for i in range(12)], "numbers": [i * 1.5 for i in range(400)],
             "nulls": [None] * 400, "mixed": [*conversation(2), 5, *conversation(1, seed=3)]}[kind]
    s = Splicer()
    for n in (0, 1, 2):
        check(s, orjson.dumps({"model": "m", "messages": [*items, *items[:n]], "stream": False}))
    assert counts(s) == (3 - spliced, spliced)


def test_duplicate_key_keeps_the_last_array():
    s = primed()
    result = check(s, HOSTILE["duplicate key"][0])
    assert msgs(result) == [{"role": "user", "content": "the last one wins"}]


@pytest.mark.parametrize("name", [n for n, (_, e) in HOSTILE.items() if e != RAISES])
def test_hostile_line_first_then_the_conversation(name):
    """The hostile line first (what the Splicer remembers of it, if anything), then lines that
    repeat its bytes: all exact."""
    data = HOSTILE[name][0]
    s = Splicer()
    check(s, data)
    check(s, data)
    check(s, line(b"]}}"))
    check(s, line(b"," + NEXT + b"]}}"))
    for cut in (len(data) - 3, len(data) - 2, len(data) - 1):
        check(s, data[:cut] + b"," + NEXT + data[cut:])  # something inserted near the end
    check_memory(s)


def test_truncated_lines_raise_like_orjson():
    full = line(b"," + NEXT + b"," + orjson.dumps(message(3)) + b"]}}")
    s = primed()
    cuts = [*range(len(full) - 300, len(full)), *range(len(HEAD) - 5, len(full) - 300, 97)]
    for cut in cuts:
        assert check(s, full[:cut]) is None
    assert counts(s) == (1 + len(cuts), 0)  # (failed parses count as whole ones)
    check(s, full)
    assert counts(s) == (1 + len(cuts), 1)


def test_the_repeated_bytes_must_be_whole_elements():
    """A line whose array repeats the earlier array's bytes only up to the middle of an element
    (a message that was cut short and continues otherwise) is exact."""
    s = primed()
    first = orjson.dumps(BASE[0])
    for cut in (len(first) - 2, len(first) - 1, len(first), len(first) + 1, len(first) + 50):
        for tail in (b'"}', b'x"}', b'}', b',"k":1}', b'"},{"a":1}'):
            data = line(b"]}}", array=ARRAY[:cut] + tail)
            check(s, data)
    check_memory(s)


@pytest.mark.parametrize("depth", range(7))
def test_messages_nested_in_objects(depth):
    """The marked array is looked for through objects only, at most MAX_DEPTH deep: deeper (or
    inside an array) the line is parsed whole, and exact."""
    head = b"".join(b'{"k%d":' % i for i in range(depth)) + b'{"model":"m","messages":['
    close = b"]}" + b"}" * depth
    s = Splicer()
    check(s, line(close, head))
    check(s, line(b"," + NEXT + close, head))
    found = depth < MAX_DEPTH
    assert counts(s) == ((1, 1) if found else (2, 0))


def test_messages_inside_an_array_are_parsed_whole():
    head = b'{"batch":[{"model":"m","messages":['
    s = Splicer()
    check(s, line(b"]}]}", head))
    check(s, line(b"," + NEXT + b"]}]}", head))
    assert counts(s) == (2, 0)


@pytest.mark.parametrize("depth", [10, 200, 250])
def test_deeply_nested_content(depth):
    deep = b"[" * depth + b"{}" + b"]" * depth
    s = primed()
    check(s, line(b"," + deep + b"]}}"))
    check(s, line(b"," + deep + b"," + NEXT + b"]}}"))
    assert counts(s) == (1, 2)


def test_very_deeply_nested_content():
    deep = b"[" * 1015 + b"]" * 1015  # 1,018 levels with the envelope: orjson.loads reads it
    data = line(b"," + deep + b"]}}")
    want = orjson.loads(data)
    for s in (Splicer(), primed()):  # parsed whole, then spliced
        assert_same(s.loads(data), want)  # (iterative: orjson.dumps and == stop short of this depth)
    assert s.spliced == 1


# --------------------------------------------------------------------------------------------------
# Memory


def test_memory_is_bounded_with_many_long_conversations():
    """Conversations of ~1 MiB each, more than MAX_BYTES together: the oldest are forgotten (their
    next line is parsed whole, and exact), the latest are still spliced."""
    s = Splicer()
    n = splice.MAX_BYTES // 1_000_000 + 8
    convs = [conversation(20, seed=c, size=50_000) for c in range(n)]
    lines = [orjson.dumps(envelope(history, 0, session=str(c))) for c, history in enumerate(convs)]
    assert sum(map(len, lines)) > splice.MAX_BYTES
    for data in lines:
        s.loads(data)  # (exactness: checked below, on fewer lines)
        check_memory(s)
    assert s.bytes <= splice.MAX_BYTES
    last, oldest = n - 1, 0
    check(s, orjson.dumps(envelope([*convs[last], message(20, seed=last)], 1, session=str(last))))
    assert s.spliced == 1
    check(s, orjson.dumps(envelope([*convs[oldest], message(20, seed=oldest)], 1, session=str(oldest))))
    assert s.spliced == 1 and s.whole == n + 1
    check_memory(s)


def test_at_most_per_opening_lines_per_opening():
    """Conversations whose arrays open with the same MIN_SHARED bytes (then differ inside the first
    message): at most PER_OPENING are remembered, the latest ones."""
    s = Splicer()
    start = message(0)["content"][:MIN_SHARED + 200]
    histories = [[{"role": "user", "content": f"{start} conversation {c}"}, message(1, seed=c)] for c in range(20)]
    for c, history in enumerate(histories):
        check(s, orjson.dumps(envelope(history, 0, session=str(c))))
        check_memory(s)
    assert len(s.seen) == 1 and len(next(iter(s.seen.values()))) == PER_OPENING
    for c, history in reversed(list(enumerate(histories))):  # the latest first
        before = s.spliced
        check(s, orjson.dumps(envelope([*history, message(2, seed=c)], 1, session=str(c))))
        # the 8 latest are spliced; the older ones are parsed whole (and then take the oldest's place)
        assert s.spliced - before == (1 if c >= 20 - PER_OPENING else 0)
        check_memory(s)


def take_turn(s: Splicer, live: list[list], turn: int) -> None:
    """One more message in each live conversation, a line each: spliced from the conversation's
    previous line from the second turn on (exact, and memory within bounds)."""
    for c, history in enumerate(live):
        history.append(message(2 + turn, seed=c))
        before = s.spliced
        check(s, orjson.dumps(envelope(history, turn, session=str(c))))
        assert s.spliced - before == (1 if turn else 0)
        check_memory(s)


def test_least_recently_used_array_goes_first_whatever_its_opening(monkeypatch):
    """Agent conversations that open alike (one system prompt) share an opening; when MAX_BYTES is
    reached the array used longest ago goes, in any opening: finished conversations' arrays go
    before those of the live ones that alternate in the shared opening."""
    monkeypatch.setattr(splice, "MAX_BYTES", 30_000)  # two lines of each live one fit, not more
    s = Splicer()
    for c in range(4):  # finished conversations, openings of their own: ~12 KB each
        check(s, orjson.dumps(envelope(conversation(8, seed=100 + c), 0, session=f"old {c}")))
    start = message(0)["content"][: MIN_SHARED + 200]
    live = [[{"role": "user", "content": f"{start} conversation {c}"}, message(1, seed=c)] for c in range(2)]
    for turn in range(6):  # two live conversations in turns: each continues its previous line
        take_turn(s, live, turn)
    assert len(s.seen) == 1 and len(s.order) == 2  # the finished ones went, oldest first


def test_an_array_no_line_used_for_idle_lines_is_forgotten(monkeypatch):
    """A finished conversation's last array goes after IDLE_LINES lines that did not use it, while
    the conversations that go on are still spliced."""
    monkeypatch.setattr(splice, "IDLE_LINES", 6)
    s = Splicer()
    done = conversation(4, seed=50)
    check(s, orjson.dumps(envelope(done, 0, session="done")))
    (finished,) = s.order  # its array, remembered on line 1
    live = [conversation(2, seed=c) for c in range(2)]
    for turn in range(5):  # 10 lines, none of them repeats the finished conversation
        take_turn(s, live, turn)
        assert (finished in s.order) == (s.lines - 1 <= splice.IDLE_LINES)
    assert len(s.order) == 2 and s.bytes == sum(seen.held for seen in s.order)
    before = s.whole
    check(s, orjson.dumps(envelope([*done, message(4, seed=50)], 1, session="done")))
    assert s.whole == before + 1  # forgotten: parsed whole (and exact)


def test_memory_bound_counts_every_opening(monkeypatch):
    monkeypatch.setattr(splice, "MAX_BYTES", 32 * 1024)
    s = Splicer()
    for c in range(100):
        history = conversation(2, seed=c)
        check(s, orjson.dumps(envelope(history, 0, session=str(c))))
        data = orjson.dumps(envelope(history, 1, session=str(c)))
        check(s, data.replace(b"}],", b"},5],", 1))  # spliced, then not remembered
        check_memory(s)
    held = sum(len(opening) for opening in s.seen) + s.bytes
    assert held <= 2 * splice.MAX_BYTES  # keys are at most as long as the arrays they hold...
    assert all(s.seen.values())  # ...when every opening holds one


# --------------------------------------------------------------------------------------------------
# Property: random conversations, random writers, fed line by line

HYPOTHESIS = settings(
    max_examples=int(os.environ.get("HYP_EXAMPLES", 40)), deadline=None, derandomize=not os.environ.get("HYP_DB"),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)

# (integers within 64 bits: orjson.dumps writes no other; HOSTILE has longer ones)
scalars = (st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.integers(-10, 10)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12))
small_json = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                          | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=8)
# Long texts (so that the repeated part of a line is often more than MIN_SHARED bytes).
long_text = st.builds(lambda s, n, tail: s * n + tail, st.text(min_size=1, max_size=24), st.integers(0, 120), st.text(max_size=10))
block = st.fixed_dictionaries({"type": st.just("text"), "text": long_text},
                              optional={"cache_control": st.just({"type": "ephemeral"}), "extra": small_json})
random_message = st.fixed_dictionaries(
    {"role": st.sampled_from(["user", "assistant", "tool", "system"]),
     "content": long_text | st.lists(block, min_size=1, max_size=3) | small_json},
    optional={"name": st.text(max_size=8), "n": st.integers(-5, 2**64 - 1), "x": st.floats(allow_nan=False, allow_infinity=False)},
)
extra_fields = st.dictionaries(st.sampled_from(["model", "system", "tools", "stream", "max_tokens", "meta", "mess"]),
                               small_json, max_size=3)
# What happens between two lines of a conversation.
steps = st.lists(st.sampled_from(["append", "append2", "same", "change last", "drop last", "other", "truncate",
                                  "duplicate key", "scalar"]), min_size=1, max_size=10)


def _shape(before: dict, messages, after: dict) -> dict:
    request = {k: v for k, v in before.items() if k != "messages"}
    request["messages"] = messages
    request.update((k, v) for k, v in after.items() if k not in request)
    return request


@HYPOTHESIS
@given(opening=st.lists(random_message, min_size=1, max_size=4), steps=steps, more=st.lists(random_message, min_size=8, max_size=8),
       before=extra_fields, after=extra_fields, writer=st.sampled_from(sorted(WRITERS)),
       ending=st.sampled_from(sorted(ENDINGS)), envelope_it=st.booleans())
def test_random_conversations_are_exact(opening, steps, more, before, after, writer, ending, envelope_it):
    write, end = WRITERS[writer], ENDINGS[ending]
    s = Splicer()
    history = list(opening)
    fresh = iter(more * 3)
    other = [*opening[:1], *more[:2]]  # a second conversation with the same opening, interleaved

    def emit(messages, turn, session="a", mangle=None):
        request = _shape(before, messages, after)
        obj = {"timestamp": turn, "session": session, "request": request} if envelope_it else request
        data = write(obj)
        if mangle is not None:
            data = mangle(data)
        check(s, data + end)

    emit(history, 0)
    for turn, step in enumerate(steps, 1):
        if step == "append":
            history = [*history, next(fresh)]
        elif step == "append2":
            history = [*history, next(fresh), next(fresh)]
        elif step == "change last" and history:
            last = history[-1]
            history = [*history[:-1], {**last, "cache_control": {"type": "ephemeral"}} if "cache_control" not in last
                       else {k: v for k, v in last.items() if k != "cache_control"}]
        elif step == "drop last":
            history = history[:-1]
        elif step == "other":
            other = [*other, next(fresh)]
            emit(other, turn, session="b")
            continue
        elif step == "truncate":
            emit([*history, next(fresh)], turn, mangle=lambda d: d[: len(d) * 9 // 10])
            continue
        elif step == "duplicate key":
            emit(history, turn, mangle=lambda d: d[:-1] + b',"messages":[1]}' if d.endswith(b"}") else d)
            continue
        elif step == "scalar":
            emit([*history, 7, "s", None], turn)
            continue
        emit(history, turn)


def test_the_property_test_splices():
    """(The strategies above do produce lines that are spliced: a fixed example.)"""
    s = Splicer()
    history = [{"role": "user", "content": "é" * 1500}]
    for turn in range(3):
        check(s, WRITERS["python"](_shape({"model": "m"}, history, {"stream": True})) + b"\r\n")
        history = [*history, {"role": "assistant", "content": [{"type": "text", "text": "x" * 10}]}]
    assert counts(s) == (1, 2)


# --------------------------------------------------------------------------------------------------
# End to end: the engine's report is the same with and without splicing

CLEAN_ENV = {"FORCE_COLOR": None, "NO_COLOR": None, "COLUMNS": None, "PREFIXLINT_DEBUG": None, "GITHUB_ACTIONS": None}
TOOLS = [{"name": "read_file", "description": text(900, 300), "input_schema": {"type": "object", "properties": {"path": {"type": "string"}}}},
         {"name": "edit_file", "description": text(901, 300), "input_schema": {"type": "object", "properties": {"path": {"type": "string"}}}}]


class PlainSplicer:
    """Splicing off: every line parsed whole (so no line repeats an earlier one's objects)."""

    repeats = None

    def loads(self, line: bytes):
        return orjson.loads(line)


def _agent_log(path) -> None:
    """Two interleaved agent sessions: long messages, cache breakpoints that move, a tool list that
    changes, a date in one system prompt, a request sent twice, a bad line."""
    rows: list[bytes] = []
    histories = {"s1": [], "s2": []}
    for turn in range(10):
        for session, history in histories.items():
            history.append({"role": "user", "content": [{"type": "text", "text": text(turn * 10 + len(session), 1500)}]})
            messages = json.loads(json.dumps(history))  # fresh copies: the breakpoint is on the newest only
            messages[-1]["content"][-1]["cache_control"] = {"type": "ephemeral"}
            system = "You are a coding agent." + (f" Today is day {turn // 4}." if session == "s2" else "")
            tools = TOOLS if session == "s1" or turn < 6 else TOOLS[:1]
            request = {"model": "claude-sonnet-4-5", "max_tokens": 4096, "system": system, "tools": tools, "messages": messages}
            row = {"timestamp": f"2026-01-01T00:{turn:02d}:{len(session):02d}Z", "session": session, "request": request,
                   "response": {"usage": {"input_tokens": 100 + turn, "output_tokens": 20,
                                          "cache_read_input_tokens": 400 * turn, "cache_creation_input_tokens": 300}}}
            write = json.dumps if session == "s1" else (lambda v: orjson.dumps(v).decode())
            rows.append(write(row).encode())
            if turn == 3:
                rows.append(rows[-1])  # sent twice
            if turn == 5:
                rows.append(rows[-1][:-40])  # a truncated line
            history.append({"role": "assistant", "content": [{"type": "text", "text": text(turn * 10 + 7, 1500)}]})
    path.write_bytes(b"\n".join(rows) + b"\n")


def _report(monkeypatch, splicer_class, path) -> tuple[int, bytes]:
    monkeypatch.setattr(prefixlint.sources, "Splicer", splicer_class)
    result = CliRunner().invoke(app, ["check", "--isolated", "--format", "json", "--fail-on", "never", str(path)], env=CLEAN_ENV)
    return result.exit_code, result.stdout_bytes


@pytest.mark.parametrize("log, least", [("generated", 15), ("broken-agent-session", 1), ("clean-agent-session", 2)])
def test_engine_report_is_the_same_without_splicing(tmp_path, monkeypatch, log, least):
    path = tmp_path / f"{log}.jsonl"
    if log == "generated":
        _agent_log(path)
    else:
        shutil.copy(FIXTURES / "demo" / f"{log}.jsonl", path)
    made: list[Splicer] = []

    class Counting(Splicer):
        __slots__ = ()

        def __init__(self) -> None:
            super().__init__()
            made.append(self)

    spliced = _report(monkeypatch, Counting, path)
    assert made and sum(s.spliced for s in made) >= least  # the run did splice
    plain = _report(monkeypatch, PlainSplicer, path)
    assert spliced[0] == plain[0] == 0
    assert spliced[1] == plain[1]
    report = orjson.loads(plain[1])
    assert report["summary"]["requests"] > 5
    if log != "clean-agent-session":
        assert report["findings"]  # (a report with something in it)


# --------------------------------------------------------------------------------------------------
# Tool definitions and a system prompt sent before the messages, the same on every turn

TOOLS = [{"name": f"tool_{i}", "description": text(i, 300), "input_schema": {
    "type": "object", "properties": {"path": {"type": "string"}, "n": {"type": "integer"}}}} for i in range(6)]
SYSTEM = [{"type": "text", "text": text(99, 2000), "cache_control": {"type": "ephemeral"}}]


def agent_line(history: list, turn: int, tools: list = TOOLS, system: list = SYSTEM, writer=orjson.dumps) -> bytes:
    body = {"model": "claude-sonnet-4-5", "max_tokens": 1024, "system": system, "tools": tools,
            "messages": history}
    return writer({"timestamp": f"2026-01-01T00:00:{turn:02d}Z", "session": "s1", "request": body})


@pytest.mark.parametrize("writer", list(WRITERS), ids=list(WRITERS))
def test_tools_and_system_before_the_messages_are_reused(writer):
    s = Splicer()
    history = conversation(2)
    first = check(s, agent_line(history, 0, writer=WRITERS[writer]))
    for turn in range(1, 5):
        history.append(message(len(history), seed=turn))
        got = check(s, agent_line(history, turn, writer=WRITERS[writer]))
        # the very same objects as the first line's: not parsed again
        assert all(a is b for a, b in zip(got["request"]["tools"], first["request"]["tools"]))
        assert got["request"]["system"][0] is first["request"]["system"][0]
        assert got["request"]["tools"] is not first["request"]["tools"]  # (a list of its own)
    assert counts(s) == (1, 4)


def openai_line(history: list, turn: int, tools: list = TOOLS, writer=orjson.dumps) -> bytes:
    """An OpenAI SDK body: the tool definitions after the messages."""
    body = {"model": "gpt-5", "messages": history, "tools": tools, "stream": True}
    return writer({"timestamp": f"2026-01-01T00:00:{turn:02d}Z", "session": "s1", "request": body})


@pytest.mark.parametrize("writer", list(WRITERS), ids=list(WRITERS))
def test_tools_after_the_messages_are_reused_on_spliced_lines(writer):
    s = Splicer()
    history = conversation(2)
    check(s, openai_line(history, 0, writer=WRITERS[writer]))  # parsed whole: its tools are not looked for
    got = []
    for turn in range(1, 5):
        history.append(message(len(history), seed=turn))
        got.append(check(s, openai_line(history, turn, writer=WRITERS[writer]))["request"]["tools"])
    # remembered from the first spliced line on; its very objects from then on, not parsed again
    assert all(a is b for later in got[1:] for a, b in zip(later, got[0]))
    assert got[-1] is not got[0]  # (a list of its own)
    assert counts(s) == (1, 4)


def test_a_tools_key_in_a_new_message_is_exact():
    """The rest of a spliced line is searched for the key: one inside a new message is no site
    (its marker is not found where the request's tools are), so the line is parsed whole."""
    s = Splicer()
    history = conversation(2)
    check(s, openai_line(history, 0))
    history.append({"role": "assistant", "content": None, "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "configure", "arguments": "{}"}, "tools": TOOLS * 3}]})
    check(s, openai_line(history, 1))
    history.append(message(len(history), seed=3))
    got = check(s, openai_line(history, 2))
    assert got["request"]["tools"] == TOOLS


def test_normalisers_recognise_tools_the_reader_hands_over(monkeypatch):
    """The tool list a line repeats (after the messages) is recognised by the identity of its
    items, though the first such line was not the one whose objects the normaliser kept."""
    from prefixlint.model import Origin, Record
    from prefixlint.providers import base, openai

    lookups = []

    class Counting(base.ListMemo):
        def lookup(self, value):
            lookups.append(len(lookups))
            return super().lookup(value)

    monkeypatch.setattr(openai, "_CHAT_TOOLS", Counting())
    s = Splicer()
    history = conversation(2)
    blocks = []
    for turn in range(6):
        if turn:
            history.append(message(len(history), seed=turn))
        body = s.loads(openai_line(history, turn))["request"]
        prompt = openai.normalize_chat(body, Record(body=body, origin=Origin("x")))
        blocks.append([(b.pointer, b.hash) for b in prompt.blocks if b.section == "tools"])
    assert lookups == [0, 1]  # the whole line's fresh list, then the first spliced line's
    assert all(b == blocks[0] for b in blocks) and len(blocks[0]) == len(TOOLS)


def test_changed_tools_are_parsed_and_remembered():
    s = Splicer()
    history = conversation(2)
    check(s, agent_line(history, 0))
    other = TOOLS[:3] + [{"name": "write", "description": text(7, 400), "input_schema": {"type": "object"}}]
    for turn in range(1, 7):  # a main agent and a subagent with other tools, alternating
        history.append(message(len(history), seed=turn))
        tools = other if turn % 2 else TOOLS
        got = check(s, agent_line(history, turn, tools=tools))
        assert [t["name"] for t in got["request"]["tools"]] == [t["name"] for t in tools]
    assert len(s.before[b'"tools":']) == 2  # both lists are kept


def test_a_tools_key_in_the_system_text_or_deeper_is_exact():
    s = Splicer()
    history = conversation(2)
    system = [{"type": "text", "text": 'use "tools": [1, 2] wisely ' + text(5, 1500)}]
    nested = {"model": "m", "metadata": {"tools": [{"name": "x"}] * 40}, "system": system, "tools": TOOLS,
              "messages": history}
    for turn in range(3):
        check(s, orjson.dumps({"turn": turn, "request": nested}))
        history.append(message(len(history), seed=turn))


def test_an_array_before_the_messages_that_ends_differently_is_parsed():
    s = Splicer()
    history = conversation(2)
    check(s, agent_line(history, 0))
    history.append(message(2, seed=1))
    check(s, agent_line(history, 1, tools=TOOLS + [{"name": "more"}]))  # the old list is its prefix
    history.append(message(3, seed=2))
    check(s, agent_line(history, 2, tools=TOOLS[:-1]))  # a prefix of the old list


def test_tool_lists_kept_are_bounded(monkeypatch):
    s = Splicer()
    history = conversation(2)
    for turn in range(10):  # ten different tool lists: only the last PER_BEFORE are kept
        tools = [dict(t, description=f"version {turn}: " + t["description"]) for t in TOOLS]
        check(s, agent_line(history, turn, tools=tools))
    assert len(s.before[b'"tools":']) == splice.PER_BEFORE
    monkeypatch.setattr(splice, "MAX_BEFORE", 1000)  # a list longer than that is not remembered
    s = Splicer()
    check(s, agent_line(history, 0))
    assert s.before[b'"tools":'] == [] and s.before[b'"system":'] == []
    history.append(message(2, seed=1))
    check(s, agent_line(history, 1))  # (parsed, exact)


# --------------------------------------------------------------------------------------------------
# The normalisers' History with the reader's shared objects


def _chat(messages: list) -> list:
    """The blocks (section, pointer, hash) OpenAI Chat normalisation makes of a message list."""
    from prefixlint.model import Record, Origin
    from prefixlint.providers import openai

    prompt = openai.normalize_chat({"model": "gpt-5", "messages": messages}, Record(body=None, origin=Origin("x")))
    return [(b.section, b.pointer, b.hash) for b in prompt.blocks]


def test_history_shares_messages_by_identity_then_by_bytes(monkeypatch):
    from prefixlint.providers import base, openai

    history = base.History()
    monkeypatch.setattr(openai, "_CHAT_HISTORY", history)
    m = [message(i, seed=40 + i) for i in range(6)]
    grown = m[:5]  # the same objects, grown (as the reader hands them over): found by identity
    other = m[:3] + [message(9, seed=9), message(10, seed=10)]  # the same three, then others
    nxt = other + [message(11, seed=11)]
    lists = [m[:2], grown, other, nxt]
    got = []
    for msgs in lists:
        got.append(_chat(msgs))
        entry = history.recent[id(m[1])]  # (keyed by the second message)
        assert entry.msgs is msgs
        if msgs is grown:
            assert entry.data is None  # shared by identity: not serialised
        if msgs is other:
            # its third message's offset is an estimate (it was shared by identity): no
            # serialisation is kept, but it takes the conversation's place all the same
            assert entry.data is None
    assert len(history.recent[id(m[1])].entries) == 6
    for msgs, blocks in zip(lists, got):  # each as a fresh History builds it from equal values
        monkeypatch.setattr(openai, "_CHAT_HISTORY", base.History())
        assert _chat(orjson.loads(orjson.dumps(msgs))) == blocks


def _fresh(monkeypatch, msgs: list) -> list:
    """What a History that never saw ``msgs`` builds of equal values."""
    from prefixlint.providers import base, openai

    kept = openai._CHAT_HISTORY
    monkeypatch.setattr(openai, "_CHAT_HISTORY", base.History())
    try:
        return _chat(orjson.loads(orjson.dumps(msgs)))
    finally:
        monkeypatch.setattr(openai, "_CHAT_HISTORY", kept)


def _consistent(history) -> None:
    from prefixlint.providers import base

    assert history.recent_bytes == sum(r.held for r in history.recent.values())
    keys: dict[int, int] = {}
    for r in history.recent.values():
        keys[id(r)] = keys.get(id(r), 0) + 1
    assert all(r.keys == keys[id(r)] for r in history.recent.values())


def test_history_takes_over_the_lists_of_the_turn_it_continues(monkeypatch):
    """The usual turn (the same message objects, then new ones) extends the previous turn's lists
    instead of copying them, and the previous entry leaves the store: the result is what a fresh
    History builds, turn after turn, also when the last message was replaced."""
    from prefixlint.providers import base, openai

    history = base.History()
    monkeypatch.setattr(openai, "_CHAT_HISTORY", history)
    msgs = conversation(2, seed=80)
    assert _chat(msgs) == _fresh(monkeypatch, msgs)
    first = history.recent[id(msgs[1])]
    assert first.keys == 2  # (under its opening and its second message: its lists are not taken over)
    for turn in range(4):
        before = history.recent[id(msgs[1])]
        msgs = msgs + [message(2 + turn, seed=81)]  # a new list of the same objects, one more
        assert _chat(msgs) == _fresh(monkeypatch, msgs)
        now = history.recent[id(msgs[1])]
        if turn == 0:
            assert now.ends is not first.ends and len(first.ends) == 2  # copied: the first entry is unchanged
        else:
            assert now.ends is before.ends and now.blocks is before.blocks and now.entries is before.entries
            assert before not in history.recent.values() and before.keys == 0
        assert len(now.entries) == len(now.ends) == len(now.bcount) == len(msgs)
        assert [(b.section, b.pointer, b.hash) for b in now.blocks] == _fresh(monkeypatch, msgs)
        assert [m.pointer for m in now.messages] == [f"/messages/{i}" for i in range(len(msgs))]
        _consistent(history)
    before = history.recent[id(msgs[1])]
    msgs = msgs[:-1] + [message(99, seed=82), message(100, seed=82)]  # the last one replaced, one more
    assert _chat(msgs) == _fresh(monkeypatch, msgs)
    now = history.recent[id(msgs[1])]
    assert now.ends is before.ends and len(now.entries) == len(msgs) and now.entries[-1][4] is msgs[-1]
    assert [(b.section, b.pointer, b.hash) for b in now.blocks] == _fresh(monkeypatch, msgs)
    assert [m.pointer for m in now.messages] == [f"/messages/{i}" for i in range(len(msgs))]
    _consistent(history)
    shorter = msgs[:3]  # a side request that repeats the opening: copies, the conversation keeps its entry
    assert _chat(shorter) == _fresh(monkeypatch, shorter)
    assert history.recent[id(msgs[1])] is now and len(now.entries) == len(msgs)
    _consistent(history)


def test_history_after_a_bad_message_in_a_continued_turn(monkeypatch):
    """A turn whose new message is malformed raises, and the entry it continued is gone from the store
    (its lists were to be taken over), so the next turn is built from the bytes, as fresh."""
    from prefixlint.model import BodyError
    from prefixlint.providers import base, openai

    history = base.History()
    monkeypatch.setattr(openai, "_CHAT_HISTORY", history)
    msgs = conversation(2, seed=90)
    _chat(msgs)
    msgs = msgs + [message(2, seed=90)]
    _chat(msgs)
    assert history.recent[id(msgs[1])].keys == 1
    with pytest.raises(BodyError):
        _chat(msgs + [{"role": 7, "content": "x"}, message(4, seed=90)])
    assert id(msgs[1]) not in history.recent
    _consistent(history)
    msgs = msgs + [message(3, seed=90)]
    assert _chat(msgs) == _fresh(monkeypatch, msgs)
    _consistent(history)


@given(st.lists(st.integers(0, 3), max_size=12), st.lists(st.integers(0, 3), max_size=12))
@settings(max_examples=200, deadline=None, derandomize=not os.environ.get("HYP_DB"))
def test_common_prefix_is_the_longest_equal_prefix(a, b):
    from prefixlint.providers import base

    naive = 0
    while naive < min(len(a), len(b)) and a[naive] == b[naive]:
        naive += 1
    assert base.common_prefix(a, b) == base.common_prefix(b, a) == naive
    assert base.common_prefix(a, a[:]) == len(a) and base.common_prefix(a, a + b) == len(a)


def _lint_prompts(path: str, stream: bool) -> list[list[tuple]]:
    """(section, pointer, hash) of every block of every request of ``path``, normalised as each
    line is read (``stream``) or after every line was read."""
    from prefixlint import providers, sources

    records = sources.read(path, [])
    if not stream:
        records = list(records)
    out = []
    for record in records:
        kind = providers.detect(record.body, record)[0]
        prompt = providers.normalize(kind, record.body, record)
        out.append([(b.section, b.pointer, b.hash) for b in prompt.blocks])
    return out


@pytest.mark.parametrize("writer", ["orjson", "python"])
def test_history_takes_the_readers_word_for_the_repeated_messages(tmp_path, monkeypatch, writer):
    """On a spliced line the reader says which messages it put in as an earlier line's objects
    (Record.repeats): History then skips comparing them one by one. Its results are a fresh
    History's, also when every line is read before any is normalised (an earlier line's list may
    then have had a message replaced by an equal copy after the reader took from it)."""
    from prefixlint.providers import anthropic, base, openai

    real = base.compress
    for side in (False, True):
        lines, history = [], conversation(2, seed=60)
        for turn in range(8):
            lines.append(WRITERS[writer](envelope(list(history), turn)))
            history += [message(len(history), seed=60), message(len(history) + 1, seed=60)]
            if side and turn == 4:  # a side request that repeats the opening, then the conversation goes on
                lines.append(WRITERS[writer](envelope(history[:3], 50)))
            if turn == 5:  # the last message replaced (a cache marker moved on): all but it repeated
                history[-3] = message(len(history) - 3, seed=61)
        log = tmp_path / f"log{side}.jsonl"
        log.write_bytes(b"\n".join(lines) + b"\n")
        fresh = []
        for line in lines:
            monkeypatch.setattr(anthropic, "_HISTORY", base.History())
            fresh.append(_lint_prompts_one(line))
        for stream in (True, False):
            scans = []
            monkeypatch.setattr(base, "compress", lambda *a: scans.append(1) or real(*a))
            monkeypatch.setattr(anthropic, "_HISTORY", base.History())
            monkeypatch.setattr(openai, "_CHAT_HISTORY", base.History())
            assert _lint_prompts(str(log), stream) == fresh
            if not side:
                assert scans == []  # every continued turn took the reader's word
        records = list(prefixlint.sources.read(str(log), []))
        assert [r.repeats[2] if r.repeats else 0 for r in records][:4] == [0, 0, 4, 6]
        assert all(r.repeats is None or r.repeats[0] is r.body["messages"] for r in records)


def _lint_prompts_one(line: bytes) -> list[tuple]:
    from prefixlint import providers
    from prefixlint.model import Origin, Record

    obj = orjson.loads(line)
    record = Record(obj["request"], Origin("x"))
    prompt = providers.normalize(providers.detect(record.body, record)[0], record.body, record)
    return [(b.section, b.pointer, b.hash) for b in prompt.blocks]


def test_list_memo_recognises_the_last_few_lists_by_identity(monkeypatch):
    """An agent and its subagents alternate between a few tool lists: each is found again by the
    identity of its items (no serialisation) while it is one of the last LATEST_LISTS."""
    from prefixlint.providers import base

    memo = base.ListMemo()
    lists = [[{"name": f"tool {n}-{i}"} for i in range(3)] for n in range(base.LATEST_LISTS + 1)]
    for items in lists:
        raw, found = memo.find(items)
        assert raw == orjson.dumps(items) and found is None  # new: looked up by its serialisation
        memo.store(raw, ("built", items[0]["name"]), items)
    serialised = []
    monkeypatch.setattr(base.ListMemo, "lookup", lambda self, value: serialised.append(value) or (None, None))
    for items in reversed(lists[1:]):  # the last LATEST_LISTS, in any order
        assert memo.find(list(items)) == (None, ("built", items[0]["name"]))
    assert serialised == []
    assert memo.find(list(lists[0])) == (None, None) and serialised == [lists[0]]  # the oldest fell out
    copy = orjson.loads(orjson.dumps(lists[1]))  # equal but other objects: by serialisation
    memo.find(copy)
    assert serialised[-1] is copy
    memo.reuse(orjson.dumps(copy), copy, ("built", "tool 1-0"), lists[1])  # the request's list takes the kept items
    assert all(map(lambda a, b: a is b, copy, lists[1]))


def test_by_identity_computes_once_per_list_of_the_same_objects():
    from prefixlint.providers import base

    calls = []
    memo = base.ByIdentity(size=3)
    lists = [[object() for _ in range(n + 2)] for n in range(3)]

    def compute(items):
        calls.append(items)
        return len(calls)

    assert [memo.get(items, compute) for items in lists] == [1, 2, 3]
    assert [memo.get(list(items), compute) for items in reversed(lists)] == [3, 2, 1]  # (other lists, same objects)
    assert memo.get([*lists[2][:-1], object()], compute) == 4  # the same first object and length, another last
    assert memo.get(list(lists[2]), compute) == 5  # (that took its place)
    assert memo.get([object()], compute) == 6  # a fourth list: the first one kept goes
    assert memo.get(list(lists[1]), compute) == 2
    assert memo.get(list(lists[0]), compute) == 7
    assert memo.get([], compute) == memo.get([], compute) == 8


@pytest.mark.parametrize("value", [
    {"a": [1, 2.5, -0.0, 1e300, 10**30, True, None, "é\u2028\x00\x7f\ud800x", {"b": []}]},
    "s", 3, [float("nan"), float("inf"), float("-inf")], {}, [], "ü😀" * 3, {"k": {"n": [[]]}},
])
def test_python_writers_write_what_json_dumps_writes(value):
    """The writers made once from the standard library's encoder write what json.dumps does."""
    assert splice._spaced(value) == json.dumps(value).encode()
    assert splice._spaced_raw(value) == json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")
    assert splice._compact_escaped(value) == json.dumps(value, separators=(",", ":")).encode()
    with pytest.raises(TypeError):
        splice._spaced([value, object()])


def test_history_drops_an_entry_no_request_used_for_idle_requests(monkeypatch):
    """A finished conversation's entry goes after IDLE_REQUESTS requests that did not use it; the
    conversations that go on keep theirs."""
    from prefixlint.providers import base, openai

    monkeypatch.setattr(base, "IDLE_REQUESTS", 4)
    history = base.History()
    monkeypatch.setattr(openai, "_CHAT_HISTORY", history)
    done = conversation(3, seed=70)
    _chat(done)
    live = [conversation(2, seed=c) for c in range(2)]
    for turn in range(4):
        for c, msgs in enumerate(live):
            msgs.append(message(2 + turn, seed=c))
            _chat(msgs)
            assert (id(done[1]) in history.recent) == (history.requests - 1 <= base.IDLE_REQUESTS)
    assert all(id(msgs[1]) in history.recent for msgs in live)
    assert history.recent_bytes == sum(r.held for r in history.recent.values())


# --------------------------------------------------------------------------------------------------
# Where an array's elements end: objects found by parsing up to a "}" that may end them


def _tricky_elements(tricky: int) -> list:
    """Objects whose strings hold "}" before "," and "{" or before "]" (``tricky`` times each), nested
    objects and arrays of objects, and elements that are no object (a number alone, whose end no
    writer or scan tells, would leave the array unremembered)."""
    return [
        {"role": "user", "content": "a}, {b " * tricky + "c} ]d " * tricky + "é€"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "function": {"name": "f", "arguments": '{"a": [{}], "b": {"c": {}}}'}},
            {"id": "c2", "function": {"name": "g", "arguments": "{}"}},
        ]},
        "a string }, {",
        [7, {"a": "}]"}],
        {"role": "user", "nested": {"deep": [{"x": {}}, {"y": [{}]}]}},
        {"role": "tool", "content": "x}, {" * tricky, "extra": [{"k": "}]"}]},
    ]


def _element_offsets(line: bytes, start: int) -> tuple[int, list[int]]:
    """(offset of the "]", offsets of the commas) of the array whose content starts at ``start``,
    found with the standard library's decoder (another parser than the one under test)."""
    text = line.decode()
    decoder = json.JSONDecoder()
    to_bytes = lambda i: len(text[:i].encode())  # noqa: E731
    i = len(line[:start].decode())
    commas = []
    while True:
        while text[i] in " \t\r\n":
            i += 1
        _, i = decoder.raw_decode(text, i)
        while text[i] in " \t\r\n":
            i += 1
        if text[i] == "]":
            return to_bytes(i), commas
        assert text[i] == ","
        commas.append(to_bytes(i))
        i += 1


@pytest.mark.parametrize("tricky", [0, 1, splice.OBJECT_TRIES - 1, splice.OBJECT_TRIES + 2])
@pytest.mark.parametrize("writer", WRITERS)
def test_array_ends_with_brackets_inside_strings_and_nested_objects(writer, tricky):
    """The end of each element and of the array are where another parser finds them, whether the
    candidate "}" are in strings or nested values (tried and refused) or more than OBJECT_TRIES
    (the element is then written again instead)."""
    elements = _tricky_elements(tricky)
    line = WRITERS[writer]({"messages": elements, "after": {"k": [{"v": "}]"}]}})
    start = Splicer()._array_start(line, splice.KEY, 0, len(line))
    values = orjson.loads(line)["messages"]
    assert Splicer()._ends(line, start, values, 0) == _element_offsets(line, start)
    # from the third element on, as for a line that repeats the first two
    end, commas = _element_offsets(line, start)
    assert Splicer()._ends(line, commas[1] + 1, values, 2) == (end, commas[2:])


@pytest.mark.parametrize("writer", ["orjson", "python", "odd-spacing"])
def test_object_end_tries_a_bounded_number_of_candidates(writer):
    """An object whose strings hold more "}" candidates than OBJECT_TRIES is not found by parsing
    (-1: the caller writes it again); with fewer, its end is found exactly."""
    for tricky, found in ((splice.OBJECT_TRIES - 1, True), (splice.OBJECT_TRIES, False)):
        element = {"content": "x}, {" * tricky}
        line = WRITERS[writer]([element, {"next": 1}])
        pos = line.index(b"{")
        want = pos + len(WRITERS[writer](element)) if writer != "odd-spacing" else _element_offsets(line, 1)[1][0]
        while writer == "odd-spacing" and line[want - 1] != ord("}"):
            want -= 1
        got = splice._object_end(line, memoryview(line), pos, False)
        assert got == (want if found else -1)


def test_a_conversation_with_brackets_inside_its_strings_splices_every_line():
    """Lines of a conversation whose messages hold "}, {" and "}]" in strings and nested objects are
    exact and repeat all of the previous line's messages (their ends were found right)."""
    s = Splicer()
    history = conversation(2)
    for turn in range(6):
        obj = check(s, WRITERS["python"](envelope(history, turn)) + b"\n")
        assert msgs(obj) == history
        history = [*history, *_tricky_elements(turn)[:2]]
        history[-2]["content"] += text(turn, 1200)  # (each line adds more than MIN_SHARED bytes)
    assert counts(s) == (1, 5)


@pytest.mark.parametrize("tricky", [0, 1])  # (the first object then has 0 or 2 candidates that fail)
@pytest.mark.parametrize("writer", WRITERS)
def test_appended_objects_are_parsed_one_by_one_where_they_end(writer, tricky):
    """The objects after the repeated elements are parsed each on its own: their values are
    orjson's, and the commas and the "]" are where another parser finds them."""
    elements = [e for e in _tricky_elements(tricky) if isinstance(e, dict)]
    line = WRITERS[writer]({"messages": elements, "after": {"k": [{"v": "}]"}]}})
    start = Splicer()._array_start(line, splice.KEY, 0, len(line))
    end, commas = _element_offsets(line, start)
    # (told how an element begins and what follows the array, as an earlier line of the log would)
    head, after = line[commas[-1] + 1 :].lstrip()[: splice.AFTER], line[end : end + splice.AFTER]
    values, got_end, got_commas = splice._appended(line, commas[0], head, after)
    assert (got_end, got_commas) == (end, commas[1:])
    assert_same(values, orjson.loads(line)["messages"][1:])
    # told otherwise (a log whose lines differ there): None, and the caller parses the rest whole
    assert splice._appended(line, commas[0], head, b"]}") is None
    assert splice._appended(line, commas[0], b'{"x"', after) is None


@pytest.mark.parametrize("writer", ["orjson", "python", "odd-spacing"])
def test_appended_elements_that_are_not_all_objects_are_left_to_the_whole_parse(writer):
    """A string or an array among the new elements, or an object with more candidate ends than
    OBJECT_TRIES, gives None: the caller then parses the rest of the line with them."""
    for elements in ([{"a": 1}, {"b": "x"}, "text"], [{"a": 1}, [{"b": 2}]],
                     [{"a": 1}, {"c": "}, {" * splice.OBJECT_TRIES}]):
        line = WRITERS[writer]({"messages": elements})
        start = Splicer()._array_start(line, splice.KEY, 0, len(line))
        end, commas = _element_offsets(line, start)
        assert splice._appended(line, commas[0], b"{", line[end:]) is None


def test_marked_arrays_are_found_where_they_were_and_elsewhere():
    """The marked arrays are looked for first where they were on the last line; a line of another
    shape (the messages deeper, a tool list added, the messages key twice) is still exact."""
    s = Splicer()
    history = conversation(3)
    shapes = [
        lambda h, t: envelope(h, t),
        lambda h, t: {"wrapped": envelope(h, t)},  # the same arrays one object deeper
        lambda h, t: {**envelope(h, t), "request": {**envelope(h, t)["request"], "tools": TOOLS}},
        lambda h, t: envelope(h, t),
    ]
    for turn, shape in enumerate(shapes * 2):
        check(s, orjson.dumps(shape(history, turn)))
        history = [*history, message(len(history))]
    assert s.spliced >= 6
    # the messages key twice in one object: orjson keeps the last array, not the one cut (which
    # repeats the last line's messages), so the marker is nowhere and the line is parsed whole
    last = orjson.dumps(envelope(history, 9))
    twice = last.replace(b',"temperature":', b',"messages":[1],"temperature":', 1)
    whole = s.whole
    assert check(s, twice)["request"]["messages"] == [1]
    assert s.whole == whole + 1
    check(s, orjson.dumps(envelope(history, 10)))


@pytest.mark.parametrize("writer, parsed", [("orjson", False), ("python-compact", True), ("python", True)])
def test_ends_are_found_the_way_that_worked_last(monkeypatch, writer, parsed):
    """A log orjson wrote has its elements' ends found by writing them again with orjson (the
    cheapest there); in a log written otherwise, parsing up to an object's end comes first and the
    new messages of a spliced line are parsed one by one."""
    calls = []
    real = splice._appended
    monkeypatch.setattr(splice, "_appended", lambda *a: calls.append(a) or real(*a))
    s = Splicer()
    history = conversation(2)
    for turn in range(5):
        check(s, WRITERS[writer](envelope(history, turn)))
        history = [*history, message(len(history))]
    assert (s.writers[0] is not orjson.dumps) == parsed
    assert len(calls) == (4 if parsed else 0)
    assert counts(s) == (1, 4)

