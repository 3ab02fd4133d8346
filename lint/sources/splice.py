"""Parse the lines of an agent log without parsing again the messages they repeat.

Every request of a conversation re-sends the messages of the previous one, so in a JSON Lines log
most bytes of a line are a copy of bytes an earlier line already held: the previous turn's
``"messages": [...]`` array, character for character. :class:`Splicer` remembers, for recent
lines, the raw bytes of that array's content and the values orjson parsed from it. When a new line
holds the same bytes at the start of its own ``"messages"`` array, followed by ``,`` (messages were
appended) or ``]`` (the same messages), only the rest of the line is parsed: the repeated elements
are cut out and a marker value takes their place; the parsed marker is then replaced by the
remembered values. Nothing else changes: the result equals ``orjson.loads(line)``.

Why this is exact:

- Equal bytes that form complete JSON values parse to equal values wherever a value may start.
  The remembered bytes are the first elements of an array of an earlier line, with their commas,
  and they are followed by ``,`` or ``]`` in the new line.
- They start right after the ``[`` of an array of the new line: the text before them is that of
  the new line itself, and the marker (a string holding a random per-process token, which no log
  holds) is found again as the *first element of an array* of the parsed result; that array is
  the one the cut was made in, and a key repeated later in the same object would have replaced it
  (orjson keeps the last), in which case the marker is not found and the line is parsed whole.
- Any doubt (the marker not found, the rest not parsing, a ``"messages"`` that is not followed by
  an array) falls back to parsing the whole line, so that a malformed line is reported exactly as
  before.
- So any array under the key is exact to cut at, not only the first one in the line: the key is
  looked for first at the offsets where it was on the last few lines (the requests of one agent
  have the same head, so the same offsets), then searched for.

The tool definitions and a system prompt given as blocks, the same on every turn, are cut out the
same way when they repeat, byte for byte up to their ``]``, one of the last few arrays seen under
that key (each with its own marker): before the messages (Anthropic's order), or after them (the
OpenAI SDK's) when the line was spliced (then only its new bytes are searched for the key; a key
found inside a new message leaves its marker where it is not looked for, and the line is parsed
whole). The request then holds the very same tool objects as before, which the normalisers
recognise without serialising them again.

Where a line's array ends is found from its *new* elements only. In a log orjson wrote (as its
last element showed), each is written again with orjson and compared with the line's bytes:
the cheapest way there. Otherwise an object (a message, a tool definition) ends at a "}"
followed by the next element or the "]": the first such "}" up to which the bytes parse as one
whole value (orjson, which refuses trailing bytes; JSON is read left to right, so the line's own
parse reads that same value there). When every new element of a spliced line is an object, each
is parsed so, once, and the rest of the line is parsed with the array closed right after the
marker. Any other element is written again from its parsed value the way the log writes
(compact, or Python's spaced and escaped JSON: whichever matched last) and compared with the
line's bytes; an element written some other way is scanned (strings skipped by a regular
expression, brackets counted). The cost per line follows what the line adds, not its length.

Memory: the lines the remembered arrays are views of hold at most ``MAX_BYTES`` (8 MiB); when
that is reached, the array used longest ago goes first, whatever its opening (the first
``MIN_SHARED`` bytes of the array, which any line worth splicing repeats: the conversations of one
agent often share it, and are told apart by the full comparison); at most ``PER_OPENING`` (16)
arrays per opening; and an array that no line used within the last ``IDLE_LINES`` (256) lines
goes, such as a finished conversation's (it would keep its parsed values alive too). Also kept:
the last ``PER_BEFORE`` tool lists and system prompts of at most ``MAX_BEFORE`` (1 MiB) each. The
parsed values are those the request bodies hold anyway (the normalisers keep them for the history
of each conversation).
"""

from __future__ import annotations

import json
import os
import re
from bisect import bisect_right
from collections import OrderedDict
from typing import Any

import orjson

