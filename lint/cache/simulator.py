"""Run the provider cache models over the requests of one file, in log order.

Caches are shared by every conversation of an organisation, so one store serves the whole file:
an entry is the hash of a prefix (everything up to and including one block, with the model and the
settings that are part of the cache key folded in), with its size, its expiry and the moment it
becomes readable. The provider modules decide where entries are written and how they are found;
this module keeps the store (bounded: least recently used entries are dropped first), calibrates
token estimates per thread from recorded usage, and adds up per-thread figures.

Assumptions (documented, and stated in the output as estimates):
- token counts are estimated from text (about 4 bytes a token) and, once a thread has recorded
  usage, scaled by the ratio of recorded to estimated prompt tokens of that thread;
- with timestamps, an entry becomes readable ``READY_DELAY`` seconds after its request (the first
  response must begin before anyone can read it), unless the reading request already carries a
  reply that came after that prefix; without timestamps, immediately, and never expires;
- logs are not always in time order (parallel workers logged by conversation): an entry written
  by a request stamped later than the reader is treated as absent, not as pending.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import accumulate, repeat
from operator import mul
from typing import Any

import orjson
from prefixlint.cache.tables import ModelPricing, Tables, load_tables
from prefixlint.cache.usage import Usage, parse_usage
from prefixlint.model import SECTIONS, Prompt
from prefixlint.providers.base import common_prefix, digest, token_counts

READY_DELAY = 1.0
MAX_ENTRIES = 400_000
MAX_SCALES = 50_000

# Settings folded into the prefix hash at the start of the section whose cache they invalidate
# (reference/caching-rules.md, "What invalidates which level"); the model seeds the whole chain.
_SECTION_SETTINGS = {
    ("anthropic", "system"): ("server tool ", "speed"),
    ("anthropic", "messages"): (
        "tool_choice",
        "disable_parallel_tool_use",
        "thinking",
        "output_config",
        "context_management",
        "anthropic-beta header",
    ),
    ("openai", "messages"): ("reasoning_effort", "reasoning.effort"),
    # Gemini and Bedrock document less; a setting that changes what the model is asked to do is
    # assumed to invalidate the conversation, like tool_choice and thinking on Anthropic.
    ("gemini", "messages"): ("toolConfig", "thinkingConfig", "cachedContent"),
    ("bedrock", "messages"): ("toolChoice", "additionalModelRequestFields."),
}


@dataclass(slots=True, eq=False)
class Run:
    """Entries of the store that were last written together: a stretch of one prefix chain, in
    chain order, sharing one expiry, one TTL and one place in the least-recently-used order.

    OpenAI-style caching writes every prefix of a request's chain with one expiry and TTL, and the
    next request of the conversation writes the same prefixes again plus a few new ones: keeping
    them as one run turns that refresh into a few operations instead of one per prefix (see
    :meth:`CacheSimulator.put_from`). The order of the store's entries, least recently used first,
    is the runs' order and, within a run, the order of its members in ``keys``.

    ``keys[i]`` (``i >= lo``) is a member when its entry has ``run is self`` and ``pos == i``; any
    other key is a hole (the entry was written again since, into another run, or evicted)."""

    keys: list[bytes]
    expires: float | None
    ttl: int | None
    lo: int = 0  # keys[:lo] are no members any more
    size: int = 0  # members
    max_ready: float = float("-inf")  # no member has a (non-None) ready time above this


@dataclass(slots=True)
class Entry:
    """The entry of one prefix: its size and the moment it becomes readable; its expiry and TTL
    are those of its run."""

    tokens: int
    ready: float | None
    run: Run
    pos: int  # index of the key in run.keys

    @property
    def expires(self) -> float | None:
        return self.run.expires

    @property
    def ttl(self) -> int | None:
        return self.run.ttl


@dataclass(slots=True)
class Breakpoint:
    index: int  # block index
    pointer: str
    ttl: str  # "5m" | "1h"
    automatic: bool
    tokens: int  # prefix tokens up to and including the block


_TRUNC = float.__trunc__  # int() of a float, without int()'s generic construction path


class ScaledTotals(Sequence[int]):
    """``[int(scale * n) for n in totals]``, each item computed when it is read: a request's running
    token totals calibrated for its thread. The cache model reads a few of them per request (its
    breakpoints, the end of the longest cached prefix, the last), far fewer than it has blocks.
    Compares equal to the list of its items; ``totals`` must not change."""

    __slots__ = ("totals", "scale")

    def __init__(self, totals: list[int], scale: float) -> None:
        self.totals = totals
        self.scale = float(scale)

    def __len__(self) -> int:
        return len(self.totals)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return list(map(_TRUNC, map(mul, repeat(self.scale), self.totals[index])))
        return int(self.scale * self.totals[index])

    def first_at_least(self, x: int) -> int:
        """``bisect_left(self, x)``: the first index whose item is at least ``x`` (the items never
        decrease), found by a bisection of ``totals`` in C and a step or two over its items,
        instead of a ``__getitem__`` call per bisection step."""
        scale, totals = self.scale, self.totals
        if not 0.0 < scale < float("inf"):  # (the items would not be ordered: bisect them as they are)
            return bisect_left(self, x)
        i = bisect_left(totals, x / scale)  # about there; int(scale * n) >= x decides
        while i > 0 and int(scale * totals[i - 1]) >= x:
            i -= 1
        n = len(totals)
        while i < n and int(scale * totals[i]) < x:
            i += 1
        return i

    def __iter__(self) -> Iterator[int]:
        return map(_TRUNC, map(mul, repeat(self.scale), self.totals))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (list, ScaledTotals)):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # like a list's

    def __repr__(self) -> str:
        return repr(list(self))


@dataclass(slots=True)
class TurnCache:
    """What the model predicts for one request (tokens are estimates, calibrated when possible)."""

    family: str  # "anthropic" | "openai"
    pricing: ModelPricing
    cum: Sequence[int]  # cumulative tokens per block (a list or ScaledTotals)
    time: float | None
    read: int = 0
    write: int = 0
    read_index: int = -1
    breakpoints: list[Breakpoint] = field(default_factory=list)
    below_minimum: list[Breakpoint] = field(default_factory=list)
    lookback_misses: list[tuple[Breakpoint, int]] = field(default_factory=list)
    expired: list[tuple[int, float, int]] = field(default_factory=list)  # (index, seconds since written, ttl)
    pending: list[int] = field(default_factory=list)  # entries written but not yet readable
    observed: Usage | None = None
    calibrated: bool = False
    rejected: str | None = None  # why the provider would refuse the request (nothing read or written)
    # What the next turn of the thread can reuse (see prefix_chain): the blocks, their prefix hashes
    # and the seeds these were computed with.
    blocks: list | None = field(default=None, repr=False)
    chain: list[bytes] | None = field(default=None, repr=False)
    seeds: tuple | None = field(default=None, repr=False)
    estimates: list[int] | None = field(default=None, repr=False)  # cumulative tokens before calibration
    shared: int = 0  # the leading blocks equal to the previous turn's (``prev.blocks``)
    marked: list[int] | None = field(default=None, repr=False)  # blocks with a cache_control object (Anthropic)
    # the prompt's tokens, ``cum[-1]`` (read several times per request; ``cum`` is not changed)
    total: int = field(init=False, default=0, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.total = self.cum[-1] if self.cum else 0

    def release(self) -> None:
        """Drop what only spares the next turn work (the blocks, prefix hashes and running
        estimates it would reuse): its thread is parked (see prefixlint.threads). A next turn
        computes them again, the same."""
        self.blocks = self.chain = self.estimates = None

    @property
    def write_multiplier(self) -> float:
        """Price multiplier of this turn's writes: 1h entries cost more than 5m ones."""
        if self.family == "anthropic" and self.breakpoints and self.breakpoints[-1].ttl == "1h":
            return self.pricing.write_multiplier_1h
        return self.pricing.write_multiplier_5m

    @property
    def uncached(self) -> int:
        return max(0, self.total - self.read - self.write)

    def tokens_before(self, index: int) -> int:
        return self.cum[index - 1] if 0 < index <= len(self.cum) else 0


