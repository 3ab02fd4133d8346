"""Read the cache usage a log recorded for a request, whatever the provider's field names.

- Anthropic: ``input_tokens`` (after the last breakpoint), ``cache_creation_input_tokens``,
  ``cache_read_input_tokens``; total input = the three added up.
- OpenAI Chat: ``prompt_tokens`` with ``prompt_tokens_details.cached_tokens``; Responses:
  ``input_tokens`` with ``input_tokens_details.cached_tokens``.
- DeepSeek: ``prompt_cache_hit_tokens`` / ``prompt_cache_miss_tokens``.
- Bedrock Converse: ``inputTokens``, ``cacheReadInputTokens``, ``cacheWriteInputTokens``.
- Gemini ``usageMetadata``: ``promptTokenCount`` (cached part included), ``cachedContentTokenCount``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(slots=True, frozen=True)
class Usage:
    total: int  # prompt tokens in all
    read: int  # read from the cache
    write: int  # written to the cache (Anthropic; 0 where the provider does not report it)

    @property
    def uncached(self) -> int:
        return max(0, self.total - self.read - self.write)


def _int(value: Any) -> int | None:
    if value.__class__ is int:  # the usual case, tested first (a bool is not of this class)
        return value if value >= 0 else None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(value) if value >= 0 else None


# (cache read, cache write, uncached input) token fields of the APIs that report cache writes
_WRITE_READ_FIELDS = (
    ("cache_read_input_tokens", "cache_creation_input_tokens", "input_tokens"),
    ("cacheReadInputTokens", "cacheWriteInputTokens", "inputTokens"),
)


def parse_usage(usage: dict[str, Any] | None) -> Usage | None:
    """The recorded usage, or None when the record has none we can read."""
    if not isinstance(usage, dict):
        return None
    # A missing field reads as None: each provider's fields are read only when one of them is there.
    for read_key, write_key, fresh_key in _WRITE_READ_FIELDS:  # Anthropic, then Bedrock Converse
        if read_key in usage or write_key in usage:
            read, write = _int(usage.get(read_key)), _int(usage.get(write_key))
            if read is not None or write is not None:
                fresh = _int(usage.get(fresh_key)) or 0
                read, write = read or 0, write or 0
                return Usage(total=fresh + read + write, read=read, write=write)
    if "promptTokenCount" in usage or "prompt_token_count" in usage:
        prompt = _int(usage.get("promptTokenCount", usage.get("prompt_token_count")))
        if prompt is not None:  # Gemini usageMetadata: the prompt count includes the cached part
            cached = _int(usage.get("cachedContentTokenCount", usage.get("cached_content_token_count"))) or 0
            return Usage(total=prompt, read=min(cached, prompt), write=0)
    if "prompt_cache_hit_tokens" in usage and "prompt_cache_miss_tokens" in usage:
        hit, miss = _int(usage.get("prompt_cache_hit_tokens")), _int(usage.get("prompt_cache_miss_tokens"))
        if hit is not None and miss is not None:
            return Usage(total=hit + miss, read=hit, write=0)
    for total_key, details_key in (("prompt_tokens", "prompt_tokens_details"), ("input_tokens", "input_tokens_details")):
        total = _int(usage.get(total_key))
        if total is not None:
            details = usage.get(details_key)
            cached = _int(details.get("cached_tokens")) if isinstance(details, dict) else None
            return Usage(total=total, read=min(cached or 0, total), write=0)
    return None
