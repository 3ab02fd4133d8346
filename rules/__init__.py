"""The rule catalogue: an explicit, ordered list of rule modules (no magic discovery).

Each module's docstring is its documentation; ``prefixlint rule CODE`` prints it.
"""

from __future__ import annotations

from prefixlint.rulebase import Rule
from prefixlint.rules import (
    breakpoint_below_minimum,
    breakpoint_beyond_lookback,
    breakpoint_on_changing_block,
    breakpoints_never_move,
    cache_key_setting_changed,
    cache_read_dropped,
    caching_not_configured,
    compaction_breaks_prefix,
    content_inserted_before_latest_turn,
    gap_exceeds_ttl,
    history_rewritten,
    history_truncated,
    model_switched,
    parallel_fanout_before_cache_ready,
    prompt_below_cache_minimum,
    system_prompt_changed,
    template_variable_lifetime_unknown,
    thinking_blocks_altered,
    too_many_breakpoints,
    tool_definition_changed,
    tool_results_elided,
    tool_set_changed,
    tools_reordered,
    ttl_order_invalid,
    unexplained_cache_miss,
    unstable_json_key_order,
    volatile_value_in_system_prompt,
    volatile_value_in_tool_definition,
)

_MODULES = [
    tool_set_changed,
    tools_reordered,
    tool_definition_changed,
    volatile_value_in_tool_definition,
    system_prompt_changed,
    volatile_value_in_system_prompt,
    history_rewritten,
    history_truncated,
    content_inserted_before_latest_turn,
    thinking_blocks_altered,
    tool_results_elided,
    compaction_breaks_prefix,
    model_switched,
    cache_key_setting_changed,
    too_many_breakpoints,
    ttl_order_invalid,
    breakpoint_below_minimum,
    breakpoint_beyond_lookback,
    breakpoint_on_changing_block,
    breakpoints_never_move,
    caching_not_configured,
    prompt_below_cache_minimum,
    gap_exceeds_ttl,
    parallel_fanout_before_cache_ready,
    unexplained_cache_miss,
    cache_read_dropped,
    unstable_json_key_order,
    template_variable_lifetime_unknown,
]

RULES: list[Rule] = [Rule.from_module(m) for m in _MODULES]
BY_CODE: dict[str, Rule] = {r.code: r for r in RULES}


def get(code_or_name: str) -> Rule | None:
    """A rule by code (case-insensitive) or by name."""
    key = code_or_name.strip()
    return BY_CODE.get(key.upper()) or next((r for r in RULES if r.name == key.lower()), None)
