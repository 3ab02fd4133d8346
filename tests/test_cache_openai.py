"""The OpenAI cache model (``prefixlint.cache.openai``), also used for OpenAI-compatible APIs.

Automatic prefix caching from 1,024 tokens, hits in 128-token increments on older models, entries
kept in memory for minutes (``in_memory``) or for a day (``prompt_cache_retention: "24h"``), and
``prompt_cache_key`` as part of what routes a request to a cache. DeepSeek (same API, routed to its
own table) caches from 64 tokens in 64-token units. Source: reference/caching-rules.md.
"""

from __future__ import annotations

import pytest
from prefixlint import providers
from prefixlint.cache.simulator import READY_DELAY, CacheSimulator, TurnCache
from prefixlint.cache.tables import load_tables
from prefixlint.model import Origin, Record

WORDS = [
    "the", "warehouse", "ships", "tents", "sleeping", "bags", "stoves", "and", "rain", "gear", "to", "customers",
    "across", "Europe",
]


def text(tokens: int) -> str:
    """Prose of about ``tokens`` tokens (4 bytes a token), free of volatile values."""
    out, size = [], 0
    i = 0
    while size < tokens * 4:
        word = WORDS[i % len(WORDS)]
        out.append(word)
        size += len(word) + 1
        i += 1
    return " ".join(out)


SYSTEM = text(1500)  # above the 1,024-token minimum on its own
SHORT = text(600)  # below it


def chat(system: str, *turns: str, **extra) -> dict:
    messages = [{"role": "system", "content": system}]
    for i, content in enumerate(turns):
        messages.append({"role": "user" if i % 2 == 0 else "assistant", "content": content})
    return {"model": "gpt-4.1", "messages": messages, **extra}


class Run:
    """One file's cache store; ``send`` plays a request at a time (seconds) through the model."""

    def __init__(self) -> None:
        self.sim = CacheSimulator("test.jsonl", load_tables())
        self.line = 0

    def send(self, body: dict, at: float | None = None, usage: dict | None = None) -> TurnCache:
        self.line += 1
        record = Record(
            body, Origin("test.jsonl", self.line), timestamp=None if at is None else str(1_000_000 + at), usage=usage
        )
        kind, reason = providers.detect(body, record)
        assert kind is not None, reason
        prompt = providers.normalize(kind, body, record)
        return self.sim.observe(prompt, self.line, f"T{self.line}", None, False)


@pytest.fixture
def run() -> Run:
    return Run()


def test_pricing_of_openai_and_deepseek_models():
    tables = load_tables()
    gpt41 = tables.model("openai", "gpt-4.1")
    assert (gpt41.min_tokens, gpt41.increment_tokens, gpt41.default_ttl) == (1024, 128, "in_memory")
    assert gpt41.read_multiplier == 0.25  # 75% read discount for the GPT-4.1 family
    deepseek = tables.model("openai", "deepseek-chat")  # an OpenAI-format request routed to DeepSeek
    assert (deepseek.provider, deepseek.min_tokens, deepseek.increment_tokens) == ("deepseek", 64, 64)


def test_repeated_prefix_is_read_in_128_token_increments(run):
    first = run.send(chat(SYSTEM, "Where is my parcel?"), at=0)
    assert first.family == "openai"
    assert first.read == 0 and first.write == 0  # OpenAI charges no write, the model records none
    second = run.send(chat(SYSTEM, "Where is my parcel?", "It left the warehouse.", "When will it arrive?"), at=10)
    shared = first.total  # the whole first prompt is a prefix of the second
    assert second.read % 128 == 0
    assert shared - 128 < second.read <= shared
    assert second.read_index == len(first.cum) - 1


def test_newer_models_hit_token_exact(run):
    """Increments apply to older models only: the tables give gpt-5.6 none."""
    assert load_tables().model("openai", "gpt-5.6").increment_tokens is None
    first = run.send({**chat(SYSTEM, "Where is my parcel?"), "model": "gpt-5.6"}, at=0)
    second = run.send({**chat(SYSTEM, "Where is my parcel?", "It left.", "When?"), "model": "gpt-5.6"}, at=10)
    assert second.read == first.total


def test_prompt_below_1024_tokens_is_not_cached(run):
    first = run.send(chat(SHORT, "Where is my parcel?"), at=0)
    assert first.total < 1024
    again = run.send(chat(SHORT, "Where is my parcel?", "It left the warehouse.", SHORT), at=10)
    assert again.total > 1024  # long enough now, but the shared part was never cached
    assert again.read == 0
    third = run.send(chat(SHORT, "Where is my parcel?", "It left the warehouse.", SHORT, "Soon."), at=20)
    assert third.read >= 1024  # the second request's prompt was cached


def test_read_stops_at_the_first_difference(run):
    run.send(chat(SYSTEM, "Where is my parcel?"), at=0)
    other = run.send(chat(SYSTEM, "Cancel my order."), at=10)
    system_tokens = other.cum[0]
    assert other.read_index == 0
    assert system_tokens - 128 < other.read <= system_tokens


