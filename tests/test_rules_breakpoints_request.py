"""Unit tests for the request-scope breakpoint rules (PL601, PL602, PL603, PL607, PL608).

The YAML cases prove where each rule fires; these tests pin down what the findings say (counts,
token estimates against the model's minimum, calibrated or estimated), the impact each rule sets
itself, the numbers taken from the data tables, and the guards against false positives.
"""

from __future__ import annotations

import pytest

from prefixlint.model import Origin, Record
from prefixlint.providers import anthropic as provider
from prefixlint.rules.too_many_breakpoints import markers

EPHEMERAL = {"type": "ephemeral"}
ONE_HOUR = {"type": "ephemeral", "ttl": "1h"}
# Plain prose without anything that reads as a date or an id: 82 bytes, about 20 tokens per copy.
SENTENCE = "Oiled wood is cleaned with a dry cloth and oiled again when it looks dry and pale. "


def prose(tokens: int) -> str:
    """About ``tokens`` estimated tokens of plain text."""
    return SENTENCE * max(1, tokens // 20)


def text(value: str, cc: dict | None = None) -> dict:
    block = {"type": "text", "text": value}
    if cc is not None:
        block["cache_control"] = cc
    return block


def user(value: str, cc: dict | None = None) -> dict:
    return {"role": "user", "content": [text(value, cc)]}


def assistant(value: str) -> dict:
    return {"role": "assistant", "content": value}


def claude(system, messages, model="claude-sonnet-4-5", **extra) -> dict:
    body = {"model": model, "max_tokens": 1024, "system": system, "messages": list(messages)}
    body.update(extra)
    return body


def conversation(system, turns: int, model="claude-sonnet-4-5", **extra) -> list[dict]:
    """``turns`` requests of one append-only conversation."""
    out, messages = [], [user("How do I care for an oiled oak table?")]
    for i in range(turns):
        out.append(claude(system, messages, model, **extra))
        messages = messages + [assistant(f"Answer number {'one two three four five six'.split()[i]}."),
                               user("And what about walnut?")]
    return out


def found(result, code):
    return [f for f in result.findings if f.code == code]


# -- markers (shared by PL601, PL602, PL607) ------------------------------------------------------


def test_markers_in_prefix_order_with_server_tools_and_automatic_caching():
    body = claude(
        [text("Static instructions.", EPHEMERAL)],
        [user("Hello", ONE_HOUR)],
        tools=[
            {"name": "find_order", "description": "Find an order.", "input_schema": {"type": "object"}},
            {"type": "web_search_20250305", "name": "web_search", "cache_control": EPHEMERAL},
        ],
        cache_control={"type": "ephemeral", "ttl": "1h"},
    )
    prompt = provider.normalize(body, Record(body, Origin("log.jsonl", 1)))
    got = [(m.pointer, m.ttl, m.automatic) for m in markers(prompt)]
    assert got == [
        ("/tools/1", "5m", False),  # a server tool is no prefix block, but its marker counts
        ("/system/0", "5m", False),
        ("/messages/0/content/0", "1h", False),
        ("/cache_control", "1h", True),
    ]


def test_markers_take_the_marked_blocks_the_cache_model_found():
    """The engine hands the cache model's marked blocks over (found mostly from the previous
    turn): markers() reads them instead of scanning the blocks, with the same result."""
    from prefixlint.cache.simulator import CacheSimulator
    from prefixlint.cache.tables import load_tables

    sim = CacheSimulator("log.jsonl", load_tables())
    history = [user("Hello", EPHEMERAL)]
    prev = None
    for turn in range(3):
        body = claude([text("Static instructions.", EPHEMERAL)], list(history))
        prompt = provider.normalize(body, Record(body, Origin("log.jsonl", turn + 1)))
        scanned = [(m.pointer, m.ttl) for m in markers(provider.normalize(body, Record(body, Origin("x", 1))))]
        prev = sim.observe(prompt, 1, "t", prev, False)
        prompt.derived["marked blocks"] = prev.marked
        assert [(m.pointer, m.ttl) for m in markers(prompt)] == scanned
        history = [*history, {"role": "assistant", "content": "Hi"}, user(f"More {turn}", ONE_HOUR)]
    assert len(scanned) == 4  # (the system prompt and three user messages: two kept from the turns before)


def test_markers_ignore_unknown_ttl_values_and_non_objects():
    body = claude(
        [text("Static instructions.", {"type": "ephemeral", "ttl": "10m"})],
        [{"role": "user", "content": [{"type": "text", "text": "Hi", "cache_control": None}]}],
    )
    prompt = provider.normalize(body, Record(body, Origin("log.jsonl", 1)))
    assert [(m.pointer, m.ttl) for m in markers(prompt)] == [("/system/0", None)]


# -- PL601 too-many-breakpoints --------------------------------------------------------------------


def test_pl601_counts_automatic_caching_as_a_slot(lint):
    system = [text(prose(1200), EPHEMERAL), text("The customer is signed in.", EPHEMERAL)]
    three = claude(system, [user("Hello", EPHEMERAL)], cache_control=EPHEMERAL)
    assert found(lint([three], select=["PL601"]), "PL601") == []
    four = claude(system, [user("Hello", EPHEMERAL), assistant("Hi."), user("Help", EPHEMERAL)], cache_control=EPHEMERAL)
    (f,) = found(lint([four], select=["PL601"]), "PL601")
    assert f.location.pointer == "/cache_control"
    assert "5 cache_control breakpoints in one request (4 explicit + automatic caching)" in f.message
    assert "A maximum of 4 blocks with cache_control may be provided" in f.message
    assert f.impact["tokens"] == 0 and "HTTP 400" in f.impact["note"]


def test_pl601_counts_server_tool_markers(lint):
    body = claude(
        [text(prose(1200), EPHEMERAL)],
        [user("Hello", EPHEMERAL), assistant("Hi."), user("Help", EPHEMERAL)],
        tools=[
            {"name": "find_order", "description": "Find an order.", "input_schema": {"type": "object"},
             "cache_control": EPHEMERAL},
            {"type": "web_search_20250305", "name": "web_search", "cache_control": EPHEMERAL},
        ],
    )
    (f,) = found(lint([body], select=["PL601"]), "PL601")
    assert f.location.pointer == "/messages/2/content/0"  # the 5th: tools/0, tools/1, system/0, messages/0
    assert "(5 explicit" not in f.message and "5 cache_control breakpoints" in f.message


def test_pl601_takes_the_maximum_from_the_data_tables(lint):
    body = claude([text(prose(1200), EPHEMERAL)], [user("Hello", EPHEMERAL), assistant("Hi."), user("Help", EPHEMERAL)])
    assert found(lint([body], select=["PL601"]), "PL601") == []
    tables = {"providers": {"anthropic": {"max_breakpoints": 2}}}
    (f,) = found(lint([body], select=["PL601"], tables=tables), "PL601")
    assert f.location.pointer == "/messages/2/content/0"
    assert "over the maximum of 2" in f.message


def test_pl601_is_anthropic_only(lint):
    body = {"model": "gpt-4.1", "messages": [{"role": "system", "content": prose(1200)},
                                               {"role": "user", "content": "Hello"}]}
    assert found(lint([body], select=["PL601"]), "PL601") == []


# -- PL602 longer-ttl-after-shorter ----------------------------------------------------------------


def test_pl602_bare_ephemeral_counts_as_five_minutes(lint):
    body = claude([text(prose(1200), EPHEMERAL)], [user(prose(300), ONE_HOUR), assistant("Hi."), user("x", ONE_HOUR)])
    (f,) = found(lint([body], select=["PL602"]), "PL602")
    assert f.location.pointer == "/messages/0/content/0"
    assert "follows the 5m one at /system/0 (a bare `ephemeral` counts as 5m)" in f.message
    assert "HTTP 400; 1 more 1h breakpoint(s) after it" in f.message and f.impact["tokens"] == 0


def test_pl602_explicit_five_minutes_is_not_called_bare(lint):
    body = claude([text(prose(1200), {"type": "ephemeral", "ttl": "5m"})], [user(prose(300), ONE_HOUR)])
    (f,) = found(lint([body], select=["PL602"]), "PL602")
    assert "follows the 5m one at /system/0: 1h entries must come before 5m ones" in f.message


@pytest.mark.parametrize(
    ("system_cc", "message_cc", "top"),
    [
        (ONE_HOUR, EPHEMERAL, None),  # longer first: fine
        (ONE_HOUR, ONE_HOUR, None),
        (EPHEMERAL, EPHEMERAL, None),
        (ONE_HOUR, None, ONE_HOUR),  # automatic caching with the same TTL
        ({"type": "ephemeral", "ttl": "10m"}, ONE_HOUR, None),  # an undocumented TTL is left to the API
    ],
)
def test_pl602_valid_orders(lint, system_cc, message_cc, top):
    extra = {"cache_control": top} if top else {}
    body = claude([text(prose(1200), system_cc)], [user("Hello", message_cc)], **extra)
    assert found(lint([body], select=["PL602"]), "PL602") == []


def test_pl602_automatic_caching_against_the_last_block_marker(lint):
    body = claude([text(prose(1200), ONE_HOUR)], [user("Hello", ONE_HOUR)], cache_control=EPHEMERAL)
    (f,) = found(lint([body], select=["PL602"]), "PL602")
    assert f.location.pointer == "/cache_control"
    assert "TTL 5m" in f.message and "TTL 1h" in f.message and "/messages/0/content/0" in f.message


# -- PL603 breakpoint-below-minimum ----------------------------------------------------------------


def test_pl603_minimum_depends_on_the_model(lint):
    # a 1,200-token system prompt with the only breakpoint, and a long first message
    messages = [user(prose(3500))]
    sonnet = claude([text(prose(1200), EPHEMERAL)], messages)
    assert found(lint([sonnet], select=["PL603"]), "PL603") == []
    opus = claude([text(prose(1200), EPHEMERAL)], messages, model="claude-opus-4-5")
    (f,) = found(lint([opus], select=["PL603"]), "PL603")
    assert f.location.pointer == "/system/0" and f.severity == "warning"
    assert "about 1,2" in f.message and "below the 4,096-token minimum for claude-opus-4-5" in f.message
    assert "(estimated)" in f.message and "none of the prompt's 4," in f.message
    assert f.impact["tokens"] > 4096 and f.impact["cost_usd"] > 0 and f.impact["calibrated"] is False


def test_pl603_says_when_the_count_is_calibrated(lint):
    body = claude([text(prose(1200), EPHEMERAL)], [user(prose(3500))], model="claude-opus-4-5")
    record = {"request": {"body": body}, "response": {"usage": {"input_tokens": 4800, "cache_creation_input_tokens": 0,
                                                                 "cache_read_input_tokens": 0}}}
    (f,) = found(lint([record], select=["PL603"]), "PL603")
    assert "(calibrated on recorded usage)" in f.message and f.impact["calibrated"] is True


def test_pl603_trusts_recorded_cache_activity_over_the_estimate(lint):
    body = claude([text(prose(1200), EPHEMERAL)], [user(prose(3500))], model="claude-opus-4-5")
    record = {"request": {"body": body}, "response": {"usage": {"input_tokens": 3600, "cache_creation_input_tokens": 0,
                                                                 "cache_read_input_tokens": 1200}}}
    assert found(lint([record], select=["PL603"]), "PL603") == []


def test_pl603_short_breakpoint_beside_a_cached_one_is_info(lint):
    body = claude([text(prose(200), EPHEMERAL), text(prose(1200), EPHEMERAL)], [user("Hello")])
    (f,) = found(lint([body], select=["PL603"]), "PL603")
    assert f.location.pointer == "/system/0" and f.severity == "info"
    assert "only the later breakpoint at /system/1 is cached" in f.message and "one of the 4 slots" in f.message
    assert f.impact["tokens"] == 0


def test_pl603_reported_once_per_conversation_then_again_when_nothing_is_cached(lint):
    # Opus 4.5: the 1,200-token tool-level breakpoint sits before a rolling one while the conversation is
    # long enough (info, once), then the harness drops the rolling marker (warning, once).
    system = [text(prose(1200), EPHEMERAL)]
    history = [user(prose(4000)), assistant("Read it."), user("Summarise", EPHEMERAL)]
    first = claude(system, history, model="claude-opus-4-5")
    second = claude(system, history + [assistant("Done."), user("Thanks", EPHEMERAL)], model="claude-opus-4-5")
    third = claude(system, history[:-1] + [user("Summarise"), assistant("Done."), user("Thanks"),
                                           assistant("Welcome."), user("Bye")], model="claude-opus-4-5")
    result = lint([first, second, third], select=["PL603"])
    got = [(f.location.line, f.location.pointer, f.severity) for f in found(result, "PL603")]
    assert got == [(1, "/system/0", "info"), (3, "/system/0", "warning")]


def test_pl603_leaves_prompts_below_the_minimum_alone(lint):
    # automatic caching on a short conversation, and a short one-off side call with a marker
    requests = conversation([text("Answer in two sentences.", EPHEMERAL)], 3, model="claude-haiku-4-5",
                            cache_control=EPHEMERAL)
    assert found(lint(requests, select=["PL603"]), "PL603") == []


# -- PL607 caching-not-configured ------------------------------------------------------------------


def test_pl607_first_turn_needs_twice_the_minimum(lint):
    assert found(lint([claude(prose(1900), [user("Hello")])], select=["PL607"]), "PL607") == []
    (f,) = found(lint([claude(prose(2200), [user("Hello")])], select=["PL607"]), "PL607")
    assert f.location.pointer == "/cache_control" and f.location.turn == 1
    assert "1,024-token minimum for claude-sonnet-4-5" in f.message
    assert f.impact["tokens"] >= 2200 and f.impact["cost_usd"] > 0


def test_pl607_counts_what_the_turn_repeats_and_reports_once(lint):
    result = lint(conversation(prose(1100), 4), select=["PL607"])
    (f,) = found(result, "PL607")
    assert (f.location.line, f.location.turn) == (2, 2)
    # everything before the assistant reply: system prompt and first question
    assert 1100 <= f.impact["tokens"] < 1200
    assert f"about {f.impact['tokens']:,} tokens (estimated) already sent on the previous turn" in f.message
    # reading them instead: 0.9x of $3 per million tokens
    assert f.impact["cost_usd"] == pytest.approx(f.impact["tokens"] * 3.0 / 1e6 * 0.9, abs=1e-6)


def test_pl607_waits_until_the_repeated_part_reaches_the_minimum(lint):
    # system prompt of 700 tokens: turn 2 repeats ~720 (< 1,024), turn 3 repeats the long answer too
    requests = [
        claude(prose(700), [user("Hello")]),
        claude(prose(700), [user("Hello"), assistant(prose(500)), user("More")]),
        claude(prose(700), [user("Hello"), assistant(prose(500)), user("More"), assistant("Ok."), user("Thanks")]),
    ]
    (f,) = found(lint(requests, select=["PL607"]), "PL607")
    assert f.location.turn == 3


@pytest.mark.parametrize(
    "extra",
    [
        {"cache_control": EPHEMERAL},
        {"tools": [{"type": "web_search_20250305", "name": "web_search", "cache_control": EPHEMERAL}]},
    ],
)
def test_pl607_any_marker_counts_as_configured(lint, extra):
    assert found(lint(conversation(prose(3000), 2, **extra), select=["PL607"]), "PL607") == []


def test_pl607_bedrock_fix_uses_explicit_breakpoints(lint):
    body = claude(prose(3000), [user("Hello")], model="us.anthropic.claude-sonnet-4-5-20250929-v1:0",
                  anthropic_version="bedrock-2023-05-31")
    (f,) = found(lint([body], select=["PL607"]), "PL607")
    assert "Bedrock" in f.fix and "top-level automatic caching" in f.fix


def test_pl607_not_for_endpoints_that_cache_by_themselves(lint):
    requests = conversation(prose(3000), 2, model="deepseek-chat")
    assert found(lint(requests, select=["PL607"]), "PL607") == []


# -- PL608 prompt-below-cache-minimum --------------------------------------------------------------


def chat(system: str, turns: int, model="gpt-4.1", usage=None) -> list:
    out, messages = [], [{"role": "system", "content": system}, {"role": "user", "content": "First claim."}]
    for _ in range(turns):
        out.append({"model": model, "messages": list(messages)} if usage is None else
                   {"request": {"body": {"model": model, "messages": list(messages)}}, "response": {"usage": usage}})
        messages += [{"role": "assistant", "content": "Approved."}, {"role": "user", "content": "Next claim."}]
    return out


def test_pl608_reports_once_from_turn_two(lint):
    (f,) = found(lint(chat(prose(700), 4), select=["PL608"]), "PL608")
    assert (f.location.line, f.location.turn, f.location.pointer, f.severity) == (2, 2, None, "info")
    assert "below the 1,024-token minimum for gpt-4.1" in f.message and "OpenAI" in f.message
    assert f.impact["tokens"] == 0


@pytest.mark.parametrize(
    ("tokens", "turns"),
    [
        (700, 1),  # a one-off call
        (300, 3),  # under half the minimum: small by nature
        (1100, 3),  # cached
    ],
)
def test_pl608_quiet_cases(lint, tokens, turns):
    assert found(lint(chat(prose(tokens), turns), select=["PL608"]), "PL608") == []


def test_pl608_trusts_recorded_cached_tokens(lint):
    usage = {"prompt_tokens": 720, "prompt_tokens_details": {"cached_tokens": 640}}
    assert found(lint(chat(prose(700), 3, usage=usage), select=["PL608"]), "PL608") == []


def test_pl608_not_for_claude_behind_an_openai_format_gateway(lint):
    assert found(lint(chat(prose(700), 3, model="claude-sonnet-4-5"), select=["PL608"]), "PL608") == []


def test_pl608_uses_the_minimum_of_the_routed_provider(lint):
    # Gemini's OpenAI-compatible endpoint: 2,048 for gemini-2.5-flash in the tables, so 1,500 tokens is below
    (f,) = found(lint(chat(prose(1500), 2, model="gemini-2.5-flash"), select=["PL608"]), "PL608")
    assert "below the 2,048-token minimum for gemini-2.5-flash: Gemini caches" in f.message


# -- estimates too close to the minimum to call ----------------------------------------------------


def test_close_to_the_minimum_is_not_called_short(lint):
    # Opus 4.5 (4,096): a prefix estimated at about 4,050 tokens may well be cached; about 3,630 is not
    for tokens, expected in ((3900, []), (3500, ["/system/0"])):
        body = claude([text(prose(tokens), EPHEMERAL)], [user(prose(2000))], model="claude-opus-4-5")
        got = [f.location.pointer for f in found(lint([body], select=["PL603"]), "PL603")]
        assert got == expected, tokens
    # OpenAI (1,024): a turn-2 prompt of about 998 tokens may well be cached; about 957 is not
    assert found(lint(chat(prose(950), 2), select=["PL608"]), "PL608") == []
    assert len(found(lint(chat(prose(900), 2), select=["PL608"]), "PL608")) == 1
