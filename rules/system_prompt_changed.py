"""TODO (being written): system-prompt-changed.

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

CODE = "PL201"
NAME = "system-prompt-changed"
CATEGORY = "system"
SEVERITY = "error"
SCOPE = "pair"


def check(pair: Pair) -> Iterator[Violation]:
    return iter(())
