"""Threads stage: assign every request to the conversation it continues.

A log interleaves conversations: a main agent loop, subagents with their own system prompt and
tools, one-off side calls (titles, summaries, probes), parallel users. Explicit keys come first:
an envelope ``session`` or a user-given ``--session-key`` partitions the log, and an OpenAI
Responses chain links a request to a thread: ``previous_response_id`` to the thread whose last turn
got that response, a ``conversation`` id (which also partitions, like a session) to the last turn
of that conversation. A chained request sends only its new input items, so it is linted as its
*effective* prompt (see :mod:`prefixlint.chains`): the new request's tools and instructions, then
the thread head's context and the previous response's output items (when logged), then the new
items. Carried blocks keep their original pointer behind a marker, ``(previous)/input/0`` or
``(previous)/output/0``; the new request's own blocks keep theirs (``/input/0``). A chain whose
parent we do not hold (not in the log, forgotten, or a branch from an earlier turn than the
thread's last) starts a new thread holding only what the request sent. Within a partition a
request joins the thread whose last turn it most plausibly continues, judged on the conversation
messages (not on tools or system prompt), so that a turn which breaks the prefix (an edited system
prompt, a tool removed, a model swap, a sliding window) is still recognised as the same
conversation:

1. the new request repeats all of the thread's messages as its own leading messages, and either
   adds a reply to them, or keeps the tools or the system prompt, or the thread had more than one
   message; or
2. at least half of the thread's messages reappear in the new request (at least two of them, or
   one when the tools or the system prompt are also unchanged); or
3. nothing but the first message differs, and it is a light edit of the thread's first message
   (same tools and system prompt, the conversation grew, and what changed is a timestamp, a date,
   an id or whitespace: two requests from one template are different conversations).

A side call that repeats only the first user message under another system prompt and other tools
(a title generator) does not join. A request identical to a thread's last turn starts a sibling
thread (a retry or a parallel fan-out), so that the branches do not read as edits of each other.
A summarisation request that re-sends the history under another system prompt or tool list is
attached as a *fork*: it is diffed against the thread but does not become the thread's last turn.

Memory is bounded: only each thread's last turn is kept, and the least recently continued threads
are forgotten once there are more than ``max_threads`` (2,000) of them or their last turns add up
to more than ``max_bytes`` (16 MiB of rendered prompt). A request that continues a forgotten
thread starts a new one. The indexes hold only live threads, per partition.

A thread not continued within the last ``PARK_AFTER`` (256) requests is *parked* (unless its last
turn is under ``PARK_MIN``, 16 KiB rendered): its last turn is kept serialised and compressed
(about a quarter of the objects' memory) instead of as objects, with what the search reads of it
(keys, response id) beside it, and read back only when a request is scored against its whole turn
or continues it. Parking loses nothing: the read-back turn is equal to the one parked, so
matching, diffs and findings are the same as without it; what it saves is the memory of finished
conversations that wait for the bounds above to forget them.
"""

from __future__ import annotations

import heapq
import marshal
import re
from collections import OrderedDict
from collections.abc import Collection
from itertools import islice
from operator import attrgetter
from dataclasses import dataclass, field, fields
from typing import Any

from prefixlint.chains import chain_key, extend
from prefixlint.diff import blocks_of, inherit_runs, sections_of
from prefixlint.model import Block, Message, Origin, Prompt, Record, Setting
from prefixlint.providers.base import ByIdentity, digest

_CANON = attrgetter("canon")
_SIZE = attrgetter("size")

MAX_THREADS = 2000
MAX_BYTES = 16 * 1024 * 1024  # of the live threads' last turns, as rendered (Block.size)
# Bounds of the search for the thread a request continues, so that a log of thousands of live
# conversations that repeat the same messages (a canned "Continue.") stays linear:
COMMON_MESSAGE = 256  # a message in more live threads than this is no evidence of which one
MAX_CANDIDATES = 64  # threads scored per request: those sharing the most messages, the latest first
MAX_EDITED_FIRST = 64  # latest threads of the same tools and system checked for an edited first message
FIRST_MESSAGE_SIMILARITY = 0.8
PARK_AFTER = 256  # requests without a continuation after which a thread's last turn is parked
PARK_MIN = 16 * 1024  # a smaller last turn (rendered bytes) is left as it is: parking it would cost
# more time than the memory is worth (a log of 12,000 one-request conversations: 0.4 s for 12,000
# turns of 1.5 KB), and the tracker's byte bound holds those few MiB anyway

