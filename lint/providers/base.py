"""Helpers shared by the provider normalisers: hashing, rendering, block construction.

A block's identity is what the provider renders for it, never the JSON envelope around it:
``cache_control`` markers are left out, a string ``content`` renders like a single text block
with the same text, and only payloads that are rendered *as JSON* (tool schemas, tool inputs,
function-call arguments, response schemas) keep their key order. For those payloads the block
also gets a canonical hash (sorted keys), so a re-serialisation can be told from an edit.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from itertools import compress, count, islice
from operator import attrgetter, is_, is_not
from typing import Any

import orjson
from prefixlint.model import Block, BodyError, Message

_SORT = orjson.OPT_SORT_KEYS


def digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def dumps(value: Any, canonical: bool = False) -> bytes:
    try:
        return orjson.dumps(value, option=_SORT if canonical else 0)
    except TypeError:  # e.g. integers beyond 64 bits: fall back to the standard library
        import json

        return json.dumps(value, sort_keys=canonical, separators=(",", ":"), ensure_ascii=False).encode()


# -- memos: what was built before -------------------------------------------------------------
# An agent log re-sends the whole conversation with every request, so almost every message, tool
# and system block has been normalised before, at the same position. The normalisers find it by
# the exact serialisation of the content (equal bytes: same structure, key order, strings and
# number spellings) and reuse what they built the first time.

LATEST_LISTS = 8  # lists a ListMemo recognises by the identity of their items
READER_CUTS = 1024  # shorter lists are seldom cut out of a line by the reader (see splice.MIN_BEFORE)
MEMO_BYTES = 4 * 1024 * 1024  # (about) bytes held per generation (two generations are kept)


def same_objects(a: list[Any], b: list[Any]) -> bool:
    """The two lists hold the very same objects, in order (compared in C)."""
    return len(a) == len(b) and all(map(is_, a, b))


class ByIdentity:
    """What was computed for the last few lists, found again for a list that holds the very same
    objects: the reader and the normalisers hand a re-sent tool list or system prompt over as the
    same objects from request to request, so its digest need not be computed again."""

    __slots__ = ("kept", "size")

    def __init__(self, size: int = 8) -> None:
        # (id of the first item, length) -> (the list, its value); the kept list keeps its first
        # item alive, so that id names no other object meanwhile
        self.kept: dict[tuple[int, int], tuple[list[Any], Any]] = {}
        self.size = size

    def get(self, items: list[Any], compute: Any) -> Any:
        """``compute(items)``, or what it gave for a list of the same objects."""
        key = (id(items[0]), len(items)) if items else (0, 0)
        found = self.kept.get(key)
        if found is not None and same_objects(found[0], items):
            return found[1]
        value = compute(items)
        kept = self.kept
        kept.pop(key, None)
        kept[key] = (items, value)
        if len(kept) > self.size:
            del kept[next(iter(kept))]
        return value


class ListMemo:
    """Whole lists (a request's tool definitions) already normalised, by their serialisation.
    Bounded: cleared when it holds ``limit`` lists."""

    __slots__ = ("entries", "limit", "latest")

    def __init__(self, limit: int = 64) -> None:
        self.entries: dict[bytes, Any] = {}
        self.limit = limit
        # (the kept items, the result) of the last few lists, the latest first: interleaved
        # conversations (an agent and its subagents) alternate between a few tool lists
        self.latest: list[tuple[list[Any], Any]] = []

    def find(self, value: list[Any]) -> tuple[bytes | None, Any]:
        """(the key to ``store`` under, what was built for an equal list or None). A list holding the
        very same item objects as one of the last few (the reader hands a re-sent list over that
        way: see prefixlint.sources.splice) is recognised without serialising it (the key is then
        None: nothing to store or reuse)."""
        latest = self.latest
        for i, kept in enumerate(latest):
            if same_objects(value, kept[0]):
                if i:
                    latest.insert(0, latest.pop(i))
                return None, kept[1]
        return self.lookup(value)

    def reuse(self, raw: bytes, value: list[Any], result: Any, items: list[Any]) -> None:
        """``value`` (a request's list, found equal by its serialisation ``raw``) takes the kept
        ``items`` of the equal list built before."""
        # The request's own objects are recognised from now on too: the reader may hand them over
        # again (a tool list it first parsed on a later line than the one whose objects are kept),
        # if it is long enough for the reader to cut it out (see prefixlint.sources.splice).
        if len(raw) >= READER_CUTS:
            self._latest(value[:], result)
        value[:] = items  # equal values: keep one copy
        self._latest(items, result)

    def _latest(self, items: list[Any], result: Any) -> None:
        latest = self.latest
        if latest and latest[0][0] is items:  # (already the latest: a tool list re-sent turn after turn)
            latest[0] = (items, result)
            return
        for i, kept in enumerate(latest):
            if same_objects(kept[0], items):
                del latest[i]
                break
        latest.insert(0, (items, result))
        del latest[LATEST_LISTS:]

    def lookup(self, value: list[Any]) -> tuple[bytes | None, Any]:
        """(the key to ``store`` under, what was stored for an equal list or None)."""
        try:
            raw = orjson.dumps(value)
        except TypeError:  # an integer beyond 64 bits, or nesting deeper than orjson goes
            return None, None
        return raw, self.entries.get(raw)

    def store(self, raw: bytes | None, result: Any, items: list[Any]) -> None:
        """Keep ``result``, built for a list whose items are (copies of) ``items``."""
        self._latest(items, result)
        if raw is None:
            return
        if len(self.entries) >= self.limit:
            self.entries.clear()
        self.entries[bytes(memoryview(raw))] = result  # an exact-size copy: see History


class Memo:
    """What a normaliser built for content it saw before, by an exact key of that content.

    Bounded by the rendered size of what it holds: two generations of ``limit`` bytes each; an
    entry found in the old generation moves to the new one, the old one is dropped when the new
    one fills up (an approximate least-recently-used order at the cost of a dict lookup)."""

    __slots__ = ("new", "old", "size", "limit")

    def __init__(self, limit: int = MEMO_BYTES) -> None:
        self.new: dict[Any, tuple[Any, int]] = {}
        self.old: dict[Any, tuple[Any, int]] = {}
        self.size = 0
        self.limit = limit

    def get(self, key: Any) -> Any:
        hit = self.new.get(key)
        if hit is None:
            hit = self.old.pop(key, None)
            if hit is None:
                return None
            self._add(key, hit)
        return hit[0]

    def put(self, key: Any, value: Any, size: int) -> None:
        self._add(key, (value, size))

    def _add(self, key: Any, entry: tuple[Any, int]) -> None:
        self.new[key] = entry
        self.size += entry[1] + 64
        if self.size > self.limit:
            self.old, self.new, self.size = self.new, {}, 0

    def clear(self) -> None:
        self.new.clear()
        self.old.clear()
        self.size = 0


MAX_RECENT_BYTES = 16 * 1024 * 1024  # message lists kept to compare with (and their serialisation)
MAX_RECENT = 4096  # and at most this many of them (one per conversation)
IDLE_REQUESTS = 256  # an entry no request used within this many (a finished conversation's) is dropped


class _Recent:
    """One request's messages as a :class:`History` keeps them."""

    __slots__ = ("data", "msgs", "ends", "entries", "start", "state", "blocks", "messages", "bcount", "mcount",
                 "after", "used", "held", "keys")

    def __init__(self, data: bytes | None, msgs: list[Any], ends: list[int], entries: list[tuple], start: int,
                 state: bool, blocks: list[Block], messages: list[Message], bcount: list[int],
                 mcount: list[int], after: list[bool]) -> None:
        self.data, self.msgs, self.ends, self.entries, self.start, self.state = data, msgs, ends, entries, start, state
        self.blocks, self.messages, self.bcount, self.mcount, self.after = blocks, messages, bcount, mcount, after
        self.used = 0  # the number of the request that last used it (History.requests)
        # About what it holds: its serialisation (when kept), and the messages and blocks themselves
        # (their serialised size), which outlive their thread when the thread tracker forgets it.
        self.held = len(data or b"") + (ends[-1] if ends else 0) + 512 + 128 * len(ends)
        self.keys = 0  # the keys of History.recent it is kept under


class History:
    """What a normaliser built for the messages of recent requests, to reuse for the next ones.

    The messages of a request are serialised once (``orjson.dumps`` of the whole list, in C); the
    last request that opened with the same two messages (usually the previous turn of the same
    conversation) is compared with it byte for byte, and the blocks and messages built for the
    messages both share are reused as they are, without any work per message. The messages after
    that are looked up one by one, by their exact serialisation and place, in a :class:`Memo`; only
    content never seen at that place is rendered and hashed. When the reader handed the repeated
    messages over as the same objects as the previous request's (it does for the lines it splices),
    the shared messages are found by identity, the list is not serialised at all, and the messages
    after them (just parsed: new) are rendered directly.

    An entry per message: ``(state, first, blocks, message, value)``: the normaliser's state before
    the message (OpenAI Chat: still in the leading system messages), the index of its first block,
    the blocks it became, its :class:`Message` (None for a system message) and the parsed message
    the blocks were built from. Equal bytes at the same index, with the same state and first block,
    give the same entry. A reused message's parsed value also replaces the request's own (equal)
    copy in its body, so that a conversation's history is held in memory once, not once per turn.

    Bounded: ``MAX_RECENT_BYTES`` and ``MAX_RECENT`` entries, least recently used first out, and an
    entry no request used within the last ``IDLE_REQUESTS`` goes (a finished conversation's: it
    would keep its messages alive after the thread tracker parked or forgot them; the same window
    as the tracker's ``PARK_AFTER``)."""

    __slots__ = ("memo", "recent", "recent_bytes", "requests")

    def __init__(self) -> None:
        self.memo = Memo()
        # by the opening's digest, and by the identity of the second message (see normalize)
        self.recent: OrderedDict[bytes | int, _Recent] = OrderedDict()
        self.recent_bytes = 0
        self.requests = 0

    def normalize(self, msgs: list[Any], blocks: list[Block], messages: list[Message], state: bool,
                  build: Any, repeats: tuple[list[Any], list[Any], int] | None = None) -> bool:
        """Append the blocks and messages of ``msgs`` (a request's message list); ``build(i, msg,
        state, blocks, messages)`` renders one message the slow way and returns its entry. Returns
        the state after the last message. ``repeats``: what the reader says of ``msgs`` (see
        prefixlint.model.Record.repeats)."""
        start, start_state = len(blocks), state
        if not msgs:
            return state
        self.requests += 1
        k = 0
        data: bytes | None = None
        opening: bytes | None = None
        # The reader hands the messages a line repeats from an earlier one over as the very same
        # objects (see prefixlint.sources.splice): then they are found by identity, without
        # serialising the list at all.
        # Keyed by the second message (the first is often a system prompt that every conversation
        # of an agent shares, the second its task).
        anchor = 1 if len(msgs) > 1 else 0
        by_id = self.recent.get(id(msgs[anchor]))
        if by_id is not None and (len(by_id.msgs) <= anchor or by_id.msgs[anchor] is not msgs[anchor]
                                  or by_id.start != start or by_id.state is not start_state):
            by_id = None
        if by_id is not None:
            m = min(len(msgs), len(by_id.entries))
            if repeats is not None and repeats[0] is msgs and repeats[1] is by_id.msgs:
                # The reader put by_id's first k objects in msgs, and nothing else can be one of its
                # objects (the rest was parsed just now). Since then, either list may only have had
                # an object replaced by one of the same serialisation (below, while its own request
                # was normalised): what their entries were built from is the same.
                k = min(repeats[2], m)
            else:  # the first message that is not the same object (in C, stopping there)
                k = next(compress(count(), map(is_not, msgs, islice(by_id.msgs, m))), m)
        found = by_id
        continues = by_id is not None and k >= len(by_id.entries) - 1  # (the last message may have changed)
        # The usual turn of a conversation: its entry, kept under this key only, is replaced by this
        # request's. Its lists are then taken over and extended (cut back to ``k`` first) instead of
        # copied; it leaves the store now, so that no later request can see them changed.
        owned = continues and k > 0 and by_id.keys == 1  # type: ignore[union-attr]
        if owned:
            del self.recent[id(msgs[anchor])]
            self.recent_bytes -= by_id.held  # type: ignore[union-attr]
            by_id.keys = 0  # type: ignore[union-attr]
        if not continues:  # compare the serialisation with the last request of the same opening
            try:
                data = orjson.dumps(msgs)
            except TypeError:  # an integer beyond 64 bits, or nesting deeper than orjson goes
                if not k:
                    for i, msg in enumerate(msgs):
                        if build(i, msg, state, blocks, messages)[3] is not None:
                            state = False
                    return state
            if data is not None:
                opening = self._opening(msgs, data)
                same = self.recent.get(opening)
                if same is not None and same.data is not None and same.start == start \
                        and same.state is start_state:
                    shared = _shared(data, same.data, same.ends)
                    if shared > k:
                        found, k = same, shared
                        msgs[:k] = same.msgs[:k]  # the same values (equal bytes): keep one copy
        ends: list[int] = []
        bcount: list[int] = []
        mcount: list[int] = []
        after: list[bool] = []
        entries: list[tuple] = []
        kept_blocks = kept_messages = 0  # (of found's blocks and messages, those this request repeats)
        if k:
            found.used = self.requests
            kept_blocks, kept_messages = found.bcount[k - 1], found.mcount[k - 1]
            blocks.extend(found.blocks if kept_blocks == len(found.blocks) else found.blocks[:kept_blocks])
            messages.extend(found.messages if kept_messages == len(found.messages) else found.messages[:kept_messages])
            state = found.after[k - 1]
            if owned:
                ends, entries = found.ends, found.entries
                bcount, mcount, after = found.bcount, found.mcount, found.after
                if len(ends) > k:
                    del ends[k:], entries[k:], bcount[k:], mcount[k:], after[k:]
            else:
                ends, entries = found.ends[:k], found.entries[:k]
                bcount, mcount, after = found.bcount[:k], found.mcount[:k], found.after[:k]
        end = ends[-1] if ends else 0
        nb = bcount[-1] if bcount else 0
        nm = mcount[-1] if mcount else 0
        memo = self.memo
        for i in range(k, len(msgs)):
            msg = msgs[i]
            if data is None:
                # After the messages shared by identity: what the reader parsed just now, new to this
                # conversation. Rendered directly (a lookup by serialisation would nearly always
                # miss); no serialisation of the list is kept, so its offsets are estimates.
                entry = (*build(i, msg, state, blocks, messages), msg)
                own = entry[2]
                end += 1 + (own[0].size if len(own) == 1 else sum(map(_SIZE, own)))
            else:
                raw = orjson.dumps(msg)
                end += 1 + len(raw)
                first = len(blocks)
                key = (state, i, first, digest(raw))  # (orjson's output holds 32 KiB or more: not kept)
                entry = memo.get(key)
                if entry is None:
                    entry = (*build(i, msg, state, blocks, messages), msg)
                    # what it holds: the key, the parsed message and the blocks' figures
                    memo.put(key, entry, len(raw) + 200 * len(entry[2]))
                else:
                    blocks.extend(entry[2])
                    if entry[3] is not None:
                        messages.append(entry[3])
                    msgs[i] = entry[4]
            if entry[3] is not None:
                state = False
                nm += 1
            nb += len(entry[2])
            ends.append(end)
            entries.append(entry)
            bcount.append(nb)
            mcount.append(nm)
            after.append(state)
        if data is not None:
            if end + 1 == len(data):  # orjson writes a list as "[" + ",".join(items) + "]"
                data = bytes(memoryview(data))  # an exact-size copy: orjson's output holds 32 KiB or more
            else:  # (offsets of messages shared by identity are estimates: nothing to compare bytes with)
                data = None
        if owned:
            own_blocks, own_messages = found.blocks, found.messages
            del own_blocks[kept_blocks:], own_messages[kept_messages:]
            own_blocks += blocks[start + kept_blocks :]
            own_messages += messages[kept_messages:]
        else:
            own_blocks, own_messages = blocks[start:], messages[:]
        recent = _Recent(data, msgs, ends, entries, start, start_state, own_blocks, own_messages, bcount, mcount, after)
        if opening is not None:
            self._remember(opening, recent)
        if by_id is None or continues or len(msgs) >= len(by_id.entries):
            # (a shorter request that repeats a conversation's opening, a title or summary call,
            # does not take the conversation's place; the entry holds the anchor message, so its id
            # is not reused while it is there)
            self._remember(id(msgs[anchor]), recent)
        return state

    @staticmethod
    def _opening(msgs: list[Any], data: bytes) -> bytes:
        """The bytes of the first two messages: which earlier request to compare with."""
        n = 1 + len(orjson.dumps(msgs[0]))
        if len(msgs) > 1:
            n += 1 + len(orjson.dumps(msgs[1]))
        return digest(data[:n])

    def _remember(self, opening: bytes | int, recent: _Recent) -> None:
        old = self.recent.pop(opening, None)
        if old is not None:
            self.recent_bytes -= old.held
            old.keys -= 1
        self.recent[opening] = recent
        self.recent_bytes += recent.held
        recent.keys += 1
        recent.used = self.requests
        idle = self.requests - IDLE_REQUESTS
        while len(self.recent) > 1:
            oldest = next(iter(self.recent.values()))
            if oldest.used >= idle and self.recent_bytes <= MAX_RECENT_BYTES and len(self.recent) <= MAX_RECENT:
                break
            _, dropped = self.recent.popitem(last=False)
            self.recent_bytes -= dropped.held
            dropped.keys -= 1

    def clear(self) -> None:
        self.memo.clear()
        self.recent.clear()
        self.recent_bytes = 0


def _shared(data: bytes, previous: bytes, ends: list[int]) -> int:
    """How many leading messages ``data`` shares with ``previous`` (serialised message lists;
    ``ends[i]`` is where message i ends in ``previous``). Equal bytes up to the end of a complete
    JSON value are the same value, so comparing prefixes at those offsets is exact."""
    n = len(ends)
    last = ends[-1]
    if data.startswith(previous[:last]) and data[last : last + 1] in (b",", b"]"):
        return n
    lo, hi = 0, n - 1  # invariant: the first lo messages are shared, message hi is not
    while lo < hi:
        mid = (lo + hi) // 2  # mid < hi: is message mid shared? (its "," included)
        if data.startswith(previous[: ends[mid] + 1]):
            lo = mid + 1
        else:
            hi = mid
    return lo


_SIZE = attrgetter("size")


def token_counts(blocks: list[Block]) -> list[int]:
    """``[b.tokens for b in blocks]`` (at least 1 a block, about 4 bytes a token) without a
    property call per block."""
    return [(b.size + 3) >> 2 or 1 for b in blocks]


def common_prefix(a: list[Any], b: list[Any]) -> int:
    """Length of the longest common prefix of two lists (compared in C, slice by slice)."""
    n = min(len(a), len(b))
    if (a if len(a) == n else a[:n]) == (b if len(b) == n else b[:n]):  # (slicing only the longer one)
        return n
    lo, hi = 0, n  # a[:lo] == b[:lo]; a[:hi] != b[:hi]
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid
    return lo


def without_cache_control(value: dict[str, Any]) -> dict[str, Any]:
    if "cache_control" not in value:
        return value
    return {k: v for k, v in value.items() if k != "cache_control"}


def json_payload(value: Any) -> tuple[bytes, bytes]:
    """Raw and canonical rendering of a payload that the provider renders as JSON."""
    raw = dumps(value)
    if isinstance(value, (dict, list)):
        return raw, dumps(value, canonical=True)
    return raw, raw


def json_string_payload(text: str) -> tuple[bytes, bytes]:
    """A JSON document carried as a string (OpenAI function-call arguments)."""
    raw = text.encode("utf-8", "surrogatepass")
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw, raw
    return raw, dumps(parsed, canonical=True)


def make_block(
    section: str,
    pointer: str,
    kind: str,
    value: Any,
    parts: list[tuple[bytes, bytes]],
    *,
    msg: int | None = None,
    role: str | None = None,
    name: str | None = None,
    cache_control: Any = None,
) -> Block:
    """Build a block from its rendered parts (each a raw/canonical pair of bytes)."""
    if len(parts) == 1:
        raw, canon = parts[0]
    else:
        raws, canons = zip(*parts)
        raw = b"\x1f".join(raws)
        canon = raw if raws == canons else b"\x1f".join(canons)  # (equal parts, item by item: the same bytes)
    h = digest(raw)
    ch = h if canon is raw or canon == raw else digest(canon)
    # (positional: the fields in Block's order)
    return Block(section, pointer, kind, h, ch, len(raw), value, msg, role, name, cache_control)


def make_message(index: int, role: str, pointer: str, blocks: list[Block], first: int) -> Message:
    """A message's identity is its role and its blocks' hashes (no second digest needed)."""
    own = blocks[first:]
    tag = role.encode() + b"\x1e"
    if len(own) == 1:
        h, ch = tag + own[0].hash, tag + own[0].canon
    else:
        h = tag + b"".join([b.hash for b in own])
        ch = tag + b"".join([b.canon for b in own])
    return Message(index, role, pointer, h, ch, first, len(own))  # (positional: Message's field order)


def text_part(text: str) -> tuple[bytes, bytes]:
    raw = b"text\x00" + text.encode("utf-8", "surrogatepass")
    return raw, raw


def expect_list(value: Any, pointer: str) -> list[Any]:
    if not isinstance(value, list):
        raise BodyError(pointer, f"{pointer} must be an array, got {type_name(value)}")
    return value


def expect_dict(value: Any, pointer: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BodyError(pointer, f"{pointer} must be an object, got {type_name(value)}")
    return value


def expect_str(value: Any, pointer: str) -> str:
    if not isinstance(value, str):
        raise BodyError(pointer, f"{pointer} must be a string, got {type_name(value)}")
    return value


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {
        dict: "an object",
        list: "an array",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
    }.get(type(value), type(value).__name__)


def escape_pointer(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")
