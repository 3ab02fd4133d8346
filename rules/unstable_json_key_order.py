"""TODO (being written): unstable-json-key-order.

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

CODE = "PL801"
NAME = "unstable-json-key-order"
CATEGORY = "serialization"
SEVERITY = "error"
SCOPE = "pair"


def check(pair: Pair) -> Iterator[Violation]:
    return iter(())