KEY = b'"messages":'
# Arrays a request sends before its messages, unchanged from turn to turn: cut out too.
BEFORE = (b'"system":', b'"tools":')
MIN_BEFORE = 1024  # a tool list or system prompt shorter than this (up to the messages or the line's end) is left
MAX_BEFORE = 1024 * 1024  # a longer tool list or system prompt is not remembered
PER_BEFORE = 4  # tool lists (and system prompts) remembered: a main agent's and its subagents'
MIN_SHARED = 1024  # repeated bytes worth cutting out (below: parse the whole line)
OPENING = MIN_SHARED  # bytes of an array's content that select the earlier lines to compare with
MAX_BYTES = 8 * 1024 * 1024
MAX_ARRAY = MAX_BYTES // 2  # an array longer than this is not remembered
PER_OPENING = 16
PLACES = 4  # offsets remembered per key
IDLE_LINES = 256  # an array no line continued or repeated within this many lines is forgotten
MAX_DEPTH = 4  # how deep in the parsed line (through objects only) the marked array may be

_WS = b" \t\r\n"
# A JSON string (skipped whole), a bracket or a comma: what the end-of-array scan looks at.
_TOKEN = re.compile(rb'"(?:[^"\\]++|\\.)*+"|[\[\]{},]', re.DOTALL)
_OPEN = frozenset(b"[{")
# Where an object that is an array's element may end: a "}" before the next object, or before the "]".
_NEXT_OBJECT = re.compile(rb"\}(?=[ \t\r\n]*,[ \t\r\n]*\{)")
_ARRAY_END = re.compile(rb"\}(?=[ \t\r\n]*\])")
# Either (a "]" is captured: what follows it must be what followed the array on the earlier line)
_APPENDED_END = re.compile(rb"\}[ \t\r\n]*(?:,[ \t\r\n]*(\{)|(\]))")
# Bytes remembered after an array's "]" ('], "tools"') and at the start of its last element
# ('{"role":'): what tells the end of a message from the end of a list or object nested in it
AFTER = 8
OBJECT_TRIES = 4  # candidate ends parsed per object before it is written again instead
_DELIMITED = (b"{", b"[", b'"')  # values whose text is no prefix of another value's


