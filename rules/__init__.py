"""The rule catalogue: an explicit, ordered list of rule modules (no magic discovery).

Each module's docstring is its documentation; ``prefixlint rule CODE`` prints it.
"""

from __future__ import annotations

from prefixlint.rulebase import Rule
from prefixlint.rules import (
    model_switched,
    tool_definition_changed,
    tool_set_changed,
    tools_reordered,
)

_MODULES = [
    tool_set_changed,
    tools_reordered,
    tool_definition_changed,
    model_switched,
]

RULES: list[Rule] = [Rule.from_module(m) for m in _MODULES]
BY_CODE: dict[str, Rule] = {r.code: r for r in RULES}


def get(code_or_name: str) -> Rule | None:
    """A rule by code (case-insensitive) or by name."""
    key = code_or_name.strip()
    return BY_CODE.get(key.upper()) or next((r for r in RULES if r.name == key.lower()), None)
