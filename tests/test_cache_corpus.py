"""Reconcile the cache model with reality: the mini-swe-agent / DeepSeek log from ../shared/corpus.

DeepSeek reports what its cache served for every request (``prompt_cache_hit_tokens`` /
``prompt_cache_miss_tokens``). On the first 2,000 lines this test compares, per thread and over
all threads, the hit rate the model predicts from the requests alone with the one recorded, bounds
the error at what was measured (with a small margin), and checks the known reasons they differ:

- DeepSeek counts hits in 64-token units (so does the model, from the cache tables);
- the first request of a trajectory is already partly cached (about 320 tokens: the system prompt
  and the opening of the task template, shared with trajectories run earlier and elsewhere),
  which the model cannot see: it caches whole blocks, and the template's opening is only part of
  the first user message;
- DeepSeek caches the reply too: a step usually reads the previous prompt *and* the previous
  completion, rounded down to 64 tokens, where the model predicts the previous prompt only;
- DeepSeek persists its cache late: a good share of steps read the prefix of an older step.
The last two pull in opposite directions and mostly cancel out over a thread.

It also counts what the TTL rules report on this slice and checks those findings against the
recorded usage. Run with ``pytest -s`` to see the figures.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict

import orjson
import pytest
from prefixlint import engine
from prefixlint.cache.simulator import CacheSimulator, parse_time
from prefixlint.cache.tables import load_tables
from prefixlint.rules import RULES
from test_corpus_deepseek import LOG, _slice

pytestmark = pytest.mark.skipif(not LOG.exists(), reason="../shared/corpus is not present")

LINES = 2000
UNIT = 64  # DeepSeek's cache unit

# Measured on the first 2,000 lines (25 trajectories): overall 0.91 percentage points, mean per
# thread 1.22, worst thread 4.15. The bounds leave a little margin.
MAX_OVERALL_PP = 1.5
MAX_MEAN_THREAD_PP = 2.0
MAX_THREAD_PP = 6.0
# Measured: 26 findings of unexplained-cache-miss in 17 trajectories.
MAX_UNEXPLAINED = 40


@pytest.fixture(scope="module")
def head(tmp_path_factory):
    return _slice(tmp_path_factory, LINES, True)


@pytest.fixture(scope="module")
def records(head):
    """Per log line: session, time, recorded usage."""
    out = []
    with open(head, "rb") as f:
        for line in f:
            r = orjson.loads(line)
            out.append((r["session"], parse_time(r["timestamp"]), r["response"]["usage"]))
    return out


@pytest.fixture(scope="module")
def result(head):
    return engine.run([str(head)], RULES, engine.Options())


@pytest.fixture(scope="module")
def turns(head):
    """What the model predicts for every request, in log order (the engine's own loop, without rules)."""
    sim = CacheSimulator(str(head), load_tables())
    out = []
    for record, prompt, assignment in engine.iter_turns(str(head), engine.Options()):
        thread = assignment.thread
        prev = thread.cache if assignment.prev is not None else None
        turn = sim.observe(prompt, thread.number, thread.id, prev, assignment.fork)
        if not assignment.fork:
            thread.cache = turn
        out.append((record.origin.line, thread.id, assignment.turn, turn))
    return out, sim.summary()


def _pp(a: float, b: float) -> float:
    return 100 * abs(a - b)


def test_predicted_hit_rate_matches_the_recorded_one(result, turns):
    threads = [t for t in result.threads if t.observed_requests]
    assert len(threads) == result.summary.threads == 25
    assert sum(t.observed_requests for t in threads) == LINES
    # The replica of the engine's loop gives the same figures as the engine.
    _, replica = turns
    assert [(t.thread, t.predicted_read, t.total) for t in replica] == [
        (t.thread, t.predicted_read, t.total) for t in result.threads
    ]
    predicted = sum(t.predicted_read for t in threads) / sum(t.total for t in threads)
    observed = sum(t.observed_read for t in threads) / sum(t.observed_total for t in threads)
    per_thread = {t.thread: _pp(t.predicted_rate, t.observed_rate) for t in threads}
    overall, mean = _pp(predicted, observed), statistics.mean(per_thread.values())
    worst = max(per_thread, key=per_thread.get)
    print(
        f"\nDeepSeek slice ({LINES:,} requests, {len(threads)} threads): predicted hit rate {predicted:.2%}, "
        f"observed {observed:.2%}; error overall {overall:.2f} pp, mean per thread {mean:.2f} pp, "
        f"median {statistics.median(per_thread.values()):.2f} pp, worst {worst} {per_thread[worst]:.2f} pp"
    )
    assert overall <= MAX_OVERALL_PP
    assert mean <= MAX_MEAN_THREAD_PP
    assert per_thread[worst] <= MAX_THREAD_PP


def test_reads_come_in_64_token_units(turns):
    out, _ = turns
    assert all(t.observed.read % UNIT == 0 for *_, t in out)
    assert all(t.read % UNIT == 0 for *_, t in out)


def test_why_prediction_and_record_differ(records, turns):
    out, _ = turns
    by_session = defaultdict(list)
    for (line, thread, number, turn), (session, _time, usage) in zip(out, records):
        by_session[session].append((number, turn, usage))
    first_observed, first_predicted, first_count = 0, 0, 0
    kinds: Counter = Counter()
    delta: Counter = Counter()  # predicted - observed read, in recorded tokens, by kind
    for steps in by_session.values():
        assert [n for n, *_ in steps] == list(range(1, len(steps) + 1)), "one thread per trajectory"
        for i, (_n, turn, usage) in enumerate(steps):
            predicted = turn.read * turn.observed.total / turn.total
            if i == 0:
                first_count += 1
                first_observed += turn.observed.read
                first_predicted += turn.read
                delta["first request"] += predicted - turn.observed.read
                continue
            # Which earlier step's cache entry did DeepSeek read? Prompt plus reply, or prompt only.
            hit, kind = turn.observed.read, "other"
            for back in range(i - 1, -1, -1):
                u = steps[back][2]
                if hit == (u["prompt_tokens"] + u["completion_tokens"]) // UNIT * UNIT:
                    kind = "previous prompt + reply" if back == i - 1 else "older step (late persistence)"
                    break
                if hit == u["prompt_tokens"] // UNIT * UNIT:
                    kind = "previous prompt" if back == i - 1 else "older step (late persistence)"
                    break
            kinds[kind] += 1
            delta[kind] += predicted - turn.observed.read
    later = sum(kinds.values())
    print(
        f"\nfirst requests: {first_count}, recorded reads {first_observed / first_count:.0f} tokens on average "
        f"(shared template), predicted {first_predicted / first_count:.0f}"
    )
    for kind, n in kinds.most_common():
        print(f"later steps reading {kind}: {n} ({n / later:.0%}), predicted - recorded: {delta[kind]:+,.0f} tokens")
    print(f"first requests, predicted - recorded: {delta['first request']:+,.0f} tokens")
    # The first request of a trajectory reads the shared template; the model, matching whole blocks
    # only, predicts at most the system message and the odd identical block of it: far less.
    assert first_predicted < first_observed / 4 and first_observed / first_count >= 250
    # DeepSeek caches the reply with the prompt on most steps: the model under-predicts those...
    assert kinds["previous prompt + reply"] / later > 0.45 and delta["previous prompt + reply"] < 0
    # ...and late persistence makes DeepSeek read an older step on many others: over-predicted.
    assert kinds["older step (late persistence)"] / later > 0.2 and delta["older step (late persistence)"] > 0
    assert kinds["other"] / later < 0.1


def test_ttl_rules_on_the_slice(result, records, turns):
    found = Counter(f.code for f in result.findings)
    print(f"\nTTL findings on the slice: {dict(sorted((c, n) for c, n in found.items() if c.startswith('PL7')))}")
    # No pause inside a trajectory outlasts the TTL.
    gaps = defaultdict(float)
    last = {}
    for session, time, _usage in records:
        if session in last:
            gaps[session] = max(gaps[session], time - last[session])
        last[session] = time
    print(f"longest pause inside a trajectory: {max(gaps.values()):.0f} s")
    assert found["PL701"] == 0
    # The trajectories run one step at a time: no real fan-out. The log is grouped by trajectory,
    # not sorted by time (several workers ran in parallel), so a trajectory's first request can be
    # older than lines before it; the model then sees the shared template "written" by a request
    # that comes later in time, which it counts as not readable yet. Every PL702 finding must be
    # such an artefact (none once the model ignores entries written after the request).
    latest = []
    running = float("-inf")
    for _session, time, _usage in records:
        latest.append(running)
        running = max(running, time)
    for f in (f for f in result.findings if f.code == "PL702"):
        line = f.location.line
        assert f.location.turn == 1 and records[line - 1][1] < latest[line - 1], (line, f.message)


def test_unexplained_misses_on_the_slice(result, records):
    misses = [f for f in result.findings if f.code == "PL703"]
    threads = {f.location.thread for f in misses}
    print(
        f"\nunexplained-cache-miss: {len(misses)} findings in {len(threads)} threads, "
        f"{sum(f.impact['tokens'] for f in misses):,} tokens"
    )
    assert 0 < len(misses) <= MAX_UNEXPLAINED
    previous = {}
    prompt_before = []
    for session, _time, usage in records:
        prompt_before.append(previous.get(session))
        previous[session] = usage["prompt_tokens"]
    for f in misses:
        session, _time, usage = records[f.location.line - 1]
        # Checked against the record alone: the step re-sends the previous step's whole prompt
        # (the log is append-only), yet DeepSeek read over 1,024 tokens and a quarter of the prompt less.
        before = prompt_before[f.location.line - 1]
        assert before is not None and f.location.turn > 1
        short = before // UNIT * UNIT - usage["prompt_cache_hit_tokens"]
        assert short > max(1024, 0.25 * usage["prompt_tokens"]) * 0.9, (f.location.line, short)
    # Checked by hand: sqlfluff-1625 got no cache hit at all for its first 14 steps (then normal
    # reads again): one finding, where the read stopped (at the very start).
    outage = [f for f in misses if records[f.location.line - 1][0].endswith("sqlfluff__sqlfluff-1625")]
    assert [(f.location.turn, f.location.pointer) for f in outage] == [(2, "/tools/0")]
    assert all(records[i][2]["prompt_cache_hit_tokens"] == 0 for i in range(1546, 1560))
    # pvlib-1072 read only the shared template (320 tokens) on its second step, 3 s after the first.
    early = [f for f in misses if records[f.location.line - 1][0].endswith("pvlib__pvlib-python-1072")]
    assert (early[0].location.turn, early[0].location.pointer) == (2, "/messages/1")
    assert records[early[0].location.line - 1][2]["prompt_cache_hit_tokens"] == 320
    # Steps whose read merely lags one step behind (most of the slice) stay quiet.
    assert len(misses) < 0.02 * LINES