_COMPACTION = re.compile(
    r"\b(summari[sz]e|summary|compact(ion)?|condense|recap)\b", re.IGNORECASE
)


NORMALIZED = "normalized"  # Prompt.derived: (provider, api) when the prompt is its record's body normalised so


class Parked:
    """A parked thread's last turn, serialised and compressed, and what the search reads of it.

    The turn is flattened to builtins and written with :mod:`marshal` (objects shared within the
    turn stay shared), then compressed by zstd at level 1 (three times zlib's speed at level 1
    here, and smaller). What is flattened:

    - a turn that is its record's body as normalised (``derived[NORMALIZED]``, set by
      prefixlint.engine.iter_turns; the usual turn): the record alone (the body and the record's
      fields). Its blocks, messages and settings are normalised again from the body when the turn
      is read back, the same (normalising is a function of the body and record); its keys are
      kept as they were. Their hashes would be half the parked bytes, and incompressible;
    - any other turn (the effective prompt of a chained request): also its Block, Message and
      Setting fields as tuples.

    ``derived`` values are left out: whoever needs them computes them again. Parking a turn of the
    DeepSeek corpus log (about 160 messages) takes about half a millisecond, 0.08 s for the 174
    turns that log parks; reading one back (normalising it again) takes a few milliseconds. A
    turn that cannot be written so (a harness rendering in its record, a value nested deeper than
    marshal goes) raises ValueError, and its thread is left as it is."""

    __slots__ = ("data", "keys", "response_id", "kind")

    def __init__(self, head: Prompt) -> None:
        kind = head.derived.get(NORMALIZED)
        self.data = _zstd(marshal.dumps(_flat(head) if kind is None else _flat_record(head.record)))
        self.kind = kind
        self.keys = head.keys
        self.response_id = head.record.response_id

    def prompt(self) -> Prompt:
        import zstandard

        flat = marshal.loads(zstandard.ZstdDecompressor().decompress(self.data))
        if self.kind is None:
            return _unflat(flat)
        from prefixlint import providers

        record = _unflat_record(flat)
        p = providers.normalize(self.kind, record.body, record)
        p.keys = dict(self.keys)
        p.derived[NORMALIZED] = self.kind
        return p


def _names(cls: type, leave: str = "") -> tuple[str, ...]:
    names = tuple(f.name for f in fields(cls))
    return names[:-1] if names[-1] == leave else names  # (a field left out must be the last one)


_BLOCK, _MESSAGE, _SETTING, _ORIGIN = (attrgetter(*_names(c)) for c in (Block, Message, Setting, Origin))
_RECORD_NAMES, _PROMPT_NAMES = _names(Record, leave="repeats"), _names(Prompt, leave="derived")
_RECORD, _PROMPT = attrgetter(*_RECORD_NAMES), attrgetter(*_PROMPT_NAMES)
_AT_ORIGIN = _RECORD_NAMES.index("origin")
_AT_BLOCKS, _AT_MESSAGES, _AT_SETTINGS, _AT_RECORD = (
    _PROMPT_NAMES.index(n) for n in ("blocks", "messages", "settings", "record")
)


def _flat_record(record: Record) -> list[Any]:
    out = list(_RECORD(record))
    out[_AT_ORIGIN] = _ORIGIN(record.origin)
    return out


def _unflat_record(flat: list[Any]) -> Record:
    flat[_AT_ORIGIN] = Origin(*flat[_AT_ORIGIN])
    return Record(*flat)


def _flat(p: Prompt) -> list[Any]:
    """``p`` as builtins only (see Parked)."""
    out = list(_PROMPT(p))
    out[_AT_RECORD] = _flat_record(p.record)
    out[_AT_BLOCKS] = list(map(_BLOCK, p.blocks))
    out[_AT_MESSAGES] = list(map(_MESSAGE, p.messages))
    out[_AT_SETTINGS] = {k: _SETTING(v) for k, v in p.settings.items()}
    return out


