"""TODO (being written): compaction-breaks-prefix.

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

CODE = "PL306"
NAME = "compaction-breaks-prefix"
CATEGORY = "history"
SEVERITY = "warning"
SCOPE = "pair"


def check(pair: Pair) -> Iterator[Violation]:
    return iter(())
