"""Unit tests for the TTL rules: gap-exceeds-ttl (PL701), parallel-fanout-before-cache-ready (PL702)
and unexplained-cache-miss (PL703).

The YAML cases prove where each rule fires on whole logs; these tests pin down what the findings
say (gap, TTL, tokens), their impact, the fixes offered per provider, and the guards against
false positives (thresholds, token-estimate drift, replies that prove a turn was sequential).
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from prefixlint.cache.simulator import TurnCache
from prefixlint.cache.tables import load_tables
from prefixlint.cache.usage import Usage
from prefixlint.rules import BY_CODE
from prefixlint.rules.gap_exceeds_ttl import duration

WORDS = [
    "the", "warehouse", "ships", "tents", "sleeping", "bags", "stoves", "and", "rain", "gear", "to", "customers",
    "across", "Europe",
]


def text(tokens: int) -> str:
    out, size, i = [], 0, 0
    while size < tokens * 4:
        out.append(WORDS[i % len(WORDS)])
        size += len(out[-1]) + 1
        i += 1
    return " ".join(out)


SYSTEM = text(1500)
U1 = {"role": "user", "content": "My tent pole snapped on the second night. Can I get a replacement?"}
A1 = {"role": "assistant", "content": "I am sorry to hear that. Could you send me the order number?"}
U2 = {"role": "user", "content": "It is on the invoice, I will send it with a photo."}
A2 = {"role": "assistant", "content": "Thank you, I will open a warranty claim once I have both."}
U3 = {"role": "user", "content": "Here they are."}

STAMP = "2026-11-24T10:{:02d}:{:02d}Z"


def at(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    return STAMP.format(m, s)


def anthropic(*messages, **extra) -> dict:
    body = {
        "model": "claude-sonnet-4-5", "max_tokens": 1024, "cache_control": {"type": "ephemeral"},
        "system": SYSTEM, "messages": list(messages),
    }
    body.update(extra)
    return body


def chat(*messages, model="gpt-4.1", **extra) -> dict:
    return {"model": model, "messages": [{"role": "system", "content": SYSTEM}, *messages], **extra}


def sent(body: dict, seconds: float | None = None, usage: dict | None = None) -> dict:
    record: dict = {"request": body}
    if seconds is not None:
        record["timestamp"] = at(seconds)
    if usage is not None:
        record["response"] = {"usage": usage}
    return record


def only(result, code):
    assert not result.diagnostics, [str(d) for d in result.diagnostics]
    found = [f for f in result.findings if f.code == code]
    others = [(f.code, f.location.line) for f in result.findings if f.code != code]
    assert not others, f"unexpected findings: {others}"
    return found


def ttl_rules(lint, records):
    return lint(records, select=["ttl"])


# -- PL701 gap-exceeds-ttl -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (45, "45 s"), (450, "7 min 30 s"), (720, "12 min"), (3600, "1 h"), (3900, "1 h 5 min"),
        (2 * 86400 + 7200, "2 days 2 h"),
    ],
)
def test_duration(seconds, shown):
    assert duration(seconds) == shown


def test_gap_message_names_gap_ttl_and_tokens(lint):
    result = ttl_rules(lint, [sent(anthropic(U1), 0), sent(anthropic(U1, A1, U2), 12 * 60)])
    (finding,) = only(result, "PL701")
    assert finding.severity == "warning" and finding.category == "ttl"
    assert finding.message.startswith("12 min passed since the previous turn, longer than the 5 min TTL (`5m`)")
    tokens = finding.impact["tokens"]
    assert tokens > 1500 and f"about {tokens:,} tokens" in finding.message
    assert "written to the cache again" in finding.message
    # Anthropic with caching configured: written again at 1.25x instead of read at 0.1x ($3/MTok).
    assert finding.impact["cost_usd"] == pytest.approx(tokens * 3.0 / 1e6 * (1.25 - 0.1), abs=1e-6)
    assert '"ttl": "1h"' in finding.fix and "`max_tokens: 0`" in finding.fix


def test_gap_longer_than_an_hour_suggests_prewarming_only(lint):
    hour = {"type": "ephemeral", "ttl": "1h"}
    records = [
        sent(anthropic(U1, cache_control=hour), 0),
        {"timestamp": "2026-11-24T11:30:00Z", "request": anthropic(U1, A1, U2, cache_control=hour)},
    ]
    (finding,) = only(ttl_rules(lint, records), "PL701")
    assert "1 h 30 min passed" in finding.message and "1 h TTL (`1h`)" in finding.message
    assert finding.fix.startswith("Pre-warm") and '"1h"' not in finding.fix


def test_openai_gap_suggests_24h_retention_unless_already_set(lint):
    (finding,) = only(ttl_rules(lint, [sent(chat(U1), 0), sent(chat(U1, A1, U2), 15 * 60)]), "PL701")
    assert "10 min TTL (`in_memory`)" in finding.message and "processed again at full price" in finding.message
    assert 'prompt_cache_retention: "24h"' in finding.fix
    day = [
        {"timestamp": "2026-11-24T10:00:00Z", "request": chat(U1, prompt_cache_retention="24h")},
        {"timestamp": "2026-11-25T12:00:00Z", "request": chat(U1, A1, U2, prompt_cache_retention="24h")},
    ]
    (finding,) = only(ttl_rules(lint, day), "PL701")
    assert "1 day 2 h passed" in finding.message and "prompt_cache_retention" not in finding.fix


def test_gap_needs_both_timestamps(lint):
    assert only(ttl_rules(lint, [sent(anthropic(U1)), sent(anthropic(U1, A1, U2), 12 * 60)]), "PL701") == []
    assert only(ttl_rules(lint, [sent(anthropic(U1), 0), sent(anthropic(U1, A1, U2))]), "PL701") == []


def _pair(expired, gap, read=0, ttl_prev_time=0.0):
    pricing = load_tables().model("anthropic", "claude-sonnet-4-5")
    cum = [1000, 2000, 3000, 3100]
    turn = TurnCache("anthropic", pricing, cum, ttl_prev_time + gap, read=read, expired=expired)
    prev = TurnCache("anthropic", pricing, cum[:2], ttl_prev_time)
    pointers = ("/system", "/messages/0/content", "/messages/1/content", "/messages/2/content")
    blocks = [SimpleNamespace(pointer=p) for p in pointers]
    return SimpleNamespace(cache=turn, prev_cache=prev, new=SimpleNamespace(blocks=blocks, provider="anthropic"))


def test_entry_that_expired_before_the_previous_turn_is_not_this_gaps_doing():
    check = BY_CODE["PL701"].check
    # The previous turn came 4 minutes earlier but did not use the entry, which lapsed long before.
    assert list(check(_pair([(1, 900.0, 300)], gap=240))) == []
    # The same entry after a 6-minute gap is reported, from its last block.
    (v,) = check(_pair([(1, 900.0, 300)], gap=360))
    assert v.pointer == "/messages/0/content" and v.impact["tokens"] == 2000
    # The longest lapsed entry counts, minus what the cache still served.
    (v,) = check(_pair([(2, 400.0, 300), (1, 400.0, 300)], gap=400, read=1000))
    assert v.pointer == "/messages/1/content" and v.impact["tokens"] == 2000
    assert "the cache still served 1,000 tokens" in v.message
    # Nothing lost when a live entry reaches as far.
    assert list(check(_pair([(1, 400.0, 300)], gap=400, read=2000))) == []


# -- PL702 parallel-fanout-before-cache-ready ------------------------------------------------------


def test_fanout_reports_each_copy_but_the_first(lint):
    copies = [{"timestamp": f"2026-11-24T10:00:00.{i:03d}Z", "request": anthropic(U1)} for i in range(0, 250, 50)]
    found = only(ttl_rules(lint, copies), "PL702")
    assert [(f.location.line, f.location.thread, f.location.turn) for f in found] == [
        (2, "T2", 1), (3, "T3", 1), (4, "T4", 1), (5, "T5", 1),
    ]
    assert all(f.location.pointer == "/messages/0/content" for f in found)
    assert all(f.impact["tokens"] > 1500 for f in found)
    assert "processes and writes it again" in found[0].message and "`max_tokens: 0`" in found[0].fix
    result = ttl_rules(lint, copies)
    thread_losses = {t.thread: t.lost_tokens for t in result.threads}
    assert thread_losses["T1"] == 0 and all(thread_losses[f"T{i}"] > 1500 for i in range(2, 6))


def test_second_wave_after_the_first_response_reads_the_cache(lint):
    first = [{"timestamp": "2026-11-24T10:00:00.000Z", "request": anthropic(U1)}]
    later = [{"timestamp": f"2026-11-24T10:00:05.{i:03d}Z", "request": anthropic(U1)} for i in range(0, 150, 50)]
    assert only(ttl_rules(lint, first + later), "PL702") == []


def test_openai_fanout_wording(lint):
    records = [
        {"timestamp": "2026-11-24T10:00:00.000Z", "request": chat(U1)},
        {"timestamp": "2026-11-24T10:00:00.100Z", "request": chat({"role": "user", "content": "Cancel my order."})},
    ]
    (finding,) = only(ttl_rules(lint, records), "PL702")
    assert finding.location.pointer == "/messages/0"
    assert "processes it again at full price" in finding.message and "max_tokens" not in finding.fix


def test_turn_that_carries_the_reply_is_sequential(lint):
    """Response-time stamps can put the next turn within a second of the previous one."""
    records = [
        {"timestamp": "2026-11-24T10:00:00.000Z", "request": chat(U1)},
        {"timestamp": "2026-11-24T10:00:00.400Z", "request": chat(U1, A1, U2)},
    ]
    assert only(ttl_rules(lint, records), "PL702") == []


# -- PL703 unexplained-cache-miss ------------------------------------------------------------------


def _context(read, total_model, observed_total, observed_read, provider="anthropic", model="claude-sonnet-4-5"):
    pricing = load_tables().model(provider, model)
    cum = [total_model // 4, total_model // 2, 3 * total_model // 4, total_model]
    index = max(i for i, c in enumerate(cum) if c <= read) if read else -1
    turn = TurnCache(
        "anthropic" if provider == "anthropic" else "openai", pricing, cum, 0.0, read=read, read_index=index,
        observed=Usage(observed_total, observed_read, 0), calibrated=True,
    )
    blocks = [SimpleNamespace(pointer=f"/messages/{i}") for i in range(4)]
    return SimpleNamespace(cache=turn, prompt=SimpleNamespace(blocks=blocks))


def test_threshold_is_1024_tokens_and_a_quarter_of_the_prompt():
    check = BY_CODE["PL703"].check
    # A small prompt: the 1,024-token floor decides.
    assert list(check(_context(3000, 4000, 4000, 3000 - 1024))) == []
    (v,) = check(_context(3000, 4000, 4000, 3000 - 1025))
    assert v.impact["tokens"] == 1025
    # A large prompt: a quarter of it decides.
    assert list(check(_context(40000, 40000, 40000, 30000))) == []
    (v,) = check(_context(40000, 40000, 40000, 29000))
    assert v.impact["tokens"] == 11000 and v.pointer == "/messages/2"
    assert "read only 29,000 tokens from the cache (its read stops in /messages/2)" in v.message
    assert "expects about 40,000 (the prefix up to /messages/3" in v.message


def test_estimate_drift_is_not_a_miss():
    """The model's token estimate of a prompt can drift from the recorded size: compare in recorded units."""
    check = BY_CODE["PL703"].check
    # In model units 8,000 of 8,200 tokens are predicted read; the provider counts the prompt as 6,000
    # tokens and read 5,800 of them: the model is right.
    assert list(check(_context(8000, 8200, 6000, 5800))) == []


