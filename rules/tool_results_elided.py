"""TODO (being written): tool-results-elided.

## What it does
## Why does this break the cache?
## Example
## Fix
## Source
"""

from __future__ import annotations

from collections.abc import Iterator

from prefixlint.model import Violation
from prefixlint.rulebase import Pair

CODE = "PL305"
NAME = "tool-results-elided"
CATEGORY = "history"
SEVERITY = "error"
SCOPE = "pair"


def check(pair: Pair) -> Iterator[Violation]:
    return iter(())