def _python_writer(ascii: bool, item: str, key: str) -> Any:
    """``json.dumps(value, ensure_ascii=ascii, separators=(item, key))`` as text: the standard
    library's C encoder, made once (``json.dumps`` makes one per call, with a check for cycles that
    parsed JSON cannot hold)."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # (an interpreter without the C accelerator)
        return lambda value: json.dumps(value, ensure_ascii=ascii, separators=(item, key))
    escape = json.encoder.encode_basestring_ascii if ascii else json.encoder.encode_basestring

    def unserialisable(value: Any) -> Any:
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")

    encoder = make(None, unserialisable, escape, None, key, item, False, False, True)
    return lambda value: "".join(encoder(value, 0))


_SPACED = _python_writer(True, ", ", ": ")
_SPACED_RAW = _python_writer(False, ", ", ": ")
_COMPACT_ESCAPED = _python_writer(True, ",", ":")


def _spaced(value: Any) -> bytes:
    return _SPACED(value).encode()  # Python's default: ", " and ": ", non-ASCII escaped


def _spaced_raw(value: Any) -> bytes:
    return _SPACED_RAW(value).encode("utf-8", "surrogatepass")


def _compact_escaped(value: Any) -> bytes:
    return _COMPACT_ESCAPED(value).encode()


# How logs are commonly written: orjson / JSON.stringify / Go (compact, raw UTF-8), Python's json.
_ORJSON = orjson.dumps
_WRITERS = (_ORJSON, _spaced, _spaced_raw, _compact_escaped)


class _Seen:
    """One earlier line's array: its content's bytes, the offsets (in ``data``) of the commas
    between its elements, and the values parsed from them (the list the request body holds;
    ``count`` guards against it having changed length since), the bytes from its "]" on and the
    first bytes of its last element (``AFTER`` of each: see _appended)."""

    __slots__ = ("data", "commas", "values", "count", "held", "used", "after", "head")

    def __init__(self, data: memoryview, commas: list[int], values: list[Any], held: int, used: int,
                 after: bytes, head: bytes) -> None:
        self.data, self.commas, self.values, self.count = data, commas, values, len(values)
        self.after, self.head = after, head
        self.held = held  # the bytes kept alive: the whole line ``data`` is a view of
        self.used = used  # the number of the line that last used it (or was it)


class Splicer:
    """``loads(line)`` = ``orjson.loads(line)``, reusing what earlier lines of the log parsed."""

    __slots__ = ("marker", "marker_json", "seen", "order", "bytes", "lines", "spliced", "whole", "writers", "before",
                 "markers", "places", "names", "paths", "repeats")

    def __init__(self) -> None:
        self.marker = "\x00prefixlint-splice-" + os.urandom(12).hex()
        self.marker_json = orjson.dumps(self.marker)
        self.seen: dict[bytes, list[_Seen]] = {}  # opening -> its arrays, the latest last
        # Every remembered array, least recently used first (and its opening): what goes first when
        # MAX_BYTES is reached, whatever its opening (conversations of one agent often share one).
        self.order: OrderedDict[_Seen, bytes] = OrderedDict()
        self.bytes = 0
        self.lines = 0
        self.spliced = 0  # lines parsed in part (for tests and the benchmark)
        self.whole = 0
        self.writers = list(_WRITERS)  # the one that wrote this log's last element first
        # The arrays a request sends before its messages, the same on every turn (tool definitions,
        # a system prompt as blocks): per key, the latest few, as (bytes, values).
        self.before: dict[bytes, list[tuple[bytes, list[Any]]]] = {key: [] for key in BEFORE}
        self.names = {key: f"{self.marker}-{key[1:-2].decode()}" for key in BEFORE}
        self.markers = {key: orjson.dumps(name) for key, name in self.names.items()}
        # Per marker, the keys that led to its array on the last line it was found: looked at first
        # (an agent's lines have the same shape), then the parsed line is searched.
        self.paths: dict[str, tuple[str, ...]] = {}
        # Per key, where it was on the last few lines: the requests of one agent have the same
        # head, so their keys are at the same offsets (looked at before searching the line).
        self.places: dict[bytes, list[int]] = {key: [] for key in (KEY, *BEFORE)}
        # For the line just parsed, when it was spliced: (its messages list, the earlier line's
        # list, k), its first k messages being the earlier list's first k objects (see Record.repeats)
        self.repeats: tuple[list[Any], list[Any], int] | None = None

    def loads(self, line: bytes) -> Any:
        """The parsed line; raises ``orjson.JSONDecodeError`` exactly when ``orjson.loads`` does."""
        self.lines += 1
        self.repeats = None
        start = self._array_start(line, KEY, 0, len(line))
        opening = line[start : start + OPENING] if start > 0 else b""
        if len(opening) < OPENING or opening.lstrip(_WS)[:1] == b"]":  # no array, or a short or empty one
            self.whole += 1
            return orjson.loads(line)
        candidates = self.seen.get(opening)
        if candidates:
            best, k, cut = -1, 0, start
            for i in range(len(candidates) - 1, -1, -1):  # the one repeating the most; the latest of equals
                seen = candidates[i]
                if len(seen.values) != seen.count:
                    continue
                shared, until = _shared(line, start, seen)
                if until > cut:
                    best, k, cut = i, shared, until
                    if shared == seen.count:
                        break  # all of it: the conversation this line continues
            if best >= 0 and cut - start >= MIN_SHARED:
                seen = candidates[best]
                # The first k elements (the bytes up to ``cut``, a "," or the "]") are repeated.
                # (Tool definitions sent after the messages, as the OpenAI SDK orders a body, are
                # in the rest: cut out there too.)
                sites: list[tuple] = []
                head, absent = self._cut(line, 0, start, sites, BEFORE)
                # The new elements, when they are objects (messages), are parsed one by one where
                # they end (see _appended); the rest is parsed with the "]" right after the marker.
                added = None
                if line[cut] == 0x2C and self.writers[0] is not _ORJSON:  # (see _element_end)
                    added = _appended(line, cut, seen.head, seen.after)
                after = cut if added is None else added[1]
                rest = self._cut(line, after, len(line), sites, absent)[0]  # (the keys not found before)
                found = self._parse_marked(head + self.marker_json + rest, sites)
                if found is not None:
                    obj, values = found
                    if added is None:
                        values[0:1] = seen.values[:k]
                    else:
                        repeated = seen.values[:k]
                        repeated += added[0]
                        values[0:1] = repeated
                    # the line continues that one, perhaps with its last message changed (a cache
                    # marker that moves on to the new last message): it takes its place, and its
                    # offsets are taken over; else another conversation that opens alike, or an
                    # edit: both are kept
                    replaces = k == seen.count or (k == seen.count - 1 and len(values) > seen.count)
                    if replaces:
                        self._forget(seen, opening)
                        commas = seen.commas
                        del commas[k - 1 :]
                    else:
                        self.order.move_to_end(seen)
                        seen.used = self.lines
                        commas = seen.commas[: k - 1]
                    self.spliced += 1
                    if line[cut] == 0x5D:  # "]": no element after the repeated ones
                        end = cut
                    else:
                        end, more = self._ends(line, cut + 1, values, k) if added is None else added[1:]
                        commas.append(cut - start)
                        commas += [c - start for c in more]
                    self._remember(opening, line, start, end, commas, values)
                    self.repeats = (values, seen.values, k)
                    return obj
        # Parsed whole, with the marker in front of the array's elements, so that the parsed array
        # is known for sure (see the module's docstring).
        sites = []
        head = self._cut(line, 0, start, sites, BEFORE)[0]
        found = self._parse_marked(head + self.marker_json + b"," + line[start:], sites)
        self.whole += 1
        if found is None:
            return orjson.loads(line)
        obj, values = found
        del values[0]
        end, commas = self._ends(line, start, values, 0)
        self._remember(opening, line, start, end, [c - start for c in commas], values)
        return obj

    def _ends(self, line: bytes, pos: int, values: list[Any], first: int) -> tuple[int, list[int]]:
        """(offset of the array's closing ``]``, offsets of the commas between its elements from
        ``pos`` on), -1 when not found; ``pos`` is where element ``values[first]`` starts (or the
        whitespace before it).

        Each element's extent is found by :meth:`_element_end`: written again from its parsed
        value the way the log was written (compact or spaced JSON, escaped or raw UTF-8:
        whichever matched last), the line holding exactly those bytes there, or, for an object in
        a log orjson did not write, by parsing the line's bytes up to where it may end
        (:func:`_object_end`); an element found neither way is scanned."""
        commas: list[int] = []
        n = len(line)
        last = len(values) - 1
        view = memoryview(line)
        for i in range(first, len(values)):
            while pos < n and line[pos] in _WS:
                pos += 1
            pos = self._element_end(line, view, pos, values[i], i == last) if pos < n else -1
            if pos < 0:
                return -1, commas
            while pos < n and line[pos] in _WS:
                pos += 1
            c = line[pos] if pos < n else -1
            if c == 0x5D:
                return (pos, commas) if i == last else (-1, commas)
            if c != 0x2C:
                return -1, commas
            commas.append(pos)
            pos += 1
        return -1, commas

    def _element_end(self, line: bytes, view: memoryview, pos: int, value: Any, last: bool) -> int:
        """Offset just after the element ``value`` that starts at ``pos`` (-1 when not found).

        In a log orjson wrote (its last element was), the element is written again with orjson,
        the cheapest way there; otherwise an object is parsed up to where it ends (cheaper than
        the standard library's encoder). Else the writers are tried, the one that matched last
        first, and then the element is scanned."""
        writers = self.writers
        if line[pos] == 0x7B and writers[0] is not _ORJSON:  # "{": a message, a tool definition
            end = _object_end(line, view, pos, last)
            if end > 0:
                return end
        for w, write in enumerate(writers):
            try:
                text = write(value)
            except (TypeError, ValueError, RecursionError):  # (nesting deeper than the writer goes)
                continue
            if text[:1] in _DELIMITED and line.startswith(text, pos):
                if w:
                    writers.insert(0, writers.pop(w))
                return pos + len(text)
        return _value_end(line, pos)

    def _parse_marked(self, stub: bytes, before: list[tuple]) -> tuple[Any, list[Any]] | None:
        """The parsed ``stub`` and its array whose first element is the marker (the messages);
        the tool and system arrays cut or marked (``before``, see :meth:`_cut`) are filled in and
        remembered. None when the stub does not parse or a marked array is not found where it may
        be (then the caller parses the line whole)."""
        try:
            obj = orjson.loads(stub)
        except orjson.JSONDecodeError:
            return None
        names = [self.marker, *(self.names[site[2]] for site in before)]
        found = self._marked(obj, names)
        if found is None:
            return None
        if not before:
            return obj, found[self.marker]
        for name, (line, start, key, repeated) in zip(names[1:], before):
            values = found[name]
            if repeated is not None:  # the very same array as an earlier line's: its values again
                values[0:1] = repeated[1]
                continue
            del values[0]
            end, _ = self._ends(line, start, values, 0)
            while end > start and line[end - 1] in _WS:
                end -= 1
            if start < end <= start + MAX_BEFORE:
                kept = self.before[key]
                kept.append((line[start:end], values[:]))
                if len(kept) > PER_BEFORE:
                    del kept[0]
        return obj, found[self.marker]

    def _marked(self, obj: Any, names: list[str]) -> dict[str, list[Any]] | None:
        """The array each marker heads in the parsed stub ``obj`` (see :func:`_find_all_marked`),
        each looked for first where it was on the last line. That is exact: each marker is written
        into the stub once, so one array at most can begin with it, wherever it is found."""
        paths = self.paths
        found: dict[str, list[Any]] = {}
        for name in names:
            node = obj
            for key in paths.get(name, (None,)):
                node = node.get(key) if type(node) is dict else None
            if type(node) is not list or not node or node[0] != name or type(node[0]) is not str:
                found = _find_all_marked(obj, names, paths)  # (and the paths to them, for the next line)
                break
            found[name] = node
        return found

    def _array_start(self, line: bytes, key: bytes, lo: int, hi: int) -> int:
        """Offset just after the ``[`` of an array of ``key`` between ``lo`` and ``hi`` (-1 when
        there is none): where the key was on the last few lines if it is there again, else the
        first one (:func:`_array_found`). Any of the key's arrays is exact to cut at, not only the
        first: see the module's docstring."""
        places = self.places[key]
        for i in places:
            if lo < i < hi and line.startswith(key, i):
                at = _array_at(line, key, i, hi)
                if at > 0:
                    return at
        at, i = _array_found(line, key, lo, hi)
        if at > 0:
            places.insert(0, i)
            del places[PLACES:]
        return at

    def _cut(self, line: bytes, lo: int, hi: int, sites: list[tuple],
             keys: tuple[bytes, ...]) -> tuple[bytes, tuple[bytes, ...]]:
        """``line[lo:hi]`` (what comes before the messages, or after the repeated ones) with the
        tool and system arrays (of ``keys``) it holds cut out where they repeat an earlier line's
        (byte for byte, up to their "]"), a marker in their place, or marked to be remembered,
        and the keys it does not hold; the sites cut or marked are added to ``sites``, in order."""
        found = []
        absent = []
        for key in keys:
            at = self._array_start(line, key, lo, hi)
            if at < 0:
                absent.append(key)
                continue
            if line[at : at + 1] == b"]":
                continue
            repeated = None
            cut = at
            for kept in reversed(self.before[key]):
                if line.startswith(kept[0], at):
                    end = at + len(kept[0])
                    while end < hi and line[end] in _WS:
                        end += 1
                    if line[end : end + 1] == b"]":
                        repeated, cut = kept, end
                        break
            if repeated is None and hi - at < MIN_BEFORE:
                continue  # (too short to be worth it)
            found.append((at, cut, key, repeated))
        if not found:
            return line[lo:hi], tuple(absent)
        found.sort()
        pieces = []
        pos = lo
        for at, cut, key, repeated in found:
            if at < pos:  # one inside the other: not worth sorting out
                return line[lo:hi], tuple(absent)
            pieces += (line[pos:at], self.markers[key], b"" if repeated else b",")
            pos = cut
        pieces.append(line[pos:hi])
        sites += [(line, at, key, repeated) for at, _, key, repeated in found]
        return b"".join(pieces), tuple(absent)

    def _remember(self, opening: bytes, line: bytes, start: int, end: int, commas: list[int],
                  values: list[Any]) -> None:
        """Keep ``line[start:end]`` (an array's content, ``values`` parsed) for the next lines."""
        if end < 0 or len(commas) + 1 != len(values):
            return
        after = line[end : end + AFTER]
        while end > start and line[end - 1] in _WS:
            end -= 1
        n = end - start
        if n < MIN_SHARED or n > MAX_ARRAY:
            return
        candidates = self.seen.get(opening)
        if candidates is None:
            candidates = self.seen[opening] = []
        last = start + commas[-1] + 1 if commas else start
        while line[last] in _WS:
            last += 1
        seen = _Seen(memoryview(line)[start:end], commas, values, len(line), self.lines,  # (a view: no copy)
                     after, line[last : last + AFTER])
        candidates.append(seen)
        self.order[seen] = opening
        self.bytes += len(line)
        if len(candidates) > PER_OPENING:
            self._forget(candidates[0], opening)
        while len(self.order) > 1:
            oldest, its_opening = next(iter(self.order.items()))
            if self.bytes <= MAX_BYTES and oldest.used >= self.lines - IDLE_LINES:
                break
            self._forget(oldest, its_opening)

    def _forget(self, seen: _Seen, opening: bytes) -> None:
        candidates = self.seen[opening]
        for i, kept in enumerate(candidates):
            if kept is seen:
                del candidates[i]
                break
        if not candidates:
            del self.seen[opening]
        del self.order[seen]
        self.bytes -= seen.held


def _shared(line: bytes, start: int, seen: _Seen) -> tuple[int, int]:
    """(k, cut): the line's array, from ``start``, repeats the first k elements of ``seen`` and
    goes on at ``cut`` with "," or "]"; (0, start) when not even the first element is repeated."""
    data = seen.data
    n = len(data)
    if line.startswith(data, start):
        after = line[start + n : start + n + 1]
        if after == b"," or after == b"]":
            return len(seen.values), start + n
    # The usual case after a full match: all but the last element (whose cache marker moved). A look
    # at the bytes before the last comma comes first, then the comparison of everything before it.
    view = memoryview(data)  # (compared in place, without copies)
    if seen.commas:
        c = seen.commas[-1]
        w = max(0, c - 32)
        if line.startswith(view[w : c + 1], start + w) and line.startswith(view[: c + 1], start):
            return len(seen.values) - 1, start + c
    # The first byte that differs, then the last comma between elements before it.
    step = 4096
    lo = 0
    while lo < n and line.startswith(view[lo : lo + step], start + lo):
        lo += step
    hi = min(n, lo + step)
    while hi - lo > 1:  # data[:lo] is repeated, data[:hi] is not (or hi == n)
        mid = (lo + hi) // 2
        if line.startswith(view[lo:mid], start + lo):
            lo = mid
        else:
            hi = mid
    j = bisect_right(seen.commas, lo - 1)  # commas before offset lo: repeated with what precedes them
    if j == 0:
        return 0, start
    return j, start + seen.commas[j - 1]


def _array_found(line: bytes, key: bytes, lo: int, n: int) -> tuple[int, int]:
    """(offset just after the ``[``, offset of ``key``) of the first ``key`` followed by an array
    between ``lo`` and ``n``; (-1, -1) when there is none."""
    i = line.find(key, lo, n)
    for _ in range(4):  # (the first occurrences may be a key of the same name that is no array)
        if i <= 0:
            return -1, -1
        at = _array_at(line, key, i, n)
        if at > 0:
            return at, i
        i = line.find(key, i + len(key), n)
    return -1, -1


def _array_at(line: bytes, key: bytes, i: int, n: int) -> int:
    """Offset just after the ``[`` when ``line`` holds ``key`` at ``i`` followed by an array (before
    ``n``), else -1."""
    if line[i - 1] == 0x5C:  # (a backslash: not a key but text inside a string)
        return -1
    j = i + len(key)
    while j < n and line[j] in _WS:
        j += 1
    return j + 1 if j < n and line[j] == 0x5B else -1  # "["


def _appended(line: bytes, cut: int, head: bytes, after: bytes) -> tuple[list[Any], int, list[int]] | None:
    """(values, offset of the "]", offsets of the commas between them) of the elements after the
    comma at ``cut`` up to the array's end, each parsed on its own where it ends (as in
    :func:`_object_end`: the first "}" before "," and ``head``, how the earlier line's last element
    began, or before "]" and ``after``, what followed its array, up to which the bytes parse as one
    whole value: so a "}" that ends a list or object nested in a message is passed over without a
    parse); None unless every one is an object found so. Each new byte is then
    parsed once, and the caller parses the rest of the line with the array closed after its marker;
    together that is exactly the line's own parse, for the same reason as in :func:`_object_end`."""
    view = memoryview(line)
    n = len(line)
    values: list[Any] = []
    commas: list[int] = []
    pos = cut + 1
    while True:
        while pos < n and line[pos] in _WS:
            pos += 1
        if pos >= n or line[pos] != 0x7B:  # "{"
            return None
        end, value = _whole_object(line, view, pos, _APPENDED_END, (head, after))
        if end < 0:
            return None
        values.append(value)
        pos = end
        while line[pos] in _WS:  # (the pattern saw "," or "]" after the whitespace)
            pos += 1
        if line[pos] == 0x5D:  # "]"
            return values, pos, commas
        commas.append(pos)
        pos += 1


def _object_end(line: bytes, view: memoryview, pos: int, last: bool) -> int:
    """Offset just after the object that starts at ``pos``, an element of an array followed by
    another object (or, ``last``, by the array's "]"); -1 when not found in ``OBJECT_TRIES`` tries.

    A candidate is a "}" followed by what must come next; it is taken when orjson parses the bytes
    from ``pos`` up to it as one complete value (trailing bytes are refused). That is exact: JSON is
    read left to right without looking back, so where those bytes are one whole value, the line's
    own parse reads that same value there and goes on after it. A "}" inside a string or a nested
    value fails the parse, and the next candidate is tried."""
    return _whole_object(line, view, pos, _ARRAY_END if last else _NEXT_OBJECT)[0]


def _whole_object(line: bytes, view: memoryview, pos: int, ends: re.Pattern[bytes],
                  expected: tuple[bytes, bytes] | None = None) -> tuple[int, Any]:
    """(end, value) of the first "}" that ``ends`` finds from ``pos`` on, up to which the bytes
    parse as one whole value; (-1, None) when none does within ``OBJECT_TRIES`` parses. With
    ``expected`` (_APPENDED_END's groups: how the next element begins, what follows the array's
    "]"), a "}" not followed so is passed over without a parse."""
    tries = OBJECT_TRIES
    for m in ends.finditer(line, pos):
        if expected is not None:
            brace = m.start(1)
            if not (line.startswith(expected[0], brace) if brace >= 0 else line.startswith(expected[1], m.start(2))):
                continue
        end = m.start() + 1
        try:
            return end, orjson.loads(view[pos:end])
        except orjson.JSONDecodeError:
            tries -= 1
            if not tries:
                break
    return -1, None


def _value_end(line: bytes, pos: int) -> int:
    """Offset just after the object, array or string that starts at ``pos``, or -1."""
    depth = 0
    for m in _TOKEN.finditer(line, pos):
        c = line[m.start()]
        if c == 0x22:  # a string
            if not depth:
                return m.end()
        elif c in _OPEN:
            depth += 1
        elif c == 0x2C:  # ","
            if not depth:
                return -1
        else:
            depth -= 1
            if depth <= 0:
                return m.end() if depth == 0 else -1
    return -1


def _find_all_marked(obj: Any, names: list[str], paths: dict[str, tuple[str, ...]]) -> dict[str, list[Any]] | None:
    """The array each marker heads (arrays inside objects only, at most MAX_DEPTH deep); None
    unless every marker is found, each exactly once. ``paths`` gets the keys that lead to each."""
    found: dict[str, list[Any]] = {}
    stack: list[tuple[Any, tuple[str, ...]]] = [(obj, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, list):
            if node and type(node[0]) is str and node[0] in names:
                if node[0] in found:
                    return None
                found[node[0]] = node
                paths[node[0]] = path
            continue
        if isinstance(node, dict) and len(path) < MAX_DEPTH:
            for key, value in node.items():
                if isinstance(value, (list, dict)):
                    stack.append((value, (*path, key)))
    return found if len(found) == len(names) else None