def test_read_above_the_prediction_is_never_reported():
    check = BY_CODE["PL703"].check
    assert list(check(_context(0, 4000, 4000, 3000))) == []
    assert list(check(_context(2000, 4000, 4000, 4000))) == []


@pytest.mark.parametrize(
    ("kind", "usage_for"),
    [
        (
            "anthropic",
            lambda total, read: {
                "input_tokens": 10, "cache_read_input_tokens": read, "cache_creation_input_tokens": total - 10 - read,
            },
        ),
        ("chat", lambda total, read: {"prompt_tokens": total, "prompt_tokens_details": {"cached_tokens": read}}),
        ("responses", lambda total, read: {"input_tokens": total, "input_tokens_details": {"cached_tokens": read}}),
        ("deepseek", lambda total, read: {"prompt_cache_hit_tokens": read, "prompt_cache_miss_tokens": total - read}),
    ],
)
def test_usage_fields_of_each_provider(lint, kind, usage_for):
    if kind == "anthropic":
        bodies = [anthropic(U1), anthropic(U1, A1, U2)]
    elif kind == "responses":
        bodies = [
            {"model": "gpt-4.1", "instructions": SYSTEM, "input": [U1]},
            {"model": "gpt-4.1", "instructions": SYSTEM, "input": [U1, A1, U2]},
        ]
    else:
        model = "deepseek-chat" if kind == "deepseek" else "gpt-4.1"
        bodies = [chat(U1, model=model), chat(U1, A1, U2, model=model)]
    records = [sent(bodies[0], 0, usage_for(1600, 0)), sent(bodies[1], 20, usage_for(1650, 0))]
    (finding,) = only(ttl_rules(lint, records), "PL703")
    assert finding.severity == "info" and finding.location.line == 2
    assert "read nothing from the cache" in finding.message
    assert finding.impact["tokens"] > 1024 and finding.impact["calibrated"]
    # The same log with the reads the model expects is quiet.
    fine = [sent(bodies[0], 0, usage_for(1600, 0)), sent(bodies[1], 20, usage_for(1650, 1536))]
    assert only(ttl_rules(lint, fine), "PL703") == []


