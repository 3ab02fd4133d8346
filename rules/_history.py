"""Shared analysis of the conversation history for the history rules (PL301-PL305).

The history rules all look at the same thing: how the messages of a turn relate to the messages
of the previous turn. This module works it out once per pair and sorts every change into exactly
one rule, so that one change is never reported twice:

1. Messages are matched on their *canonical* identity (a re-serialised tool input is the same
   message; `unstable-json-key-order` reports those). A turn whose messages extend the previous
   ones is an append and says nothing.
2. Inside every non-matching stretch, old and new messages are paired: strongly when they share a
   tool call id, most of their blocks or most of their text; weakly when they sit at the same
   place in a stretch anchored by unchanged messages. What stays unpaired was dropped (old) or
   inserted (new); an identical message dropped in one place and inserted in another was moved.
3. Dropped messages at the front are a truncation (PL302). Inserted messages before messages
   that were already there are an insertion (PL303). A paired message is compared block by block:
   thinking (PL304), shrunk tool results (PL305), new content put in front of the previous turn's
   last user message (PL303), anything else, like dropped messages elsewhere and moves (PL301).

Two things are deliberately not reported: a *retry* (the new turn is not longer than the previous
one and only its last messages differ: a regenerated or edited latest question starts a branch),
and an assistant *prefill* ending the previous turn that comes back completed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from prefixlint.diff import display_text, explain, first_difference
from prefixlint.model import Block, Message, Prompt
from prefixlint.providers.base import dumps
from prefixlint.rulebase import Pair
from prefixlint.threads import similarity
from prefixlint.volatile import excerpt

PL301, PL302, PL303, PL304, PL305 = "PL301", "PL302", "PL303", "PL304", "PL305"

THINKING = frozenset(("thinking", "redacted_thinking"))
STRONG = 0.5  # share of blocks or text two versions of one message have in common, at least
MAX_CELLS = 2_500  # largest stretch (old x new messages) aligned by similarity; beyond: by position
_PLACEHOLDER = re.compile(
    r"\b(elided|truncated|omitted|removed|redacted|cleared|trimmed|snipped|shortened|hidden)\b|…|\[\s*\.\.\.\s*\]",
    re.IGNORECASE,
)


@dataclass(slots=True)
class Event:
    """One change to the history, assigned to one rule."""

    code: str
    order: tuple[int, int]  # (message position, block offset) in the new request: report order
    pointer: str
    start: int  # index in new.blocks from which the new request is re-processed
    text: str
    excerpt: dict[str, str] | None = None
    key: str | None = None
    count: int = 1  # how many items (messages, blocks) the event covers


@dataclass(slots=True)
class History:
    events: dict[str, list[Event]] = field(default_factory=dict)

    def add(self, event: Event) -> None:
        self.events.setdefault(event.code, []).append(event)

    def of(self, code: str) -> list[Event]:
        return sorted(self.events.get(code, ()), key=lambda e: e.order)


_EMPTY = History()


def analyse(pair: Pair) -> History:
    """The history changes of a pair, computed once for all history rules."""
    found = pair.memo.get("history")
    if found is None:
        found = pair.memo["history"] = _analyse(pair)
    return found


def reprocessed(pair: Pair, start: int) -> str:
    """'everything from /messages/2 on (about N tokens, estimated) is re-processed at full price'."""
    from prefixlint.rules._util import reprocessed_from

    where = pair.new.blocks[start].pointer if start < len(pair.new.blocks) else "there"
    return reprocessed_from(pair, start, where)


def more(events: list[Event], noun: str, nouns: str | None = None) -> str:
    """' (and 2 more <nouns> in this turn)' for the events after the first."""
    rest = sum(e.count for e in events[1:])
    if not rest:
        return ""
    return f" (and {rest} more {noun if rest == 1 else (nouns or noun + 's')} in this turn)"


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


# -- views of messages and blocks ---------------------------------------------------------------


def blocks_of(prompt: Prompt, m: Message) -> list[Block]:
    return prompt.blocks[m.first : m.first + m.count]


def _part_text(part: Any) -> str:
    if isinstance(part, str):
        return part
    if isinstance(part, dict) and isinstance(part.get("text"), str):
        return part["text"]
    return dumps(part, canonical=True).decode("utf-8", "replace")


def _content_text(content: Any) -> list[str]:
    if content is None:
        return []
    if isinstance(content, list):
        return [_part_text(p) for p in content]
    return [_part_text(content)]


def segments(prompt: Prompt, m: Message) -> list[str]:
    """What a person reads in a message, one string per content block or content part."""
    out: list[str] = []
    for b in blocks_of(prompt, m):
        value = b.value
        if prompt.provider == "anthropic" or not isinstance(value, dict):
            out.append(value if isinstance(value, str) else display_text(b))
            continue
        kind = value.get("type")
        if kind == "function_call":
            out.append(f"{value.get('name')}({value.get('arguments')})")
        elif kind == "function_call_output":
            out.extend(_content_text(value.get("output")))
        elif "role" in value:
            out.extend(_content_text(value.get("content")))
            for call in value.get("tool_calls") or ():
                fn = call.get("function") if isinstance(call, dict) else None
                if isinstance(fn, dict):
                    out.append(f"{fn.get('name')}({fn.get('arguments')})")
        else:
            out.append(dumps(value, canonical=True).decode("utf-8", "replace"))
    return out


def call_ids(prompt: Prompt, m: Message) -> set[str]:
    """Tool call ids (and Responses item ids) a message carries: they identify it across edits."""
    ids: set[str] = set()
    for b in blocks_of(prompt, m):
        v = b.value
        if not isinstance(v, dict):
            continue
        for key in ("tool_use_id", "tool_call_id", "call_id"):
            if isinstance(v.get(key), str):
                ids.add(v[key])
        if b.kind in ("tool_use", "server_tool_use") and isinstance(v.get("id"), str):
            ids.add(v["id"])
        if prompt.api == "responses" and isinstance(v.get("id"), str):
            ids.add(v["id"])
        for call in v.get("tool_calls") or ():
            if isinstance(call, dict) and isinstance(call.get("id"), str):
                ids.add(call["id"])
    return ids


def result_id(b: Block) -> str | None:
    """The call id of a tool result block (Anthropic tool_result, OpenAI tool message, Responses output)."""
    if b.kind != "tool_result" or not isinstance(b.value, dict):
        return None
    for key in ("tool_use_id", "tool_call_id", "call_id"):
        if isinstance(b.value.get(key), str):
            return b.value[key]
    return None


def result_text(b: Block) -> str:
    v = b.value if isinstance(b.value, dict) else {}
    if "output" in v:
        return "".join(_content_text(v.get("output")))
    return "".join(_content_text(v.get("content")))


def tool_name(prompt: Prompt, call: str) -> str | None:
    """Name of the tool whose call has id ``call``, from the tool calls in the prompt."""
    for b in prompt.blocks:
        v = b.value
        if b.kind != "tool_use" or not isinstance(v, dict):
            continue
        if v.get("id") == call or v.get("call_id") == call:
            return str(v.get("name"))
        for c in v.get("tool_calls") or ():
            if isinstance(c, dict) and c.get("id") == call and isinstance(c.get("function"), dict):
                return str(c["function"].get("name"))
    return None


def is_thinking(prompt: Prompt, m: Message) -> bool:
    return m.count > 0 and all(b.kind in THINKING for b in blocks_of(prompt, m))


def _describe_role(m: Message) -> str:
    return f"{m.pointer} ({m.role})"


def _which(om: Message, nm: Message) -> str:
    """'/messages/3 (user)', or '/messages/3 (user), now /messages/5,' when it moved."""
    if om.pointer == nm.pointer:
        return _describe_role(om)
    return f"{_describe_role(om)}, now {nm.pointer},"


# -- the analysis -------------------------------------------------------------------------------


@dataclass(slots=True)
class _Ctx:
    prev: Prompt
    new: Prompt
    segs: dict[tuple[int, int], list[str]] = field(default_factory=dict)
    texts: dict[tuple[int, int], str] = field(default_factory=dict)
    ids: dict[tuple[int, int], set[str]] = field(default_factory=dict)

    def prompt(self, side: int) -> Prompt:
        return self.prev if side == 0 else self.new

    def seg(self, side: int, i: int) -> list[str]:
        found = self.segs.get((side, i))
        if found is None:
            prompt = self.prompt(side)
            found = self.segs[side, i] = segments(prompt, prompt.messages[i])
        return found

    def text(self, side: int, i: int) -> str:
        found = self.texts.get((side, i))
        if found is None:
            found = self.texts[side, i] = "\n".join(self.seg(side, i))
        return found

    def call_ids(self, side: int, i: int) -> set[str]:
        found = self.ids.get((side, i))
        if found is None:
            prompt = self.prompt(side)
            found = self.ids[side, i] = call_ids(prompt, prompt.messages[i])
        return found

    def strength(self, i: int, j: int) -> float:
        """How surely old message i and new message j are one message (0: not at all)."""
        a, b = self.prev.messages[i], self.new.messages[j]
        if a.role != b.role:
            return 0.0
        if self.call_ids(0, i) & self.call_ids(1, j):
            return 1.0
        ca = [x.canon for x in blocks_of(self.prev, a)]
        cb = [x.canon for x in blocks_of(self.new, b)]
        shared = sum(1 for x in ca if x in cb)
        if ca and cb and shared / min(len(ca), len(cb)) >= STRONG and (len(ca) > 1 or len(cb) > 1):
            return 0.5 + 0.5 * shared / max(len(ca), len(cb))
        sim = similarity(self.text(0, i), self.text(1, j))
        return sim if sim >= STRONG else 0.0

    def same_shape(self, i: int, j: int) -> bool:
        a, b = self.prev.messages[i], self.new.messages[j]
        if a.role != b.role:
            return False
        ka = {x.kind for x in blocks_of(self.prev, a)}
        kb = {x.kind for x in blocks_of(self.new, b)}
        return bool(ka & kb) or not ka or not kb

    def role_changed(self, i: int, j: int) -> bool:
        a, b = self.prev.messages[i], self.new.messages[j]
        return a.role != b.role and self.seg(0, i) == self.seg(1, j)


def _align(ctx: _Ctx, i1: int, i2: int, j1: int, j2: int) -> list[tuple[int, int]]:
    """Pair old messages i1..i2 with new messages j1..j2 (monotone), best pairs first."""
    n, m = i2 - i1, j2 - j1
    if n * m > MAX_CELLS:
        return [(i1 + k, j1 + k) for k in range(min(n, m)) if ctx.same_shape(i1 + k, j1 + k)]
    start_anchor = i1 > 0 and j1 > 0
    end_anchor = i2 < len(ctx.prev.messages) and j2 < len(ctx.new.messages)

    def weak(i: int, j: int) -> bool:
        if n == m:
            return i - i1 == j - j1
        if not start_anchor and n > m:
            return False  # the oldest messages shrank into fewer: a truncation (or a summary)
        return (start_anchor and i - i1 == j - j1) or (end_anchor and i2 - i == j2 - j)

    score: dict[tuple[int, int], float] = {}
    for i in range(i1, i2):
        for j in range(j1, j2):
            s = ctx.strength(i, j)
            if s > 0:
                score[i, j] = 1000 + s
            elif ctx.role_changed(i, j) or (weak(i, j) and (n == m or ctx.same_shape(i, j))):
                score[i, j] = 1
    # best[i][j]: best total for old i.., new j.. (suffixes); ties prefer the earliest pair.
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    for a in range(n - 1, -1, -1):
        row, below = best[a], best[a + 1]
        for b in range(m - 1, -1, -1):
            v = max(below[b], row[b + 1])
            s = score.get((i1 + a, j1 + b))
            if s is not None:
                v = max(v, s + below[b + 1])
            row[b] = v
    pairs = []
    a = b = 0
    while a < n and b < m:
        s = score.get((i1 + a, j1 + b))
        if s is not None and best[a][b] == s + best[a + 1][b + 1]:
            pairs.append((i1 + a, j1 + b))
            a += 1
            b += 1
        elif best[a][b] == best[a + 1][b]:
            a += 1
        else:
            b += 1
    return pairs


def _analyse(pair: Pair) -> History:
    prev, new = pair.prev, pair.new
    if pair.fork:
        return _EMPTY
    if (prev.provider, prev.api) != (new.provider, new.api):
        return _EMPTY  # another API renders everything differently: model-switched says it
    if pair.section("messages").kind in ("same", "append", "reserialize", "added", "removed"):
        return _EMPTY
    P, N = prev.messages, new.messages
    a = [m.canon for m in P]
    b = [m.canon for m in N]
    if b[: len(a)] == a:
        return _EMPTY  # only re-serialised (canonically equal): unstable-json-key-order
    ctx = _Ctx(prev, new)
    ops = SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    changed = [op for op in ops if op[0] != "equal"]
    history = History()

    old_to_new: dict[int, int] = {}
    for tag, i1, i2, j1, j2 in ops:
        if tag == "equal":
            old_to_new.update(zip(range(i1, i2), range(j1, j2)))
    last_user = max((i for i, m in enumerate(P) if m.role == "user"), default=None)

    retry = len(changed) == 1 and changed[0][2] == len(P) and changed[0][4] == len(N) and len(N) <= len(P)
    pairs: list[tuple[int, int]] = []
    dropped: list[int] = []
    inserted: list[int] = []
    for tag, i1, i2, j1, j2 in changed:
        found = _align(ctx, i1, i2, j1, j2) if tag == "replace" else []
        pairs.extend(found)
        paired_old = {i for i, _ in found}
        paired_new = {j for _, j in found}
        dropped.extend(i for i in range(i1, i2) if i not in paired_old)
        inserted.extend(j for j in range(j1, j2) if j not in paired_new)

    if retry:
        # A regenerated or edited latest turn: a branch, not a rewrite. Only context put in front
        # of the previous turn's last user message is still worth saying.
        for i, j in pairs:
            if i == last_user:
                _compare(ctx, history, i, j, prepend_only=True)
        return history

    # Moves: a message dropped in one place and inserted, identical, in another.
    moved: list[tuple[int, int]] = []
    for i in list(dropped):
        for j in inserted:
            if b[j] == a[i]:
                moved.append((i, j))
                dropped.remove(i)
                inserted.remove(j)
                break

    for i, j in pairs:
        old_to_new[i] = j
    kept_old = sorted(old_to_new)
    kept_new = sorted(old_to_new.values())

    # Truncation: the oldest messages dropped (optionally after a pinned first message).
    front: list[int] = []
    boundary = 0
    gone = set(dropped)
    if kept_old:
        first_kept = kept_old[0]
        if first_kept > 0 and all(i in gone for i in range(first_kept)):
            front, boundary = list(range(first_kept)), old_to_new[first_kept]
        elif first_kept == 0 and old_to_new[0] == 0 and a[0] == b[0] and len(kept_old) > 1:
            nxt = kept_old[1]
            if nxt >= 3 and all(i in gone for i in range(1, nxt)):
                front, boundary = list(range(1, nxt)), old_to_new[nxt]
    if front:
        dropped = [i for i in dropped if i not in front]
        lo = front[0]  # 0, or 1 after a pinned first message
        summary = [j for j in inserted if lo <= j < boundary]
        inserted = [j for j in inserted if j not in summary]
        _truncated(ctx, history, front, summary, boundary)

    for i, j in moved:
        _moved(ctx, history, i, j)

    # Dropped elsewhere: deleted from the middle (or the end of) the history.
    for i in dropped:
        after = next((old_to_new[k] for k in kept_old if k > i), None)
        if after is None:
            after = min(len(N) - 1, (max(kept_new) + 1) if kept_new else 0)
        _deleted(ctx, history, i, after)

    # Inserted before messages that were already there (those after everything kept are appended).
    last_kept = max(kept_new, default=-1)
    before = [j for j in inserted if j < last_kept]
    if before:
        _inserted(ctx, history, before, old_to_new)

    for i, j in pairs:
        if i == len(P) - 1 and P[i].role == "assistant" and _completed_prefill(ctx, i, j):
            continue
        _compare(ctx, history, i, j, prepend_only=False, last_user=(i == last_user))
    return history


def _completed_prefill(ctx: _Ctx, i: int, j: int) -> bool:
    old, new = "".join(ctx.seg(0, i)), "".join(ctx.seg(1, j))
    return bool(old) and new.startswith(old.rstrip())


def _message_start(prompt: Prompt, j: int) -> int:
    return prompt.messages[j].first if j < len(prompt.messages) else len(prompt.blocks)


# -- events -------------------------------------------------------------------------------------


def _truncated(ctx: _Ctx, history: History, front: list[int], summary: list[int], boundary: int) -> None:
    prev, new = ctx.prev, ctx.new
    tokens = sum(b.tokens for i in front for b in blocks_of(prev, prev.messages[i]))
    at = summary[0] if summary else min(boundary, front[0])
    m = new.messages[at]
    was = "was" if len(front) == 1 else "were"
    if front[0] == 0:
        which = "the oldest message" if len(front) == 1 else f"the {len(front)} oldest messages"
        text = f"{which} (about {tokens:,} tokens) {was} dropped from the front of the conversation"
    else:
        which = "the message" if len(front) == 1 else f"the {len(front)} messages"
        text = f"{which} (about {tokens:,} tokens) after the pinned first message {was} dropped"
    if summary:
        text += f" and replaced by {plural(len(summary), 'new message')}"
    history.add(
        Event(
            PL302,
            (at, 0),
            m.pointer,
            m.first,
            text,
            excerpt={"before": excerpt(ctx.text(0, front[0]), 0, 0), "after": excerpt(ctx.text(1, at), 0, 0)},
            count=len(front),
        )
    )


def _moved(ctx: _Ctx, history: History, i: int, j: int) -> None:
    old, m = ctx.prev.messages[i], ctx.new.messages[j]
    history.add(
        Event(
            PL301,
            (j, 0),
            m.pointer,
            m.first,
            f"message {old.pointer} ({old.role}) of the previous turn moved to {m.pointer}",
            excerpt={"text": excerpt(ctx.text(1, j), 0, 0)},
        )
    )


def _deleted(ctx: _Ctx, history: History, i: int, j: int) -> None:
    prev, new = ctx.prev, ctx.new
    old = prev.messages[i]
    j = max(0, j)
    pointer = new.messages[j].pointer if new.messages else "/messages"
    start = _message_start(new, j)
    shown = excerpt(ctx.text(0, i), 0, 0)
    if is_thinking(prev, old):
        history.add(
            Event(
                PL304,
                (j, 0),
                pointer,
                start,
                f"reasoning item {old.pointer} of the previous turn was dropped",
                excerpt={"before": shown},
            )
        )
        return
    history.add(
        Event(
            PL301,
            (j, 0),
            pointer,
            start,
            f"message {_describe_role(old)} of the previous turn was deleted",
            excerpt={"before": shown},
        )
    )


def _inserted(ctx: _Ctx, history: History, before: list[int], old_to_new: dict[int, int]) -> None:
    prev, new = ctx.prev, ctx.new
    new_to_old = {j: i for i, j in old_to_new.items()}
    thinking = [j for j in before if is_thinking(new, new.messages[j])]
    plain = [j for j in before if j not in thinking]
    for j in thinking:
        m = new.messages[j]
        history.add(
            Event(PL304, (j, 0), m.pointer, m.first, f"reasoning item {m.pointer} was added to earlier history")
        )
    if not plain:
        return
    # Group consecutive insertions: one event per place where messages went in.
    groups: list[list[int]] = []
    for j in plain:
        if groups and groups[-1][-1] == j - 1:
            groups[-1].append(j)
        else:
            groups.append([j])
    for group in groups:
        j = group[0]
        m = new.messages[j]
        nxt = next((k for k in range(group[-1] + 1, len(new.messages)) if k in new_to_old), None)
        where = ""
        if nxt is not None:
            where = f", in front of the previous turn's {_describe_role(prev.messages[new_to_old[nxt]])}"
        roles = ", ".join(sorted({new.messages[k].role for k in group}))
        history.add(
            Event(
                PL303,
                (j, 0),
                m.pointer,
                m.first,
                f"{plural(len(group), 'new message')} ({roles}) inserted at {m.pointer}{where}",
                excerpt={"after": excerpt(ctx.text(1, j), 0, 0)},
                count=len(group),
            )
        )


def _compare(
    ctx: _Ctx, history: History, i: int, j: int, *, prepend_only: bool, last_user: bool = True
) -> None:
    """Sort the differences between old message i and new message j into rules."""
    prev, new = ctx.prev, ctx.new
    om, nm = prev.messages[i], new.messages[j]
    ob, nb = blocks_of(prev, om), blocks_of(new, nm)

    if om.role == nm.role == "user" and last_user:
        prefix = _prepended(ctx.seg(0, i), ctx.seg(1, j))
        if prefix is not None:
            history.add(
                Event(
                    PL303,
                    (j, 0),
                    nb[0].pointer if nb else nm.pointer,
                    nm.first,
                    f"new content was put in front of the previous turn's last user message {om.pointer}",
                    excerpt={"after": excerpt(prefix, 0, 0)},
                )
            )
            return
    if prepend_only:
        return

    if om.role != nm.role:
        same = ctx.seg(0, i) == ctx.seg(1, j)
        history.add(
            Event(
                PL301,
                (j, 0),
                nm.pointer + "/role",
                nm.first,
                f"earlier message {om.pointer} changed its role from `{om.role}` to `{nm.role}`"
                + ("" if same else ", and its content changed"),
                excerpt={"before": om.role, "after": nm.role},
            )
        )
        return

    if is_thinking(prev, om) and not any(x.kind in THINKING for x in nb):
        kinds = ", ".join(sorted({f"`{x.kind}`" for x in nb})) or "nothing"
        history.add(
            Event(
                PL304,
                (j, 0),
                nm.pointer,
                nm.first,
                f"{'reasoning item' if prev.api == 'responses' else 'thinking'} {om.pointer} of the previous turn "
                f"was replaced by {kinds}",
                excerpt={"before": excerpt(ctx.text(0, i), 0, 0), "after": excerpt(ctx.text(1, j), 0, 0)},
            )
        )
        return

    o_think = [x for x in ob if x.kind in THINKING]
    n_think = [x for x in nb if x.kind in THINKING]
    think_changed = [x.canon for x in o_think] != [x.canon for x in n_think]
    o_rest = [k for k, x in enumerate(ob) if x.kind not in THINKING]
    n_rest = [k for k, x in enumerate(nb) if x.kind not in THINKING]
    if [ob[k].canon for k in o_rest] == [nb[k].canon for k in n_rest]:
        if think_changed:
            _thinking(ctx, history, i, j, o_think, n_think)
        return

    # Tool results paired by call id: a shrunk one was elided; any other change is a rewrite.
    new_results = {result_id(nb[k]): k for k in n_rest if result_id(nb[k])}
    elided_old: set[int] = set()
    elided_new: set[int] = set()
    for k in o_rest:
        rid = result_id(ob[k])
        l = new_results.get(rid) if rid else None
        if l is None or nb[l].canon == ob[k].canon:
            continue
        before, after = result_text(ob[k]), result_text(nb[l])
        if len(after) < len(before) or (_PLACEHOLDER.search(after) and not _PLACEHOLDER.search(before)):
            elided_old.add(k)
            elided_new.add(l)
            _elided(ctx, history, j, l, before, after)
    o_left = [k for k in range(len(ob)) if k not in elided_old]
    n_left = [k for k in range(len(nb)) if k not in elided_new]
    if [ob[k].canon for k in o_left if k in o_rest] == [nb[k].canon for k in n_left if k in n_rest]:
        if think_changed:
            _thinking(ctx, history, i, j, o_think, n_think)
        return
    if think_changed:  # say so in words; locate the rewrite in the other blocks
        o_left = [k for k in o_left if k in o_rest]
        n_left = [k for k in n_left if k in n_rest]
    _rewritten(ctx, history, i, j, [ob[k] for k in o_left], [(k, nb[k]) for k in n_left], thinking_too=think_changed)


def _prepended(old: list[str], new: list[str]) -> str | None:
    """The text put in front when ``new`` is ``old`` with something before it, else None."""
    if not old or not old[0] or len(new) < len(old):
        return None
    k = len(new) - len(old)
    if new[k + 1 :] != old[1:] or not new[k].endswith(old[0]):
        return None
    head = new[k][: len(new[k]) - len(old[0])]
    if k == 0 and not head:
        return None
    return "\n".join(part for part in [*new[:k], head] if part)


def _thinking(ctx: _Ctx, history: History, i: int, j: int, o_think: list[Block], n_think: list[Block]) -> None:
    om, nm = ctx.prev.messages[i], ctx.new.messages[j]
    n_old, n_new = len(o_think), len(n_think)
    if ctx.new.api == "responses":
        what = f"reasoning item {om.pointer} of the previous turn was changed"
        if om.pointer != nm.pointer:
            what += f" (it is now {nm.pointer})"
    elif n_new == 0:
        blocks = "thinking block" if n_old == 1 else f"{n_old} thinking blocks"
        what = f"the {nm.role} message {nm.pointer} lost its {blocks}"
    elif n_old == 0:
        what = f"the {nm.role} message {nm.pointer} gained {plural(n_new, 'thinking block')} it did not have"
    elif n_new < n_old:
        what = f"the {nm.role} message {nm.pointer} lost {n_old - n_new} of its {n_old} thinking blocks"
    else:
        what = f"the thinking of the {nm.role} message {nm.pointer} was changed"
    shown = None
    if o_think and n_think:
        x, y = display_text(o_think[0]), display_text(n_think[0])
        at = first_difference(x, y)
        shown = {"before": excerpt(x, at, at), "after": excerpt(y, at, at)}
    elif o_think:
        shown = {"before": excerpt(display_text(o_think[0]), 0, 0)}
    elif n_think:
        shown = {"after": excerpt(display_text(n_think[0]), 0, 0)}
    history.add(Event(PL304, (j, 0), nm.pointer, nm.first, what, excerpt=shown))


def _elided(ctx: _Ctx, history: History, j: int, offset: int, before: str, after: str) -> None:
    nm = ctx.new.messages[j]
    y = ctx.new.blocks[nm.first + offset]
    call = result_id(y) or "?"
    name = tool_name(ctx.new, call) or tool_name(ctx.prev, call)
    label = f"`{name}` ({call})" if name else f"call {call}"
    at = first_difference(before, after)
    history.add(
        Event(
            PL305,
            (j, offset),
            y.pointer,
            nm.first + offset,
            f"the tool result of {label} at {y.pointer} was cut from {len(before):,} to {len(after):,} characters",
            excerpt={"before": excerpt(before, at, at), "after": excerpt(after, at, at)},
            key=call,
        )
    )


_TEXTUAL = frozenset(("text", "thinking", "redacted_thinking"))


def _rewritten(
    ctx: _Ctx, history: History, i: int, j: int, ob: list[Block], nb: list[tuple[int, Block]], *, thinking_too: bool
) -> None:
    om, nm = ctx.prev.messages[i], ctx.new.messages[j]
    which = f"earlier message {_which(om, nm)}"
    oc, nc = [x.canon for x in ob], [y.canon for _, y in nb]
    ops = SequenceMatcher(None, oc, nc, autojunk=False).get_opcodes()
    tag, k1, k2, l1, l2 = next(op for op in ops if op[0] != "equal")
    shown: dict[str, str]
    if tag == "replace":
        x, y = ob[k1], nb[l1][1]
        results = x.kind == y.kind == "tool_result"
        if x.kind == y.kind == "text":
            part = "text"
        elif results:
            part = f"tool result {result_id(y)}"
        elif ctx.new.provider == "openai" and x.kind == y.kind:
            part = {"tool_use": "tool calls"}.get(x.kind, "content")
        else:
            part = f"`{y.kind}` block"
        text = f"the {part} of {which} changed"
        tx, ty = (result_text(x), result_text(y)) if results else (display_text(x), display_text(y))
        at = first_difference(tx, ty)
        shown = {"before": excerpt(tx, at, at), "after": excerpt(ty, at, at)}
        if ty and len(ty) < len(tx) and tx.endswith(ty):
            text += f" (its first {len(tx) - len(ty):,} characters were removed)"
        plain = results or x.kind in _TEXTUAL or (
            x.kind == "message" and isinstance(x.value, dict) and isinstance(x.value.get("content"), str)
        )
        if not plain and isinstance(x.value, dict) and isinstance(y.value, dict):
            lines = explain(x.value, y.value, limit=3)
            if lines:
                shown["diff"] = "; ".join(lines)
    elif tag == "delete":
        text = f"{plural(k2 - k1, 'block')} (`{ob[k1].kind}`) removed from {which.rstrip(',')}"
        shown = {"before": excerpt(display_text(ob[k1]), 0, 0)}
    else:
        text = f"{plural(l2 - l1, 'block')} (`{nb[l1][1].kind}`) added to {which.rstrip(',')}"
        shown = {"after": excerpt(display_text(nb[l1][1]), 0, 0)}
    if thinking_too:
        text += ", and its thinking blocks changed too"
    offset = nb[l1][0] if l1 < len(nb) else nm.count
    pointer = ctx.new.blocks[nm.first + offset].pointer if offset < nm.count else nm.pointer
    history.add(Event(PL301, (j, offset), pointer, nm.first + offset, text, excerpt=shown))