MAX_TURN_POINTS = 1000  # per thread: enough for a timeline, bounded for day-long logs


@dataclass(slots=True)
class TurnPoint:
    """One turn of a thread as a timeline shows it (token counts are estimates)."""

    turn: int
    origin: str  # file:line or file#entry
    total: int
    read: int  # predicted cache read
    write: int  # predicted cache write
    observed_read: int | None  # recorded cache read, when the log has usage
    codes: list[str] = field(default_factory=list)  # findings on this turn


@dataclass(slots=True)
class ThreadStats:
    file: str
    thread: str
    requests: int = 0
    total: int = 0
    predicted_read: int = 0
    ideal_read: int = 0
    observed_total: int = 0
    observed_read: int = 0
    observed_requests: int = 0
    lost_tokens: int = 0
    lost_usd: float = 0.0
    priced: bool = True
    model: str | None = None
    turns: list[TurnPoint] = field(default_factory=list)  # the first MAX_TURN_POINTS turns, for timelines

    @staticmethod
    def rate(read: int, total: int) -> float | None:
        return round(read / total, 4) if total else None

    @property
    def predicted_rate(self) -> float | None:
        return self.rate(self.predicted_read, self.total)

    @property
    def ideal_rate(self) -> float | None:
        return self.rate(self.ideal_read, self.total)

    @property
    def observed_rate(self) -> float | None:
        return self.rate(self.observed_read, self.observed_total) if self.observed_requests else None