def test_model_is_part_of_the_prefix(run):
    run.send(chat(SYSTEM, "Where is my parcel?"), at=0)
    swapped = run.send({**chat(SYSTEM, "Where is my parcel?", "Soon.", "Thanks."), "model": "gpt-4.1-mini"}, at=10)
    assert swapped.read == 0


def test_in_memory_retention_expires_after_idle_minutes(run):
    ttl = load_tables().model("openai", "gpt-4.1").ttl("in_memory")
    assert 300 <= ttl <= 3600  # 5-10 minutes idle, at most an hour
    first = run.send(chat(SYSTEM, "Where is my parcel?"), at=0)
    kept = run.send(chat(SYSTEM, "Where is my parcel?", "It left.", "When?"), at=ttl - 60)
    assert kept.read > 0 and not kept.expired
    # The hit refreshed the first request's entry: alive 2 * ttl - 90 seconds after it was written.
    branch = run.send(chat(SYSTEM, "Where is my parcel?", "Cancel it instead."), at=2 * ttl - 90)
    assert branch.read_index == len(first.cum) - 1 and not branch.expired
    # Idle for longer than the retention: everything is gone.
    gone = run.send(chat(SYSTEM, "Something else entirely."), at=4 * ttl)
    assert gone.read == 0
    index, age, entry_ttl = gone.expired[0]
    assert index == 0 and entry_ttl == ttl and age > ttl


def test_24h_retention_survives_a_long_pause(run):
    body = chat(SYSTEM, "Where is my parcel?", prompt_cache_retention="24h")
    run.send(body, at=0)
    later = run.send(
        chat(SYSTEM, "Where is my parcel?", "It left.", "When?", prompt_cache_retention="24h"), at=5 * 3600
    )
    assert later.read > 0 and not later.expired


def test_24h_retention_ends_after_a_day(run):
    run.send(chat(SYSTEM, "Cancel my order.", prompt_cache_retention="24h"), at=0)
    body = chat(SYSTEM, "Cancel my order.", "Done.", "Thanks.", prompt_cache_retention="24h")
    too_late = run.send(body, at=26 * 3600)
    assert too_late.read == 0 and too_late.expired and too_late.expired[0][2] == 86400


def test_in_memory_pause_of_two_hours_misses(run):
    run.send(chat(SYSTEM, "Where is my parcel?"), at=0)
    assert run.send(chat(SYSTEM, "Where is my parcel?", "It left.", "When?"), at=2 * 3600).read == 0


def test_prompt_cache_key_routes_requests(run):
    run.send(chat(SYSTEM, "Where is my parcel?", prompt_cache_key="user-a"), at=0)
    same_key = run.send(chat(SYSTEM, "Where is my parcel?", "It left.", "When?", prompt_cache_key="user-a"), at=5)
    assert same_key.read > 0
    other_key = run.send(chat(SYSTEM, "Where is my parcel?", "It left.", "When?", prompt_cache_key="user-b"), at=10)
    assert other_key.read == 0  # another key lands on another machine
    no_key = run.send(chat(SYSTEM, "Where is my parcel?", "It left.", "When?"), at=15)
    assert no_key.read == 0


def test_entry_is_pending_until_the_first_response_begins(run):
    run.send(chat(SYSTEM, "Summarise the open claims."), at=0)
    parallel = run.send(chat(SYSTEM, "List the late parcels."), at=READY_DELAY / 4)
    assert parallel.read == 0 and parallel.pending == [0]
    after = run.send(chat(SYSTEM, "Draft a note to the carrier."), at=READY_DELAY * 3)
    assert after.read > 0 and not after.pending


def test_without_timestamps_entries_never_expire_nor_wait(run):
    run.send(chat(SYSTEM, "Where is my parcel?"))
    again = run.send(chat(SYSTEM, "Cancel my order."))
    assert again.time is None and again.read > 0 and not again.pending and not again.expired


def test_deepseek_caches_from_64_tokens_in_64_token_units(run):
    system = text(200)  # below OpenAI's minimum, above DeepSeek's
    body = {**chat(system, "Where is my parcel?"), "model": "deepseek-chat"}
    first = run.send(body, at=0)
    assert first.pricing.provider == "deepseek"
    second = run.send({**chat(system, "Where is my parcel?", "It left.", "When?"), "model": "deepseek-chat"}, at=5)
    assert second.read > 0 and second.read % 64 == 0
    assert first.total - 64 < second.read <= first.total


def test_recorded_usage_calibrates_token_counts(run):
    body = chat(SYSTEM, "Where is my parcel?")
    turn = run.send(body, at=0, usage={"prompt_tokens": 2000, "prompt_tokens_details": {"cached_tokens": 0}})
    assert turn.calibrated and turn.total == pytest.approx(2000, abs=2)
    assert turn.observed is not None and (turn.observed.total, turn.observed.read) == (2000, 0)
