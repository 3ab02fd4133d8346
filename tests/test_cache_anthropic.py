"""The Anthropic cache model against the worked examples of the provider documentation
(reference/caching-rules.md): the 20-position lookback (write at block 15, breakpoint at 35 misses,
at 34 hits), mixed TTLs, automatic caching that moves forward each turn, the minimum cacheable
length, and TTL expiry from timestamps with refresh on every hit."""

from __future__ import annotations

import pytest

from prefixlint.cache.simulator import READY_DELAY, CacheSimulator, TurnCache
from prefixlint.model import Origin, Record
from prefixlint.providers.anthropic import normalize

MODEL = "claude-sonnet-4-5"  # minimum cacheable prefix 1,024 tokens, 5m and 1h TTLs
T0 = 1_790_000_000.0  # any moment; requests are placed at offsets from it
FIVE_MIN, ONE_HOUR = 300, 3600
EPHEMERAL = {"type": "ephemeral"}
ONE_HOUR_CC = {"type": "ephemeral", "ttl": "1h"}


BLOCK_TOKENS = 128  # a text block of 507 bytes renders as 512 bytes ("text\0" + the text)


def text(i: int, size: int = 507) -> str:
    """A distinct text of ``size`` bytes; the default makes a block of exactly 128 tokens."""
    head = f"Paragraph {i} of the working notes. "
    return (head + "The agent reads the code, runs the tests and writes down what it learned. " * 80)[:size]


def blocks(n: int, marks: dict[int, dict] | None = None, size: int = 507) -> list[dict]:
    """``n`` text blocks; ``marks`` puts a cache_control on some of them (by block index)."""
    marks = marks or {}
    out = []
    for i in range(n):
        block = {"type": "text", "text": text(i, size)}
        if i in marks:
            block["cache_control"] = marks[i]
        out.append(block)
    return out


def body(content: list[dict], **extra) -> dict:
    """One user message whose content blocks are the prompt's blocks 0..n-1 (no tools, no system)."""
    return {"model": MODEL, "max_tokens": 1024, "messages": [{"role": "user", "content": content}], **extra}


class Run:
    """Requests of one conversation through one simulator, in order."""

    def __init__(self) -> None:
        self.sim = CacheSimulator("log.jsonl")
        self.prev: TurnCache | None = None
        self.line = 0

    def send(self, request: dict, at: float | None = None) -> TurnCache:
        self.line += 1
        timestamp = None if at is None else str(T0 + at)
        record = Record(body=request, origin=Origin("log.jsonl", line=self.line), timestamp=timestamp)
        turn = self.sim.observe(normalize(request, record), 1, "T1", self.prev, False)
        self.prev = turn
        return turn


# -- the 20-position lookback ------------------------------------------------------------------


def test_docs_example_breakpoint_at_35_misses_the_write_at_15():
    run = Run()
    first = run.send(body(blocks(16, {15: EPHEMERAL})))
    assert [bp.index for bp in first.breakpoints] == [15]
    assert first.write == first.cum[15] and first.read == 0
    turn = run.send(body(blocks(36, {35: EPHEMERAL})))
    # positions 35..16 are checked, 15 is the 21st: outside the window
    assert turn.read == 0 and turn.read_index == -1
    assert [(bp.index, j) for bp, j in turn.lookback_misses] == [(35, 15)]
    assert turn.write == turn.cum[35]


def test_docs_example_breakpoint_at_34_hits_the_write_at_15():
    run = Run()
    run.send(body(blocks(16, {15: EPHEMERAL})))
    turn = run.send(body(blocks(35, {34: EPHEMERAL})))
    assert turn.read_index == 15 and turn.read == turn.cum[15]
    assert turn.lookback_misses == []
    assert turn.write == turn.cum[34] - turn.cum[15]


def test_lookback_window_counts_the_breakpoint_itself_as_the_first_position():
    run = Run()
    run.send(body(blocks(17, {16: EPHEMERAL})))
    turn = run.send(body(blocks(36, {35: EPHEMERAL})))  # 35..16: the 20th position is 16
    assert turn.read_index == 16 and turn.lookback_misses == []


def test_an_earlier_breakpoint_within_the_window_rescues_a_large_append():
    run = Run()
    run.send(body(blocks(16, {15: EPHEMERAL})))
    # the same 35 new blocks, with a second breakpoint on the end of the previous request
    turn = run.send(body(blocks(51, {15: EPHEMERAL, 50: EPHEMERAL})))
    assert turn.read_index == 15 and turn.read == turn.cum[15]
    assert turn.write == turn.cum[50] - turn.cum[15]
    # the last breakpoint alone finds nothing within 50..31, but the entry was read: nothing is lost
    assert all(j <= turn.read_index for _, j in turn.lookback_misses)


def test_lookback_miss_is_recorded_only_when_no_entry_is_found():
    run = Run()
    run.send(body(blocks(16, {8: EPHEMERAL, 15: EPHEMERAL})))
    turn = run.send(body(blocks(36, {8: EPHEMERAL, 35: EPHEMERAL})))
    # the breakpoint at 8 reads its own entry; the one at 35 finds nothing within 35..16
    assert turn.read_index == 8
    assert [(bp.index, j) for bp, j in turn.lookback_misses] == [(35, 15)]