def _unflat(flat: list[Any]) -> Prompt:
    flat[_AT_RECORD] = _unflat_record(flat[_AT_RECORD])
    flat[_AT_BLOCKS] = [Block(*b) for b in flat[_AT_BLOCKS]]
    flat[_AT_MESSAGES] = [Message(*m) for m in flat[_AT_MESSAGES]]
    flat[_AT_SETTINGS] = {k: Setting(*v) for k, v in flat[_AT_SETTINGS].items()}
    return Prompt(*flat)


_ZSTD: list[Any] = []  # one compressor, made when first needed (zstandard is imported only then)


def _zstd(data: bytes) -> bytes:
    if not _ZSTD:
        import zstandard

        _ZSTD.append(zstandard.ZstdCompressor(level=1))
    # (a copy of exact size: the compressor's output is allocated for the worst case and shrunk,
    # which leaves a hole behind each long-lived result; measured: +10 MiB on a 1 GB log)
    return bytes(memoryview(_ZSTD[0].compress(data)))


@dataclass(slots=True)
class Thread:
    number: int
    partition: str | None
    head: Prompt | None  # the last turn; None while parked
    signature: str
    turns: int = 1
    seen: int = 0
    size: int = 0
    cache: Any = None  # the cache model's figures for the last turn (set by the engine; released when parked)
    shape: tuple[bytes, bytes] = (b"", b"")  # (_tools_key, _system_key) of the head
    canons: list[bytes] | None = None  # the head's messages' canonical hashes
    distinct: set[bytes] = field(default_factory=set)  # the same as a set (what the message index holds)
    opening: Any = None  # the head's first Message object (its key in ThreadTracker.by_opening)
    first_text: str | None = None  # the head's first message as text (computed when first needed)
    parked: Parked | None = None  # the last turn while parked (head is None)
    length: int = 0  # messages in the last turn (read for every thread of a shape: an attribute)
    id: str = field(init=False, default="")  # "T<number>" (read several times per request)

    def __post_init__(self) -> None:
        self.id = f"T{self.number}"

    def last(self) -> Prompt:
        """The last turn: the head, or a copy read back from its parked form."""
        head = self.head
        return head if head is not None else self.parked.prompt()  # type: ignore[union-attr]



@dataclass(slots=True)
class Assignment:
    thread: Thread
    turn: int
    prev: Prompt | None
    fork: bool = False
    prompt: Prompt | None = None  # the prompt as linted: the effective prompt of a chained request


def _tools_digest(blocks: list[Any]) -> bytes:
    return digest(b"".join(sorted(map(_CANON, blocks))))  # (sorted: a reordered list is the same set)


def _system_digest(blocks: list[Any]) -> bytes:
    return digest(b"".join(map(_CANON, blocks)))


# The normalisers hand the same tool and system Block objects over from request to request: their
# keys are found by identity.
_TOOLS_KEYS = ByIdentity()
_SYSTEM_KEYS = ByIdentity()


def _tools_key(p: Prompt) -> bytes:
    return _TOOLS_KEYS.get(blocks_of(p, ("tools",)), _tools_digest)


def _system_key(p: Prompt) -> bytes:
    return _SYSTEM_KEYS.get(blocks_of(p, ("system",)), _system_digest)


def _measures(p: Prompt, canons: list[bytes] | None = None) -> tuple[tuple[bytes, bytes], list[bytes], int]:
    """``p``'s shape, messages' canonical hashes and size, from all its blocks and messages."""
    if canons is None:
        canons = list(map(_CANON, p.messages))
    return (_tools_key(p), _system_key(p)), canons, sum(map(_SIZE, p.blocks))


def _text_of(p: Prompt, index: int) -> str:
    from prefixlint.diff import display_text

    msg = p.messages[index]
    return "".join(display_text(b) for b in p.blocks[msg.first : msg.first + msg.count])