def test_misses_that_stop_at_the_same_place_are_reported_once_per_thread(lint):
    history, records = [U1], []
    for turn in range(5):
        body = chat(*history, model="deepseek-chat")
        total = 1600 + 100 * turn
        records.append(sent(body, 10 * turn, {"prompt_cache_hit_tokens": 0, "prompt_cache_miss_tokens": total}))
        history += [
            {"role": "assistant", "content": f"Step {turn} done: {text(20)}"},
            {"role": "user", "content": "Go on."},
        ]
    (finding,) = only(ttl_rules(lint, records), "PL703")
    assert (finding.location.line, finding.location.pointer) == (2, "/messages/0")
    assert "DeepSeek's best-effort cache" in finding.message


def test_no_usage_no_finding(lint):
    assert only(ttl_rules(lint, [sent(chat(U1), 0), sent(chat(U1, A1, U2), 20)]), "PL703") == []


def test_pl702_stays_quiet_when_little_is_at_stake(tmp_path):
    """Parallel workers that share only a short system message: not worth a warning."""
    from conftest import lint_records

    def request(task, second):
        body = {
            "model": "deepseek-chat",  # caches from 64 tokens: the short system message is a cached prefix
            "messages": [{"role": "system", "content": "You are a helpful assistant. " * 30}, {"role": "user", "content": task * 400}],
        }
        return {"timestamp": f"2026-11-24T10:00:0{second}Z", "request": body}

    result = lint_records(tmp_path, [request("Fix bug one. ", 0), request("Fix bug two. ", 0)])
    assert [f.code for f in result.findings if f.code == "PL702"] == []