# -- automatic caching -------------------------------------------------------------------------


def conversation(turns: int) -> list[dict]:
    """user/assistant messages (strings: one block each), ``turns`` user turns, about 1,100 tokens each."""
    out = []
    for i in range(turns):
        out.append({"role": "user", "content": text(2 * i, 4400)})
        if i < turns - 1:
            out.append({"role": "assistant", "content": text(2 * i + 1, 4400)})
    return out


def test_automatic_caching_moves_forward_and_reads_the_previous_prompt():
    run = Run()
    totals = []
    for n in range(1, 5):
        request = {"model": MODEL, "max_tokens": 1024, "cache_control": EPHEMERAL, "messages": conversation(n)}
        turn = run.send(request)
        assert len(turn.breakpoints) == 1
        bp = turn.breakpoints[0]
        assert bp.automatic and bp.index == len(turn.cum) - 1  # the last block, each turn
        if totals:
            assert turn.read == totals[-1]  # the previous turn's whole prompt
            assert turn.read_index == len(turn.cum) - 3
        assert turn.write == turn.total - turn.read
        totals.append(turn.total)


def test_automatic_caching_keeps_an_explicit_breakpoint_on_the_last_block():
    request = body(blocks(8, {7: ONE_HOUR_CC}), cache_control=EPHEMERAL)
    turn = Run().send(request)
    assert [(bp.index, bp.ttl, bp.automatic) for bp in turn.breakpoints] == [(7, "1h", False)]


def test_automatic_caching_adds_its_breakpoint_after_explicit_ones():
    turn = Run().send(body(blocks(20, {10: ONE_HOUR_CC}), cache_control=EPHEMERAL))
    assert [(bp.index, bp.ttl, bp.automatic) for bp in turn.breakpoints] == [(10, "1h", False), (19, "5m", True)]


def test_breakpoints_reused_from_the_previous_turn_are_those_of_the_whole_prompt():
    """Each turn takes the markers of the blocks it shares with the previous turn from that turn
    and looks only at the others: the breakpoints are those found from scratch."""
    turns = [
        blocks(12, {2: ONE_HOUR_CC, 11: EPHEMERAL}),
        blocks(16, {2: ONE_HOUR_CC, 15: EPHEMERAL}),  # appends: the marker moves to the new last block
        blocks(16, {2: ONE_HOUR_CC, 9: EPHEMERAL, 15: EPHEMERAL}),  # a marker on a shared block: it differs
        blocks(20, {9: EPHEMERAL, 19: EPHEMERAL}),  # the 1h marker dropped: block 2 differs
        blocks(20, {9: EPHEMERAL, 19: EPHEMERAL}),  # the same prompt again
        blocks(3),  # shorter, no markers
        blocks(8, {1: EPHEMERAL, 7: EPHEMERAL}),
    ]
    run = Run()
    shared = []
    for content in turns:
        turn = run.send(body(content, cache_control=EPHEMERAL))
        alone = Run().send(body(content, cache_control=EPHEMERAL))
        assert turn.marked == alone.marked
        assert turn.breakpoints == alone.breakpoints
        shared.append(turn.shared)
    assert shared == [0, 11, 9, 2, 20, 3, 1]  # blocks taken from the previous turn


# -- minimum cacheable length ------------------------------------------------------------------


def test_nothing_is_written_below_the_minimum():
    run = Run()
    small = body(blocks(5, {4: EPHEMERAL}))  # 640 tokens < 1,024
    first = run.send(small)
    assert first.pricing.min_tokens == 1024
    assert first.total < 1024
    assert [bp.index for bp in first.below_minimum] == [4]
    assert first.write == 0
    again = run.send(small)
    assert again.read == 0 and again.write == 0


def test_only_the_breakpoints_that_reach_the_minimum_write():
    run = Run()
    request = body(blocks(20, {4: EPHEMERAL, 19: EPHEMERAL}))  # 640 and 2,560 tokens
    first = run.send(request)
    assert [bp.index for bp in first.below_minimum] == [4]
    assert first.write == first.cum[19]
    again = run.send(request)
    assert again.read == again.cum[19] and again.write == 0


def test_the_minimum_is_inclusive():
    exact = Run().send(body(blocks(8, {7: EPHEMERAL})))  # 8 x 128 = 1,024 tokens exactly
    assert exact.cum[7] == 1024
    assert exact.below_minimum == [] and exact.write == 1024
    last = {"type": "text", "text": "x" * 502, "cache_control": EPHEMERAL}  # 127 tokens
    short = Run().send(body(blocks(7) + [last]))
    assert short.cum[7] == 1023 and short.write == 0


# -- TTL from timestamps -----------------------------------------------------------------------