def similarity(a: str, b: str) -> float:
    """Share of the longer text covered by a common prefix plus a common suffix (cheap edit test)."""
    if not a or not b:
        return 0.0
    from prefixlint.diff import first_difference

    longest = max(len(a), len(b))
    pre = first_difference(a, b)
    ra, rb = a[pre:][::-1], b[pre:][::-1]
    suf = first_difference(ra, rb)
    return min(1.0, (pre + suf) / longest)


def light_edit(a: str, b: str) -> bool:
    """Two versions of one message: nearly identical, the difference being a volatile value
    (a timestamp, a date, an id) or whitespace. Two different requests built from one template
    ("Fix a.py" / "Fix b.py") are not a light edit."""
    if similarity(a, b) < FIRST_MESSAGE_SIMILARITY:
        return False
    from prefixlint.diff import first_difference
    from prefixlint.volatile import find_volatile

    pre = first_difference(a, b)
    suf = first_difference(a[pre:][::-1], b[pre:][::-1])
    for text in (a, b):
        end = len(text) - suf
        if not text[pre:end].strip():
            return True
        lo = max(0, pre - 40)
        for v in find_volatile(text[lo : end + 40]):
            if v.start + lo < max(end, pre + 1) and v.end + lo > pre:
                return True
    return False


def is_compaction_request(p: Prompt) -> bool:
    """The last user message asks for a summary of the conversation."""
    if not p.messages or p.messages[-1].role != "user":
        return False
    return bool(_COMPACTION.search(_text_of(p, len(p.messages) - 1)[-2000:]))


