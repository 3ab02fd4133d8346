"""TODO (being written): volatile-value-in-tool-definition.

## What it does
## Why does this break the cache?
## Example
## Fix
## Source
"""

from __future__ import annotations

from collections.abc import Iterator

from prefixlint.model import Violation
from prefixlint.rulebase import RequestContext

CODE = "PL104"
NAME = "volatile-value-in-tool-definition"
CATEGORY = "tools"
SEVERITY = "error"
SCOPE = "request"


def check(request: RequestContext) -> Iterator[Violation]:
    return iter(())
