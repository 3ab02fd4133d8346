"""TODO (being written): cache-key-setting-changed.

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

CODE = "PL501"
NAME = "cache-key-setting-changed"
CATEGORY = "params"
SEVERITY = "error"
SCOPE = "pair"


def check(pair: Pair) -> Iterator[Violation]:
    return iter(())