def parse_time(value: str | None) -> float | None:
    """Seconds since the epoch from an ISO 8601 timestamp or a number; None when unreadable."""
    if value is None:
        return None
    if not (isinstance(value, str) and ":" in value):  # float() never reads a ':' (ISO times have one)
        try:
            number = float(value)
        except ValueError:
            pass
        else:
            return number / 1000.0 if number > 1e11 else number
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def first_at_least(cum: Sequence[int], x: int) -> int:
    """``bisect_left(cum, x)`` for a turn's running totals (a list or :class:`ScaledTotals`)."""
    return cum.first_at_least(x) if type(cum) is ScaledTotals else bisect_left(cum, x)


def _setting_seed(prompt: Prompt, section: str) -> bytes:
    labels = _SECTION_SETTINGS.get((prompt.provider, section))
    if not labels:
        return b""
    picked = sorted(
        (label, s.value) for label, s in prompt.settings.items() if any(label.startswith(x) for x in labels)
    )
    return orjson.dumps(picked, option=orjson.OPT_SORT_KEYS, default=str) if picked else b""


def last_reply(prompt: Prompt) -> int:
    """Index of the last assistant block (-1 when none): prefixes before it were answered already."""
    for i in range(len(prompt.blocks) - 1, -1, -1):
        if prompt.blocks[i].role == "assistant":
            return i
    return -1


# Prefix hashes already computed: (hash of the prefix before a block + the block's hash) -> hash of
# the prefix through that block. A conversation's next turn takes its chain from the previous turn
# (see prefix_chain); what this serves is the start of a new thread that opens like another (the
# tools and system prompt of a subagent, a side call, a new conversation of the same agent): about
# a fifth of the lookups on the generated log, few on a log of consecutive conversations. Bounded:
# cleared when full (4,096 links, under 1 MiB; 50,000 kept no more hits and grew with the log).
_LINKS: dict[bytes, bytes] = {}
_SECTION_AT = {section: 1 + i for i, section in enumerate(SECTIONS)}  # where chain_seeds puts its seed
MAX_LINKS = 4096


_PLAIN_SEEDS: dict[tuple[str, str | None], tuple[bytes, ...]] = {}  # chain_seeds of prompts without settings


def chain_seeds(prompt: Prompt) -> tuple[bytes, ...]:
    """What a prompt's prefix hashes start from: the model (and OpenAI's prompt_cache_key), then
    what each section folds in at its start.

    Without settings they depend on the provider and the model alone, and are computed once per
    pair (the memo holds one tuple per model name a file uses)."""
    if not prompt.settings:
        key = (prompt.provider, prompt.model)
        seeds = _PLAIN_SEEDS.get(key)
        if seeds is None:
            if len(_PLAIN_SEEDS) > 1000:
                _PLAIN_SEEDS.clear()
            seeds = _PLAIN_SEEDS[key] = _chain_seeds(prompt)
        return seeds
    return _chain_seeds(prompt)