class ThreadTracker:
    def __init__(self, max_threads: int = MAX_THREADS, max_bytes: int = MAX_BYTES) -> None:
        self.max_threads = max_threads
        self.max_bytes = max_bytes
        self.live: OrderedDict[int, Thread] = OrderedDict()
        # partition -> message canon -> live threads whose head holds that message (a request is
        # only ever matched within its partition, so each partition has its own index)
        # (a message held by one thread only, the usual case, maps to its number, not to a set)
        self.by_message: dict[str | None, dict[bytes, int | set[int]]] = {}
        # (partition, (tools key, system key)) -> the live threads of that partition and shape, and how
        # many of them have each number of messages (the search for an edited first message wants
        # threads with fewer messages than the request: often there is none)
        self.by_shape: dict[tuple[str | None, tuple[bytes, bytes]], _Shape] = {}
        self.by_response: OrderedDict[str, int] = OrderedDict()
        self.by_conversation: OrderedDict[str, int] = OrderedDict()  # conversation id -> its thread
        # id() of a head's first Message object -> the thread (the last one set): a request that
        # repeats that head's messages as the same objects is measured from it (see _measure)
        self.by_opening: dict[int, Thread] = {}
        self.warm: OrderedDict[int, None] = OrderedDict()  # threads not parked, least recently continued first
        self.count = 0
        self.bytes = 0
        self.seq = 0
        self.forgotten = 0
        # (thread, canons) when the request being assigned was measured from that thread's head:
        # its canonical hashes are the thread's, then those of its new messages (see _prefix)
        self.grown: tuple[Thread, list[bytes]] | None = None

    # -- index maintenance -------------------------------------------------------------
    def _index(self, t: Thread) -> None:
        index = self.by_message.setdefault(t.partition, {})
        for h in t.distinct:
            _add(index, h, t.number)

    def _unindex(self, t: Thread) -> None:
        self._unindex_messages(t, t.distinct)
        self._set_opening(t, None)
        self._unindex_shape(t)

    def _index_shape(self, t: Thread) -> None:
        key = (t.partition, t.shape)
        bucket = self.by_shape.get(key)
        if bucket is None:
            bucket = self.by_shape[key] = _Shape()
        bucket.numbers.add(t.number)
        bucket.count(t.length, 1)

    def _unindex_shape(self, t: Thread) -> None:
        """(with the shape and length ``t`` had when it was indexed)"""
        key = (t.partition, t.shape)
        bucket = self.by_shape.get(key)
        if bucket is None or t.number not in bucket.numbers:
            return
        bucket.numbers.discard(t.number)
        bucket.count(t.length, -1)
        if not bucket.numbers:
            del self.by_shape[key]

    def _unindex_messages(self, t: Thread, hashes: Any) -> None:
        index = self.by_message.get(t.partition)
        if index is None:
            return
        for h in hashes:
            _discard(index, h, t.number)
        if not index:
            del self.by_message[t.partition]

    def _set_head(self, t: Thread, p: Prompt, shape: tuple[bytes, bytes], canons: list[bytes], size: int) -> None:
        old = t.canons
        length = len(p.messages)
        if old is None:  # a new thread
            t.distinct = set(canons)
            t.shape = shape
            t.length = length
            self._index(t)
            self._index_shape(t)
        else:
            # Only what changed: a conversation that grows keeps all its earlier messages.
            if self._prefix(t, canons):  # it grew: only the new ones
                added = [h for h in canons[len(old) :] if h not in t.distinct]
                if added:
                    index = self.by_message.setdefault(t.partition, {})
                    for h in added:
                        _add(index, h, t.number)
                    t.distinct.update(added)
            else:
                distinct = set(canons)
                if distinct != t.distinct:
                    self._unindex_messages(t, t.distinct - distinct)
                    number = t.number
                    index = self.by_message.setdefault(t.partition, {})
                    for h in distinct - t.distinct:
                        _add(index, h, number)
                    t.distinct = distinct
            if shape != t.shape:
                self._unindex_shape(t)
                t.shape, t.length = shape, length
                self._index_shape(t)
            elif length != t.length:  # (the usual turn: same shape, more messages)
                bucket = self.by_shape[(t.partition, shape)]
                bucket.count(t.length, -1)
                bucket.count(length, 1)
                t.length = length
        t.canons = canons
        self.bytes -= t.size
        if t.head is not p:
            t.first_text = None
        t.head = p
        t.parked = None
        self._set_opening(t, p.messages[0] if p.messages else None)
        t.size = size
        self.bytes += t.size
        t.seen = self.seq
        self.live.move_to_end(t.number)
        warm = self.warm
        warm[t.number] = None
        warm.move_to_end(t.number)
        self._evict()

    def _set_opening(self, t: Thread, opening: Any) -> None:
        if opening is t.opening:
            return
        if t.opening is not None and self.by_opening.get(id(t.opening)) is t:
            del self.by_opening[id(t.opening)]
        t.opening = opening
        if opening is not None:
            self.by_opening[id(opening)] = t

    def _evict(self) -> None:
        while len(self.live) > 1 and (len(self.live) > self.max_threads or self.bytes > self.max_bytes):
            _, old = self.live.popitem(last=False)
            self._unindex(old)
            self.warm.pop(old.number, None)
            self.bytes -= old.size
            self.forgotten += 1

    def _park_idle(self) -> None:
        """Park the threads that no request continued within the last ``PARK_AFTER``."""
        idle = self.seq - PARK_AFTER
        warm, live = self.warm, self.live
        while warm:
            number = next(iter(warm))
            t = live[number]
            if t.seen > idle:
                return
            del warm[number]
            if t.size < PARK_MIN:
                continue
            head = t.head
            try:
                parked = Parked(head)  # type: ignore[arg-type]
            except ValueError:  # (see Parked): kept as it is
                continue
            if t.cache is not None:  # (it holds the head's blocks for the next turn to compare with)
                t.cache.release()
            t.parked = parked
            t.head = None
            self._set_opening(t, None)

    def _unpark(self, t: Thread, head: Prompt) -> None:
        """Make ``head`` (read back from ``t``'s parked turn) the thread's head again."""
        t.head, t.parked = head, None
        self._set_opening(t, head.messages[0] if head.messages else None)
        self.warm[t.number] = None

    def _new(self, p: Prompt, partition: str | None,
             measures: tuple[tuple[bytes, bytes], list[bytes], int] | None = None) -> Thread:
        self.count += 1
        shape, canons, size = measures or _measures(p)
        first = _text_of(p, 0) if p.messages else ""
        sig = digest(
            (partition or "").encode() + b"\x00" + shape[1] + first[:4096].encode("utf-8", "replace")
        ).hex()[:16]
        t = Thread(number=self.count, partition=partition, head=p, signature=sig)
        self.live[t.number] = t
        t.size = 0
        self._set_head(t, p, shape, canons, size)
        return t

    def _measure(self, p: Prompt) -> tuple[tuple[bytes, bytes], list[bytes], int]:
        """``p``'s shape (tools and system keys), its messages' canonical hashes and its size.
        The usual request of an agent loop is the last turn of a live thread plus a few messages,
        the repeated ones handed over as the same objects (see prefixlint.providers.base.History):
        it is then measured from that head, looking only at what follows it."""
        t = self.by_opening.get(id(p.messages[0])) if p.messages else None
        if t is None:
            return _measures(p)
        head = t.head
        count = len(head.messages)
        if p.messages[:count] != head.messages:
            return _measures(p)
        # Equal messages have equal canonical hashes (the head's last message is usually equal but
        # not the same object: a moved cache_control).
        canons = t.canons + list(map(_CANON, p.messages[count:]))
        self.grown = (t, canons)
        shared = head.messages[-1].first  # the blocks before the head's last message
        if p.blocks[:shared] != head.blocks[:shared]:
            return _measures(p, canons)
        size = t.size - sum(map(_SIZE, head.blocks[shared:])) + sum(map(_SIZE, p.blocks[shared:]))
        grown = inherit_runs(p, head, shared)
        if grown is None or grown in ("tools", "system"):
            return (_tools_key(p), _system_key(p)), canons, size
        return t.shape, canons, size  # the same tools and system blocks as the head's

    def _prefix(self, t: Thread, pm: list[bytes]) -> bool:
        """``t``'s canonical hashes begin ``pm`` (the request's): known without comparing when the
        request was measured from ``t``'s head, whose hashes ``pm`` was made of (see _measure)."""
        grown = self.grown
        if grown is not None and grown[0] is t and grown[1] is pm:
            return True
        hm = t.canons
        return len(hm) <= len(pm) and hm == (pm if len(pm) == len(hm) else pm[: len(hm)])

    # -- matching ----------------------------------------------------------------------
    def _score(self, t: Thread, p: Prompt, pm: list[bytes], shared: int, shape: tuple[bytes, bytes],
               sections: Collection[str]) -> tuple | None:
        hm = t.canons
        if self._prefix(t, pm):
            k = len(hm)
        else:
            k = 0
            for a, b in zip(hm, pm):
                if a != b:
                    break
                k += 1
        # An empty tool list or system prompt matching another empty one says nothing.
        tools_match = t.shape[0] == shape[0] and "tools" in sections
        sys_match = t.shape[1] == shape[1] and "system" in sections
        extends = bool(hm) and k == len(hm)
        distinct = len(t.distinct) or 1
        if extends:
            if len(pm) > len(hm):
                if not (tools_match or sys_match or len(hm) >= 2 or _replied(p, len(hm))):
                    return None
            elif not (tools_match or sys_match):
                return None  # the same messages under other instructions: a side call
        elif shared * 2 < distinct:
            return None
        elif shared < 2 and not (tools_match or sys_match):
            return None
        elif k == 0 and hm and pm[0] not in t.distinct and hm[0] not in pm and not self._same_story(t, p, pm):
            # Neither opening message appears in the other conversation, they are not two versions
            # of one text, and what the two share is less than the new opening: another conversation
            # that happens to repeat a few messages (a canned reply, "Continue."), not an edit, a
            # prepended context or a summarised or sliding window of this one.
            return None
        keys = t.head.keys if t.head is not None else t.parked.keys  # type: ignore[union-attr]
        soft = False
        if keys:  # (the same user or cache key: usually neither request has one)
            for key in ("user", "cache_key"):
                value = keys.get(key)
                if value and value == p.keys.get(key):
                    soft = True
                    break
        return (shared, extends, k, soft, tools_match, sys_match, t.turns, -t.number)

    @staticmethod
    def _same_story(t: Thread, p: Prompt, pm: list[bytes]) -> bool:
        """``p`` and the thread, whose first messages differ and appear nowhere in the other, are
        one conversation: the messages they share outweigh ``p``'s opening, or the two openings are
        versions of one text (an edit, an appended note)."""
        size = p.derived.get("message sizes")  # the same for every candidate thread
        if size is None:
            size = p.derived["message sizes"] = [sum(b.size for b in p.blocks[m.first : m.first + m.count]) for m in p.messages]
        if sum(s for s, h in zip(size, pm) if h in t.distinct) >= size[0]:
            return True
        if t.first_text is None:
            t.first_text = _text_of(t.last(), 0)
        b = p.derived.get("first text")
        if b is None:
            b = p.derived["first text"] = _text_of(p, 0)
        a = t.first_text
        return bool(a and b) and (b.startswith(a) or a.startswith(b) or similarity(a, b) >= FIRST_MESSAGE_SIMILARITY)

    def _extended(self, p: Prompt, pm: list[bytes], partition: str | None, shape: tuple[bytes, bytes]) -> Thread | None:
        """The thread ``p`` continues, found without the search when the answer is certain (an
        agent log's usual turn): the last of ``p``'s messages that any live thread holds is held by
        one thread only, that thread's messages are exactly ``p``'s up to there, and the messages
        after it are new. That thread then shares strictly more messages with ``p`` than any other
        (each other one lacks that message and the new ones), so the search would choose it too,
        if its score admits it."""
        index = self.by_message.get(partition)
        if not index:
            return None
        j = len(pm) - 1
        while j >= 0 and pm[j] not in index:
            j -= 1
        if j < 0:
            return None
        number = index[pm[j]]
        if type(number) is not int:
            return None  # held by more than one thread
        t = self.live[number]
        if len(t.canons) != j + 1 or not self._prefix(t, pm):
            return None
        if self._score(t, p, pm, len(t.distinct), shape, sections_of(p)) is None:
            return None
        return t

    def _edited_first(self, p: Prompt, partition: str | None, shape: tuple[bytes, bytes]) -> Thread | None:
        n = len(p.messages)
        if n < 2:
            return None
        bucket = self.by_shape.get((partition, shape))
        if bucket is None or not any(0 < length < n for length in bucket.lengths):
            return None  # no thread of this partition and shape has fewer messages
        first = None
        checked = 0
        for number in sorted(bucket.numbers, reverse=True):  # the latest that qualifies wins
            t = self.live[number]
            if not t.length or t.length >= n:
                continue
            checked += 1
            if checked > MAX_EDITED_FIRST:
                break
            if t.first_text is None:
                t.first_text = _text_of(t.last(), 0)
            first = first if first is not None else _text_of(p, 0)
            if light_edit(t.first_text, first):
                return t
        return None

    def assign(self, p: Prompt) -> Assignment:
        self.seq += 1
        self.grown = None
        if self.warm:
            self._park_idle()
        partition = p.keys.get("session")
        chosen: Thread | None = None
        linked, conversation = chain_key(p)
        if conversation:
            partition = f"{partition or ''}\x00conversation:{conversation}"
        if linked or conversation:
            # An explicit chain: its parent is the head of one thread or nothing we know of.
            number = self.by_response.get(linked) if linked else self.by_conversation.get(conversation)
            t = self.live.get(number) if number is not None else None
            if t is not None and (not linked or _response_id(t) == linked):
                head = t.last()
                if t.head is None:
                    self._unpark(t, head)
                chosen, p = t, extend(head, p)
            else:
                t = self._new(p, partition)
                self._remember_response(p, t)
                return Assignment(t, 1, None, prompt=p)
        measures = self._measure(p)
        shape, pm, size = measures
        if chosen is None:
            chosen = self._extended(p, pm, partition, shape)
        if chosen is None:
            counts: dict[int, int] = {}
            index = self.by_message.get(partition) or {}
            for h in set(pm):  # (set.intersection(dict) would walk the whole index)
                bucket = index.get(h)
                if type(bucket) is int:
                    counts[bucket] = counts.get(bucket, 0) + 1
                elif bucket and len(bucket) <= COMMON_MESSAGE:
                    for number in bucket:
                        counts[number] = counts.get(number, 0) + 1
            best_key = None
            sections = sections_of(p) if counts else ()
            candidates = counts.items()
            if len(counts) > MAX_CANDIDATES:
                candidates = heapq.nlargest(MAX_CANDIDATES, candidates, key=lambda c: (c[1], c[0]))
            for number, shared in candidates:
                t = self.live[number]
                if t.partition != partition:
                    continue
                distinct = len(t.distinct)
                if shared < distinct and shared * 2 < distinct:
                    continue  # neither extends the thread nor shares half of it: what _score says
                key = self._score(t, p, pm, shared, shape, sections)
                if key is not None and (best_key is None or key > best_key):
                    best_key, chosen = key, t
            if chosen is None:
                chosen = self._edited_first(p, partition, shape)
        prev = chosen.last() if chosen is not None else None
        if prev is None or _same_request(prev, p):
            t = self._new(p, partition, measures)
            self._remember_response(p, t)
            return Assignment(t, 1, None, prompt=p)
        if chosen.head is None:  # continued: no longer parked
            self._unpark(chosen, prev)
        chosen.turns += 1
        fork = (
            chosen.shape != shape
            and len(p.messages) > len(prev.messages)
            and is_compaction_request(p)
        )
        if fork:
            chosen.seen = self.seq
            if chosen.head is not None:
                self.warm.move_to_end(chosen.number)
        else:
            self._set_head(chosen, p, shape, pm, size)
        self._remember_response(p, chosen)
        return Assignment(chosen, chosen.turns, prev, fork, prompt=p)

    def _remember_response(self, p: Prompt, t: Thread) -> None:
        rid = p.record.response_id
        if rid:
            self.by_response[rid] = t.number
            if len(self.by_response) > 4 * self.max_threads:
                self.by_response.popitem(last=False)
        conversation = chain_key(p)[1]
        if conversation:
            self.by_conversation[conversation] = t.number
            self.by_conversation.move_to_end(conversation)
            if len(self.by_conversation) > 4 * self.max_threads:
                self.by_conversation.popitem(last=False)


