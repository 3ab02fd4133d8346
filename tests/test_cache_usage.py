"""Recorded usage, whatever the provider calls its fields."""

from __future__ import annotations

import pytest

from prefixlint.cache.usage import Usage, parse_usage


@pytest.mark.parametrize(
    ("usage", "expected"),
    [
        ({"input_tokens": 10, "cache_creation_input_tokens": 200, "cache_read_input_tokens": 3000}, Usage(3210, 3000, 200)),
        ({"prompt_tokens": 2000, "prompt_tokens_details": {"cached_tokens": 1536}}, Usage(2000, 1536, 0)),
        ({"input_tokens": 2000, "input_tokens_details": {"cached_tokens": 1024}}, Usage(2000, 1024, 0)),
        ({"prompt_cache_hit_tokens": 320, "prompt_cache_miss_tokens": 1716, "prompt_tokens": 2036}, Usage(2036, 320, 0)),
        ({"inputTokens": 12, "cacheReadInputTokens": 4000, "cacheWriteInputTokens": 100}, Usage(4112, 4000, 100)),
        ({"promptTokenCount": 5000, "cachedContentTokenCount": 4096}, Usage(5000, 4096, 0)),
        ({"prompt_token_count": 5000}, Usage(5000, 0, 0)),
        ({"output_tokens": 5}, None),
        ({"prompt_tokens": -1}, None),
        (None, None),
    ],
    ids=["anthropic", "openai-chat", "openai-responses", "deepseek", "bedrock", "gemini", "gemini-snake", "none", "negative", "absent"],
)
def test_parse_usage(usage, expected):
    assert parse_usage(usage) == expected


def _reference_int(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(value) if value >= 0 else None


def _reference(usage):
    """parse_usage read straight: every provider's fields in turn, a missing one reading as None."""
    if not isinstance(usage, dict):
        return None
    read, write = _reference_int(usage.get("cache_read_input_tokens")), _reference_int(usage.get("cache_creation_input_tokens"))
    if read is not None or write is not None:
        fresh = _reference_int(usage.get("input_tokens")) or 0
        return Usage(fresh + (read or 0) + (write or 0), read or 0, write or 0)
    read, write = _reference_int(usage.get("cacheReadInputTokens")), _reference_int(usage.get("cacheWriteInputTokens"))
    if read is not None or write is not None:
        fresh = _reference_int(usage.get("inputTokens")) or 0
        return Usage(fresh + (read or 0) + (write or 0), read or 0, write or 0)
    prompt = _reference_int(usage.get("promptTokenCount", usage.get("prompt_token_count")))
    if prompt is not None:
        cached = _reference_int(usage.get("cachedContentTokenCount", usage.get("cached_content_token_count"))) or 0
        return Usage(prompt, min(cached, prompt), 0)
    hit, miss = _reference_int(usage.get("prompt_cache_hit_tokens")), _reference_int(usage.get("prompt_cache_miss_tokens"))
    if hit is not None and miss is not None:
        return Usage(hit + miss, hit, 0)
    for total_key, details_key in (("prompt_tokens", "prompt_tokens_details"), ("input_tokens", "input_tokens_details")):
        total = _reference_int(usage.get(total_key))
        if total is not None:
            details = usage.get(details_key)
            cached = _reference_int(details.get("cached_tokens")) if isinstance(details, dict) else None
            return Usage(total, min(cached or 0, total), 0)
    return None


class _Count(int):
    """An int subclass (read as a plain int)."""


def test_parse_usage_reads_every_combination_of_fields_as_read_straight():
    """Fields present with odd values (None, bools, negatives, floats, strings, int subclasses) and
    fields of several providers at once: the same result as reading every provider's fields in turn."""
    import itertools
    import random

    keys = [
        "cache_read_input_tokens", "cache_creation_input_tokens", "input_tokens", "cacheReadInputTokens",
        "cacheWriteInputTokens", "inputTokens", "promptTokenCount", "prompt_token_count", "cachedContentTokenCount",
        "cached_content_token_count", "prompt_cache_hit_tokens", "prompt_cache_miss_tokens", "prompt_tokens",
        "prompt_tokens_details", "input_tokens_details",
    ]
    values = [None, True, False, -3, 0, 7, 2.9, -0.5, float("nan"), "12", _Count(5), {"cached_tokens": 4}, {"cached_tokens": True}]
    rng = random.Random(7)
    cases = [{k: v} for k, v in itertools.product(keys, values)]
    cases += [{k: rng.choice(values) for k in rng.sample(keys, rng.randint(1, 6))} for _ in range(4000)]
    for usage in cases:
        assert parse_usage(usage) == _reference(usage), usage
        found = parse_usage(usage)
        if found is not None:
            assert all(type(n) is int for n in (found.total, found.read, found.write)), usage