def _chain_seeds(prompt: Prompt) -> tuple[bytes, ...]:
    seed = f"{prompt.provider}\x00{prompt.model}".encode()
    if prompt.provider == "openai":
        key = prompt.settings.get("prompt_cache_key")
        seed += b"\x00" + (str(key.value).encode() if key else b"")
    return (seed, *(_setting_seed(prompt, section) for section in SECTIONS))


def prefix_chain(
    prompt: Prompt, prev: TurnCache | None = None, seeds: tuple[bytes, ...] | None = None, shared: int | None = None
) -> list[bytes]:
    """The hash of every prefix (up to and including each block), model and cache-key settings in.

    ``prev``: the previous turn of the thread; the hashes of the blocks both turns share (from the
    start, with the same seeds) are taken from it rather than computed again. ``shared``: how many
    blocks the two share, when the caller knows already (``common_prefix(prev.blocks, blocks)``)."""
    if seeds is None:
        seeds = chain_seeds(prompt)
    blocks = prompt.blocks
    k = 0
    if prev is not None and prev.chain is not None and prev.seeds == seeds:
        # identical Block objects compare in C
        k = shared if shared is not None else common_prefix(prev.blocks, blocks)
    if k:
        out = prev.chain[:k]
        h = out[-1]
        section = blocks[k - 1].section
    else:
        out = []
        h = digest(seeds[0])
        section = None
    append = out.append
    links = _LINKS
    if len(links) > MAX_LINKS:
        links.clear()
    for i in range(k, len(blocks)):
        block = blocks[i]
        if block.section != section:
            section = block.section
            at = _SECTION_AT.get(section)
            h = digest(h + section.encode() + (seeds[at] if at is not None else _setting_seed(prompt, section)))
        link = h + block.hash
        h = links.get(link)
        if h is None:
            h = links[link] = digest(link)
        append(h)
    return out


def _running_estimates(blocks: list, known: list[int] | None, shared: int) -> list[int]:
    """Running totals of the blocks' estimated tokens (``accumulate(token_counts(blocks))``);
    ``known``: those of a block list whose first ``shared`` blocks are these (equal blocks, equal
    sizes), reused rather than counted again."""
    if not known or not shared:
        return list(accumulate(token_counts(blocks)))
    out = known[:shared]
    if shared < len(blocks):
        rest = token_counts(blocks[shared:])
        rest[0] += out[-1]
        out.extend(accumulate(rest))
    return out


_SIMULATE: dict[str, Any] = {}


def _simulate(family: str) -> Any:
    """The provider module's ``simulate(sim, prompt, chain, turn, prev)`` for a cache family
    (imported on first use: the provider modules import this one). ``prev``: the previous turn of
    the thread, whose results for the blocks both share may be reused."""
    if not _SIMULATE:
        from prefixlint.cache import anthropic, openai

        _SIMULATE.update(anthropic=anthropic.simulate, openai=openai.simulate)
    return _SIMULATE[family]