def _replied(p: Prompt, start: int) -> bool:
    """An assistant message among ``p``'s messages from ``start`` on."""
    for m in islice(p.messages, start, None):
        if m.role == "assistant":
            return True
    return False


class _Shape:
    """The live threads of one partition and shape (ThreadTracker.by_shape)."""

    __slots__ = ("numbers", "lengths")

    def __init__(self) -> None:
        self.numbers: set[int] = set()
        self.lengths: dict[int, int] = {}  # messages in the last turn -> threads with that many

    def count(self, length: int, change: int) -> None:
        """One thread more (``change`` 1) or fewer (-1) with ``length`` messages."""
        left = self.lengths.get(length, 0) + change
        if left:
            self.lengths[length] = left
        else:
            del self.lengths[length]


def _add(index: dict[bytes, int | set[int]], h: bytes, number: int) -> None:
    """Record that thread ``number`` holds message ``h``."""
    held = index.get(h)
    if held is None:
        index[h] = number
    elif type(held) is int:
        if held != number:
            index[h] = {held, number}
    else:
        held.add(number)


def _discard(index: dict[bytes, int | set[int]], h: bytes, number: int) -> None:
    """Record that thread ``number`` no longer holds message ``h``."""
    held = index.get(h)
    if held is None:
        return
    if type(held) is int:
        if held == number:
            del index[h]
        return
    held.discard(number)
    if len(held) == 1:
        index[h] = next(iter(held))
    elif not held:
        del index[h]


def _response_id(t: Thread) -> str | None:
    return t.head.record.response_id if t.head is not None else t.parked.response_id  # type: ignore[union-attr]


def _same_request(a: Prompt, b: Prompt) -> bool:
    if len(a.blocks) != len(b.blocks) or a.model != b.model:
        return False
    if any(x.hash != y.hash for x, y in zip(a.blocks, b.blocks)):
        return False
    return {k: s.value for k, s in a.settings.items()} == {k: s.value for k, s in b.settings.items()}
