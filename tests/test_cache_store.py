"""The cache store of CacheSimulator against a reference model of the original per-entry store.

The store keeps entries written together as runs that share one expiry, one TTL and one place in
the least-recently-used order (commit 9e3a314). That is an optimisation only: every operation
must leave every entry with the values, and the store with the order, that the original store (one
OrderedDict of independent entries, reproduced below as ``RefStore``) gives. The tests here drive
both with the same operation sequences (short ones drawn by hypothesis, longer seeded ones, and
long chains cut into by single writes, all with a small MAX_ENTRIES so that entries are evicted):
conversations that grow, fork, share another's prefix, single breakpoint writes and refreshes,
times that are missing, NaN, infinite or out of order, TTLs that upgrade. They are compared after
every operation: each entry's tokens, expiry, ready time and TTL, the order of ``entries()`` (the order
of eviction) and what ``probe`` answers at several moments.
"""

from __future__ import annotations

import math
import os
import random
from collections import OrderedDict
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prefixlint.cache import simulator
from prefixlint.cache.simulator import READY_DELAY, CacheSimulator

SETTINGS = settings(
    max_examples=150, deadline=None, derandomize=not os.environ.get("HYP_DB"),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# -- the reference: the original per-entry store (simulator.py before 9e3a314) -----------------
@dataclass
class RefEntry:
    tokens: int
    expires: float | None
    ready: float | None
    ttl: int | None


class RefStore:
    """One entry per prefix hash in an OrderedDict, least recently used first.

    - ``probe``: an entry written by a request stamped more than READY_DELAY later than ``now`` is
      absent (an out-of-order log); past its expiry it is expired; before its ready time pending;
      else a hit. Without a time (``now is None``) an existing entry is always a hit.
    - ``put_from``: every key from ``chain[start]`` on, in chain order. A live entry (no time, no
      expiry, or ``now <= expires``) is refreshed: its expiry only moves forward, its TTL is the
      larger of the two, its ready time only moves earlier, its tokens are kept, and it becomes the
      most recently used entry. Any other key (absent or expired) gets a new entry with
      ``now + ttl`` / ``now + READY_DELAY`` (None without a time or TTL) and becomes the most
      recently used; past ``max_entries`` the least recently used entry is dropped.
    - ``refresh``: an existing entry (live or not) with a TTL gets ``max(expires or 0, now + ttl)``
      as its expiry and, with or without one, becomes the most recently used entry.
    """

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self.store: OrderedDict[bytes, RefEntry] = OrderedDict()

    def probe(self, key: bytes, now: float | None) -> tuple[str, RefEntry | None]:
        entry = self.store.get(key)
        if entry is None:
            return "absent", None
        if now is not None and entry.ready is not None and now < entry.ready - READY_DELAY:
            return "absent", None
        if now is not None and entry.expires is not None and now > entry.expires:
            return "expired", entry
        if now is not None and entry.ready is not None and now < entry.ready:
            return "pending", entry
        return "hit", entry

    def put(self, key: bytes, tokens: int, now: float | None, ttl: int | None) -> None:
        self.put_from([key], [tokens], 0, now, ttl)

    def put_from(self, chain: list[bytes], cum: list[int], start: int, now: float | None, ttl: int | None) -> None:
        expires = now + ttl if (now is not None and ttl is not None) else None
        ready = now + READY_DELAY if now is not None else None
        for j in range(start, len(chain)):
            key = chain[j]
            entry = self.store.get(key)
            live = entry is not None and (now is None or entry.expires is None or now <= entry.expires)
            if live:
                if expires is not None and entry.expires is not None and expires > entry.expires:
                    entry.expires = expires
                if ttl is not None:
                    entry.ttl = max(entry.ttl or 0, ttl)
                if ready is not None and entry.ready is not None and ready < entry.ready:
                    entry.ready = ready
                self.store.move_to_end(key)
                continue
            self.store[key] = RefEntry(cum[j], expires, ready, ttl)
            self.store.move_to_end(key)
            if len(self.store) > self.max_entries:
                self.store.popitem(last=False)

    def refresh(self, key: bytes, now: float | None) -> None:
        entry = self.store.get(key)
        if entry is None:
            return
        if now is not None and entry.ttl is not None:
            entry.expires = max(entry.expires or 0.0, now + entry.ttl)
        self.store.move_to_end(key)


# -- comparing the two ---------------------------------------------------------------------------
def _v(x):
    """NaN compares equal to NaN here (times read from a log can be 'nan')."""
    return "nan" if isinstance(x, float) and math.isnan(x) else x


def _values(entry) -> tuple | None:
    if entry is None:
        return None
    return (entry.tokens, _v(entry.expires), _v(entry.ready), entry.ttl)


def _snapshot_ref(ref: RefStore) -> list[tuple]:
    return [(key, *_values(entry)) for key, entry in ref.store.items()]


def _snapshot_sim(sim: CacheSimulator) -> list[tuple]:
    return [(key, *_values(entry)) for key, entry in sim.entries()]


def _probe_times(now: float | None) -> list[float | None]:
    base = 1000.0 if now is None or not math.isfinite(now) else now
    times = [None, math.nan, math.inf, -math.inf, base, base - 1.5, base - 0.5, base + 0.5, base + READY_DELAY]
    return times + [base + 4, base + 6, base + 299, base + 301, base + 3599, base + 3601]


def check_same(sim: CacheSimulator, ref: RefStore, now: float | None, extra_keys=(), where="") -> None:
    expected = _snapshot_ref(ref)
    assert _snapshot_sim(sim) == expected, where  # values and LRU (eviction) order
    assert len(sim.store) == len(expected), where  # every stored entry is reachable from entries()
    for key in [k for k, *_ in expected] + list(extra_keys):
        for q in _probe_times(now):
            got_state, got = sim.probe(key, q)
            want_state, want = ref.probe(key, q)
            assert (got_state, _values(got)) == (want_state, _values(want)), (where, key, q)


@pytest.fixture
def small_store(monkeypatch):
    """A simulator and a reference, both bounded to ``n`` entries."""

    def make(n: int) -> tuple[CacheSimulator, RefStore]:
        monkeypatch.setattr(simulator, "MAX_ENTRIES", n)
        return CacheSimulator("f"), RefStore(n)

    return make


# -- random operation sequences -------------------------------------------------------------------
_conv = st.integers(0, 3)
_ttl = st.sampled_from([300, 3600, 5, None, 0])
# (clock step, step backwards (an out-of-order log), what the request is stamped with)
_when = st.tuples(
    st.sampled_from([0.0, 0.5, 1.0, 2.0, 30.0, 301.0, 3601.0]),
    st.booleans(),
    st.sampled_from(["clock", "clock", "clock", "none", "nan", "inf", "-inf"]),
)
_start = st.integers(0, 6)
_index = st.integers(0, 24)
_op = st.one_of(
    st.tuples(st.just("grow"), _conv, st.integers(0, 3), _start, _when, _ttl),  # the next turn
    st.tuples(st.just("fork"), _conv, _index, _start, _when, _ttl),  # rewound to a turn, then on
    st.tuples(st.just("adopt"), _conv, _conv, _index, st.integers(0, 2), _start, _when, _ttl),  # shared prefix
    st.tuples(st.just("put"), _conv, _index, _when, _ttl),  # one breakpoint (Anthropic)
    st.tuples(st.just("refresh"), _conv, _index, _when),  # a read refreshes an entry
)


class Driver:
    """Applies the same operations to a simulator and a reference, and compares them after each."""

    def __init__(self, sim: CacheSimulator, ref: RefStore) -> None:
        self.sim, self.ref = sim, ref
        self.convs: list[list[bytes]] = [[] for _ in range(4)]
        self.written: list[bytes] = []  # every key ever written (evicted ones are probed too)
        self.clock = 1000.0
        self.count = 0

    def key(self) -> bytes:
        self.count += 1
        return b"k%04d" % self.count

    def stamp(self, when) -> float | None:
        step, backwards, kind = when
        self.clock += -step if backwards else step
        return {"clock": self.clock, "none": None, "nan": math.nan, "inf": math.inf, "-inf": -math.inf}[kind]

    def write_chain(self, chain: list[bytes], start: int, now: float | None, ttl: int | None, salt: int) -> None:
        cum = [10 * (i + 1) + salt for i in range(len(chain))]  # a rewritten entry gets other tokens
        self.sim.put_from(list(chain), cum, start, now, ttl)
        self.ref.put_from(list(chain), cum, start, now, ttl)
        self.written.extend(chain)

    def apply(self, op, salt: int) -> float | None:
        kind, c = op[0], self.convs[op[1]]
        if kind == "grow":
            _, _, n, start, when, ttl = op
            c.extend(self.key() for _ in range(n))
            now = self.stamp(when)
            self.write_chain(c, start, now, ttl, salt)
        elif kind == "fork":
            _, _, cut, start, when, ttl = op
            c[:] = c[: cut % (len(c) + 1)] + [self.key()]
            now = self.stamp(when)
            self.write_chain(c, start, now, ttl, salt)
        elif kind == "adopt":
            _, _, other, cut, n, start, when, ttl = op
            o = self.convs[other]
            c[:] = o[: cut % (len(o) + 1)] + [self.key() for _ in range(n)]
            now = self.stamp(when)
            self.write_chain(c, start, now, ttl, salt)
        elif kind == "put":
            _, _, i, when, ttl = op
            key = c[i % len(c)] if c else self.key()
            now = self.stamp(when)
            self.sim.put(key, 7 + salt, now, ttl)
            self.ref.put(key, 7 + salt, now, ttl)
            self.written.append(key)
        else:  # refresh: a key of the conversation, an evicted one or one never written
            _, _, i, when = op
            pool = c + self.written[-3:] + [b"never"]
            key = pool[i % len(pool)]
            now = self.stamp(when)
            self.sim.refresh(key, now)
            self.ref.refresh(key, now)
        return now


@SETTINGS
@given(max_entries=st.sampled_from([3, 1, 2, 5, 8, 1000, 0]), ops=st.lists(_op, min_size=10, max_size=80))
def test_store_matches_per_entry_reference(max_entries, ops):
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(simulator, "MAX_ENTRIES", max_entries)
        driver = Driver(CacheSimulator("f"), RefStore(max_entries))
        for step, op in enumerate(ops):
            now = driver.apply(op, salt=step)
            check_same(driver.sim, driver.ref, now, set(driver.written[-6:]) | {b"never"}, where=(step, op))


def _random_op(rnd: random.Random) -> tuple:
    """One operation in the shape the strategies above draw (for the longer seeded sequences)."""
    when = (
        rnd.choice([0.0, 0.5, 1.0, 2.0, 30.0, 301.0, 3601.0]),
        rnd.random() < 0.1,
        rnd.choice(["clock"] * 16 + ["none", "nan", "inf", "-inf"]),
    )
    ttl = rnd.choice([300, 300, 300, 3600, 5, None, 0])
    conv, start, index = rnd.randrange(4), rnd.choice([0, 0, 0, 1, 2, 6]), rnd.randrange(25)
    kind = rnd.choices(["grow", "fork", "adopt", "put", "refresh"], [5, 1, 1, 2, 2])[0]
    if kind == "grow":
        return kind, conv, rnd.randint(0, 3), start, when, ttl
    if kind == "fork":
        return kind, conv, index, start, when, ttl
    if kind == "adopt":
        return kind, conv, rnd.randrange(4), index, rnd.randint(0, 2), start, when, ttl
    if kind == "put":
        return kind, conv, index, when, ttl
    return kind, conv, index, when


@pytest.mark.parametrize("seed", range(12))
def test_long_random_sequences(seed):
    rnd = random.Random(seed)
    max_entries = [3, 5, 8, 20, 60, 1000][seed % 6]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(simulator, "MAX_ENTRIES", max_entries)
        driver = Driver(CacheSimulator("f"), RefStore(max_entries))
        for step in range(250):
            op = _random_op(rnd)
            now = driver.apply(op, salt=step)
            check_same(driver.sim, driver.ref, now, set(driver.written[-6:]) | {b"never"}, where=(seed, step, op))


@pytest.mark.parametrize("seed", range(4))
def test_long_chains_broken_up_and_evicted(small_store, seed):
    """Long runs (hundreds of prefixes) rewritten whole, cut into by single writes and refreshes
    (leaving many holes in a run) and evicted entry by entry."""
    rnd = random.Random(seed)
    sim, ref = small_store(rnd.choice([250, 400, 10_000]))
    system = [b"s%d" % i for i in range(80)]
    chains = [system + [b"%s%d" % (name, i) for i in range(220)] for name in (b"c", b"d")]
    now = 0.0
    for step in range(50):
        now += rnd.choice([1.0, 10.0, 100.0, 350.0])
        ttl = rnd.choice([300, 300, 3600])
        chain = rnd.choice(chains)
        op = rnd.random()
        if op < 0.4:
            n, start = rnd.randint(50, 300), rnd.choice([0, 0, 5, 40, 120])
            cum = [i + 1 + step for i in range(n)]
            sim.put_from(chain[:n], cum, start, now, ttl)
            ref.put_from(chain[:n], cum, start, now, ttl)
        elif op < 0.75:
            for _ in range(rnd.randint(20, 200)):
                key = rnd.choice(chain)
                sim.put(key, 5, now, ttl)
                ref.put(key, 5, now, ttl)
        else:
            for _ in range(rnd.randint(20, 200)):
                key = rnd.choice(chain)
                sim.refresh(key, now)
                ref.refresh(key, now)
        assert _snapshot_sim(sim) == _snapshot_ref(ref), step
        assert len(sim.store) == len(ref.store), step
    check_same(sim, ref, now)


# -- examples -------------------------------------------------------------------------------------
def _chain(n: int) -> list[bytes]:
    return [b"p%d" % i for i in range(n)]


def test_conversation_refreshed_turn_after_turn_keeps_one_run(small_store):
    sim, ref = small_store(1000)
    for turn in range(1, 30):
        chain, now = _chain(3 * turn), 100.0 * turn  # every turn within the 5 minutes of the last
        cum = [10 * (i + 1) for i in range(len(chain))]
        sim.put_from(chain, cum, 0, now, 300)
        ref.put_from(chain, cum, 0, now, 300)
        check_same(sim, ref, now, where=turn)
        assert len(sim.runs) == 1, turn  # the previous turn's prefixes refreshed as a whole
    assert [key for key, _ in sim.entries()] == _chain(87)
    assert {e.expires for _, e in sim.entries()} == {2900.0 + 300}
    assert sim.probe(b"p0", 2900.5) == ("hit", sim.store[b"p0"])  # written at t=100, read since
    assert sim.probe(b"p86", 2900.5)[0] == "pending"  # written by the last turn only


def test_first_evicted_is_least_recently_used(small_store):
    sim, ref = small_store(4)
    steps = [
        lambda s: s.put_from([b"a", b"b", b"c"], [1, 2, 3], 0, 0.0, 300),
        lambda s: s.put(b"b", 9, 1.0, 300),  # b written again: now the most recently used
        lambda s: s.refresh(b"a", 2.0),  # a read: after b
        lambda s: s.put(b"d", 4, 3.0, 300),  # 4 entries: nothing evicted yet
        lambda s: s.put(b"e", 5, 4.0, 300),  # c (untouched since t=0) goes first
        lambda s: s.put(b"f", 6, 5.0, 300),  # then b
    ]
    for i, step in enumerate(steps):
        step(sim)
        step(ref)
        check_same(sim, ref, float(i), where=i)
    assert [key for key, _ in sim.entries()] == [b"a", b"d", b"e", b"f"]
    assert sim.probe(b"c", 5.0) == ("absent", None)
    assert sim.probe(b"b", 5.0) == ("absent", None)


def test_expired_run_is_rewritten(small_store):
    sim, ref = small_store(1000)
    chain = _chain(5)
    for s in (sim, ref):
        s.put_from(chain, [10, 20, 30, 40, 50], 0, 0.0, 300)
    assert sim.probe(b"p2", 400.0)[0] == "expired"
    for s in (sim, ref):
        s.put_from(chain + [b"p5"], [11, 21, 31, 41, 51, 61], 0, 400.0, 300)
    check_same(sim, ref, 400.0)
    assert [(k, e.tokens, e.expires, e.ready, e.ttl) for k, e in sim.entries()] == [
        (b"p%d" % i, 10 * i + 11, 700.0, 400.0 + READY_DELAY, 300) for i in range(6)
    ]
    assert sim.probe(b"p0", 400.5)[0] == "pending"  # written anew: not readable before its request ends
    assert sim.probe(b"p0", 401.0)[0] == "hit"
    assert len(sim.runs) == 1


def test_ttl_upgrade_of_one_prefix_splits_it_from_its_run(small_store):
    sim, ref = small_store(1000)
    chain = _chain(4)
    steps = [
        lambda s: s.put_from(chain, [1, 2, 3, 4], 0, 0.0, 300),
        lambda s: s.put(b"p1", 2, 10.0, 3600),  # a 1h breakpoint on a 5m prefix
        lambda s: s.put_from(chain, [1, 2, 3, 4], 0, 20.0, 300),  # 5m again: p1 keeps its hour
        lambda s: s.refresh(b"p2", 400.0),  # expired, yet refreshed by a read (as the original did)
    ]
    for i, step in enumerate(steps):
        step(sim)
        step(ref)
        check_same(sim, ref, 10.0 * i, where=i)
    values = {k: (e.expires, e.ttl) for k, e in sim.entries()}
    assert values[b"p1"] == (3610.0, 3600)
    assert values[b"p0"] == values[b"p3"] == (320.0, 300)
    assert values[b"p2"] == (700.0, 300)