class CacheSimulator:
    """The cache store of one file and the per-thread figures."""

    def __init__(self, file: str, tables: Tables | None = None, timelines: bool = True) -> None:
        self.file = file
        self.tables = tables or load_tables()
        self.timelines = timelines  # keep each thread's TurnPoints (only the HTML report shows them)
        self.store: dict[bytes, Entry] = {}
        self.runs: OrderedDict[Run, None] = OrderedDict()  # least recently used first
        self.scales: OrderedDict[int, float] = OrderedDict()
        self.threads: dict[str, ThreadStats] = {}

    # -- store ---------------------------------------------------------------------------------
    # The store behaves as one LRU-ordered mapping of prefix hash -> (tokens, expires, ready, ttl)
    # in which every write moves the entry to the most recently used end and, past MAX_ENTRIES,
    # the least recently used entry is dropped. It is kept as entries grouped in runs (see Run) so
    # that rewriting a whole run costs the same as rewriting one entry; every operation below
    # gives each entry the values, and the store the order, that writing the entries one by one
    # in chain order gives.

    def entries(self) -> list[tuple[bytes, Entry]]:
        """Every entry, least recently used first (the order in which they would be evicted)."""
        store = self.store
        out = []
        for run in self.runs:
            for i in range(run.lo, len(run.keys)):
                key = run.keys[i]
                entry = store.get(key)
                if entry is not None and entry.run is run and entry.pos == i:
                    out.append((key, entry))
        return out

    def probe(self, key: bytes, now: float | None) -> tuple[str, Entry | None]:
        """'hit', 'expired', 'pending' or 'absent' for the entry of one prefix."""
        entry = self.store.get(key)
        if entry is None:
            return "absent", None
        if now is not None:
            ready, expires = entry.ready, entry.run.expires
            if ready is not None and now < ready - READY_DELAY:
                return "absent", None  # written by a request logged later (an out-of-order log)
            if expires is not None and now > expires:
                return "expired", entry
            if ready is not None and now < ready:
                return "pending", entry
        return "hit", entry

    def put(self, key: bytes, tokens: int, now: float | None, ttl: int | None) -> None:
        """Write the entry of one prefix (see :meth:`put_from`)."""
        self.put_from([key], [tokens], 0, now, ttl)

    def put_from(self, chain: list[bytes], cum: Sequence[int], start: int, now: float | None, ttl: int | None) -> None:
        """Write the entry of every prefix from ``chain[start]`` on, in order. A live entry is
        refreshed and stays readable; a shorter TTL never cuts a longer one (a 5m breakpoint on a 1h
        prefix), a longer one upgrades it, and written again it is readable no later than before.

        A live run whose members are exactly the next keys of the chain (the prefixes the previous
        request of the conversation wrote) is refreshed as a whole: its members share expiry and
        TTL, so one update gives each of them what refreshing it alone would, and moving the run to
        the most recently used end puts them where moving them one by one in chain order would;
        nothing is inserted meanwhile, so nothing can be evicted in between. Every other entry is
        written on its own, exactly as before; new and rewritten entries join the run written just
        before them when their expiry and TTL are the same."""
        store, runs = self.store, self.runs
        get = store.get
        expires = now + ttl if (now is not None and ttl is not None) else None
        ready = now + READY_DELAY if now is not None else None
        tail: Run | None = None  # the run this write appends to (the most recently used one)
        j, end = start, len(chain)
        while j < end:
            key = chain[j]
            entry = get(key)
            if entry is not None:
                run = entry.run
                old = run.expires
                if now is None or old is None or now <= old:  # live: refreshed
                    lo = run.lo
                    size = len(run.keys) - lo
                    if entry.pos == lo and run.size == size and run is not tail and (
                        size == 1 or chain[j : j + size] == run.keys[lo:]
                    ):
                        if expires is not None and old is not None and expires > old:
                            run.expires = expires
                        if ttl is not None:
                            kept = run.ttl or 0
                            run.ttl = ttl if ttl > kept else kept  # max(run.ttl or 0, ttl)
                        if ready is not None and ready < run.max_ready:
                            for k in run.keys[lo:]:
                                member = store[k]
                                if member.ready is not None and ready < member.ready:
                                    member.ready = ready
                            run.max_ready = ready
                        runs.move_to_end(run)
                        tail = run
                        j += size
                        continue
                    new_ttl = run.ttl
                    if expires is not None and old is not None and expires > old:
                        old = expires
                    if ttl is not None:
                        new_ttl = max(new_ttl or 0, ttl)
                    if ready is not None and entry.ready is not None and ready < entry.ready:
                        entry.ready = ready
                    self._detach(entry)
                    tail = self._attach(key, entry, old, new_ttl, tail)
                    j += 1
                    continue
                self._detach(entry)  # expired: replaced by a new entry
            store[key] = entry = Entry(cum[j], ready, None, 0)  # type: ignore[arg-type]  # run: set by _attach
            tail = self._attach(key, entry, expires, ttl, tail)
            if len(store) > MAX_ENTRIES:
                self._evict()
                if not tail.size:
                    tail = None
            j += 1

    def refresh(self, key: bytes, now: float | None) -> None:
        entry = self.store.get(key)
        if entry is not None:
            run = entry.run
            expires, ttl = run.expires, run.ttl
            if now is not None and ttl is not None:
                expires = max(expires or 0.0, now + ttl)  # never moves backwards
            if run.size == 1:
                run.expires = expires
                self.runs.move_to_end(run)
            else:
                self._detach(entry)
                self._attach(key, entry, expires, ttl, None)

    def _attach(self, key: bytes, entry: Entry, expires: float | None, ttl: int | None, tail: Run | None) -> Run:
        """Make ``entry`` the most recently used one: the last member of ``tail`` (the most recently
        used run) when it has the same expiry and TTL, else of a new run. Returns its run."""
        if tail is None or not tail.size or tail.expires != expires or tail.ttl != ttl:
            tail = Run([], expires, ttl)
            self.runs[tail] = None
        entry.run, entry.pos = tail, len(tail.keys)
        tail.keys.append(key)
        tail.size += 1
        if entry.ready is not None and entry.ready > tail.max_ready:
            tail.max_ready = entry.ready
        return tail

    def _detach(self, entry: Entry) -> None:
        """Take ``entry`` out of its run (its key there becomes a hole)."""
        run = entry.run
        run.size -= 1
        if not run.size:
            del self.runs[run]
            run.keys = []  # nothing refers to its keys any more
            run.lo = 0
            return
        if entry.pos == run.lo:
            run.lo += 1
        if len(run.keys) - run.size > run.size + 64:
            self._compact(run)

    def _evict(self) -> None:
        """Drop the least recently used entry: the first member of the first run."""
        run = next(iter(self.runs))
        store, keys, i = self.store, run.keys, run.lo
        while True:
            key = keys[i]
            entry = store.get(key)
            if entry is not None and entry.run is run and entry.pos == i:
                break
            i += 1
        del store[key]
        run.lo = i + 1
        run.size -= 1
        if not run.size:
            del self.runs[run]
            run.keys = []
            run.lo = 0
        elif len(run.keys) - run.size > run.size + 64:
            self._compact(run)

    def _compact(self, run: Run) -> None:
        """Drop a run's holes (bounded memory: done when they outnumber its members)."""
        store, keys = self.store, []
        for i in range(run.lo, len(run.keys)):
            key = run.keys[i]
            entry = store.get(key)
            if entry is not None and entry.run is run and entry.pos == i:
                entry.pos = len(keys)
                keys.append(key)
        run.keys, run.lo = keys, 0

    # -- per request ---------------------------------------------------------------------------
    def observe(self, prompt: Prompt, thread_key: int, thread: str, prev: TurnCache | None, fork: bool) -> TurnCache:
        pricing = self.tables.model(prompt.provider, prompt.model)
        observed = parse_usage(prompt.record.usage)
        blocks = prompt.blocks
        # The blocks this request shares with the previous one of the thread (usually all of that
        # one): their running token estimates and prefix hashes are that turn's.
        shared = 0
        if prev is not None and prev.blocks is not None:
            shared = common_prefix(prev.blocks, blocks)
        estimates = _running_estimates(blocks, prev.estimates if shared and prev is not None else None, shared)
        estimate = estimates[-1] if estimates else 0
        scale = self.scales.get(thread_key)
        calibrated = scale is not None
        if observed is not None and observed.total and estimate:
            # Re-calibrate on every recorded request: the ratio drifts as a conversation grows.
            scale, calibrated = observed.total / estimate, True
            self.scales[thread_key] = scale
            self.scales.move_to_end(thread_key)
            if len(self.scales) > MAX_SCALES:
                self.scales.popitem(last=False)
        scale = scale or 1.0
        cum = estimates[:] if scale == 1.0 else ScaledTotals(estimates, scale)
        turn = TurnCache(
            # The table's routing decides the cache behaviour: a Claude model behind an OpenAI-style
            # gateway still caches at breakpoints, DeepSeek behind an Anthropic-style API caches
            # automatically.
            family="anthropic" if pricing.provider in ("anthropic", "bedrock") else "openai",
            pricing=pricing,
            cum=cum,
            time=parse_time(prompt.record.timestamp),
            observed=observed,
            calibrated=calibrated,
        )
        seeds = chain_seeds(prompt)
        chain = prefix_chain(prompt, prev, seeds, shared)
        turn.blocks, turn.chain, turn.seeds, turn.estimates, turn.shared = blocks, chain, seeds, estimates, shared
        _simulate(turn.family)(self, prompt, chain, turn, prev)
        self._count(thread, prompt, turn, prev, fork)
        return turn

    def _count(self, thread: str, prompt: Prompt, turn: TurnCache, prev: TurnCache | None, fork: bool) -> None:
        stats = self.threads.get(thread)
        if stats is None:
            stats = self.threads[thread] = ThreadStats(self.file, thread, model=prompt.model)
        stats.requests += 1
        if self.timelines and len(stats.turns) < MAX_TURN_POINTS:
            stats.turns.append(
                TurnPoint(
                    stats.requests, str(prompt.record.origin), turn.total, turn.read, turn.write,
                    turn.observed.read if turn.observed is not None else None,
                )
            )
        stats.total += turn.total
        stats.predicted_read += turn.read
        if prev is not None and not fork:
            stats.ideal_read += ideal_read(turn, prev)
        if turn.observed is not None:
            stats.observed_requests += 1
            stats.observed_total += turn.observed.total
            stats.observed_read += turn.observed.read

    def summary(self) -> list[ThreadStats]:
        return list(self.threads.values())


