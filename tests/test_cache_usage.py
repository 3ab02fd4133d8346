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