def test_entry_expires_after_five_minutes():
    run = Run()
    request = body(blocks(16, {15: EPHEMERAL}))
    run.send(request, at=0)
    late = run.send(request, at=FIVE_MIN + 1)
    assert late.read == 0
    assert [(j, ttl) for j, _, ttl in late.expired] == [(15, FIVE_MIN)]
    assert late.expired[0][1] == pytest.approx(FIVE_MIN + 1)
    assert late.write == late.cum[15]  # written again


def test_entry_is_readable_up_to_its_ttl():
    run = Run()
    request = body(blocks(16, {15: EPHEMERAL}))
    run.send(request, at=0)
    assert run.send(request, at=FIVE_MIN).read > 0


def test_hit_refreshes_the_ttl():
    run = Run()
    request = body(blocks(16, {15: EPHEMERAL}))
    run.send(request, at=0)
    assert run.send(request, at=240).read > 0  # refreshed: now lives until 540
    assert run.send(request, at=480).read > 0  # 8 minutes after the write, 4 after the hit
    gone = run.send(request, at=480 + FIVE_MIN + 1)
    assert gone.read == 0 and gone.expired


def test_hit_through_the_lookback_refreshes_the_entry_found():
    run = Run()
    run.send(body(blocks(16, {15: EPHEMERAL})), at=0)
    # a rolling breakpoint at 20 reads the entry at 15 through the lookback at t=200
    assert run.send(body(blocks(21, {20: EPHEMERAL})), at=200).read_index == 15
    # a branch at t=450 shares only blocks 0..15: the entry at 15 must still be alive (refreshed at 200)
    branch = blocks(16) + [{"type": "text", "text": "A different question about the same notes."}]
    branch[-1]["cache_control"] = EPHEMERAL
    turn = run.send(body(branch), at=450)
    assert turn.read_index == 15 and turn.expired == []


def test_entry_is_not_readable_before_the_first_response_begins():
    run = Run()
    request = body(blocks(16, {15: EPHEMERAL}))
    run.send(request, at=0)
    parallel = run.send(request, at=READY_DELAY / 2)
    assert parallel.read == 0 and parallel.pending == [15]


def test_no_timestamps_means_no_expiry():
    run = Run()
    request = body(blocks(16, {15: EPHEMERAL}))
    run.send(request)
    run.send(body(blocks(40)))  # something else in between
    assert run.send(request).read > 0


# -- mixed TTLs --------------------------------------------------------------------------------


def test_one_hour_entry_outlives_the_five_minute_entry_after_it():
    run = Run()
    request = body(blocks(30, {9: ONE_HOUR_CC, 29: EPHEMERAL}))
    first = run.send(request, at=0)
    assert [(bp.index, bp.ttl) for bp in first.breakpoints] == [(9, "1h"), (29, "5m")]
    assert first.write == first.cum[29]
    later = run.send(request, at=10 * 60)
    assert later.read_index == 9 and later.read == later.cum[9]  # the 1h entry, found by its own breakpoint
    assert [(j, ttl) for j, _, ttl in later.expired] == [(29, FIVE_MIN)]
    assert later.write == later.cum[29] - later.cum[9]
    gone = run.send(request, at=10 * 60 + ONE_HOUR + 1)
    assert gone.read == 0
    assert sorted((j, ttl) for j, _, ttl in gone.expired) == [(9, ONE_HOUR), (29, FIVE_MIN)]


def test_one_hour_entry_is_read_through_the_lookback_of_a_later_breakpoint():
    run = Run()
    run.send(body(blocks(10, {9: ONE_HOUR_CC})), at=0)
    turn = run.send(body(blocks(25, {24: EPHEMERAL})), at=30 * 60)
    assert turn.read_index == 9 and turn.expired == []


def test_a_five_minute_breakpoint_does_not_shorten_a_one_hour_entry():
    run = Run()
    run.send(body(blocks(10, {9: ONE_HOUR_CC})), at=0)
    assert run.send(body(blocks(10, {9: EPHEMERAL})), at=60).read > 0  # read, then "written" at 5m
    assert run.send(body(blocks(10, {9: ONE_HOUR_CC})), at=60 + 20 * 60).read > 0  # 21 minutes in


def test_a_one_hour_breakpoint_upgrades_a_five_minute_entry():
    run = Run()
    run.send(body(blocks(10, {9: EPHEMERAL})), at=0)
    run.send(body(blocks(10, {9: ONE_HOUR_CC})), at=60)  # read, then written again for an hour
    # read through the lookback of a later breakpoint: refreshed for an hour, not for 5 minutes
    later = blocks(10) + [{"type": "text", "text": "A follow-up question.", "cache_control": EPHEMERAL}]
    assert run.send(body(later), at=60 + 20 * 60).read_index == 9
    other = blocks(10) + [{"type": "text", "text": "Another follow-up question.", "cache_control": EPHEMERAL}]
    assert run.send(body(other), at=60 + 40 * 60).read_index == 9


def test_an_expired_entry_is_reported_once_when_two_windows_cover_it():
    run = Run()
    request = body(blocks(30, {20: EPHEMERAL, 29: EPHEMERAL}))
    run.send(request, at=0)
    late = run.send(request, at=10 * 60)
    assert sorted(j for j, _, _ in late.expired) == [20, 29]