def cache_totals(threads: list[ThreadStats]) -> dict[str, Any]:
    """Totals over threads (the JSON summary's ``cache`` object)."""
    total = sum(t.total for t in threads)
    observed_total = sum(t.observed_total for t in threads if t.observed_requests)
    priced = all(t.priced for t in threads)
    return {
        "requests": sum(t.requests for t in threads),
        "prompt_tokens": total,
        "predicted_hit_rate": round(sum(t.predicted_read for t in threads) / total, 4) if total else None,
        "ideal_hit_rate": round(sum(t.ideal_read for t in threads) / total, 4) if total else None,
        "observed_hit_rate": (
            round(sum(t.observed_read for t in threads) / observed_total, 4) if observed_total else None
        ),
        "lost_tokens": sum(t.lost_tokens for t in threads),
        "lost_usd": round(sum(t.lost_usd for t in threads), 6) if priced else None,
        "estimated": True,
    }


def cost_of(tokens: int, turn: TurnCache, rewritten: bool) -> float | None:
    """List-price difference between processing ``tokens`` again and reading them from the cache.

    ``rewritten``: the tokens are written to the cache again (Anthropic with caching configured).
    """
    price = turn.pricing.input_usd_per_mtok
    if price is None:
        return None
    multiplier = (turn.write_multiplier if rewritten else 1.0) - turn.pricing.read_multiplier
    return tokens * price / 1_000_000 * multiplier


def impact(turn: TurnCache, prev: TurnCache | None, index: int | None, whole: bool = False) -> dict[str, Any]:
    """The impact of a finding whose change starts at block ``index`` of this turn.

    Tokens: what the turn would have read in the ideal case (the previous turn's whole prompt, or
    for a single request everything from the block on) but must now process again.
    """
    before = 0 if whole or index is None else turn.tokens_before(index)
    reusable = ideal_read(turn, prev) if prev is not None else turn.total
    if reusable < turn.pricing.min_tokens:
        found = tokens_impact(turn, 0, rewritten=False)
        found["note"] = (
            f"the prompt is below {turn.pricing.model or 'the model'}'s minimum cacheable length "
            f"({turn.pricing.min_tokens:,} tokens): nothing would be cached yet, the break matters once it grows"
        )
        return found
    tokens = max(0, reusable - before)
    return tokens_impact(turn, tokens, rewritten=turn.family == "anthropic" and bool(turn.breakpoints))


def ideal_read(turn: TurnCache, prev: TurnCache) -> int:
    """What an append-only turn after ``prev`` reads: the previous prompt, if it is cacheable at all."""
    reusable = min(prev.total, turn.total)
    return reusable if reusable >= turn.pricing.min_tokens else 0


def tokens_impact(turn: TurnCache, tokens: int, rewritten: bool) -> dict[str, Any]:
    """The impact of ``tokens`` processed again instead of read from the cache (``rewritten``: and
    written to it again), in the shape of a finding's ``impact``."""
    tokens = max(0, tokens)
    cost = cost_of(tokens, turn, rewritten)
    return {
        "tokens": tokens,
        "cost_usd": round(cost, 6) if cost is not None else None,
        "model": turn.pricing.model,
        "estimated": True,
        "calibrated": turn.calibrated,
    }
