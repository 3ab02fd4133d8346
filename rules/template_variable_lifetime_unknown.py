"""A template variable of a harness configuration has no declared lifetime, and its name says nothing.

## What it does
Applies to harness configurations only (prefixlint's own format, see the README's "Harness
configurations"). Reports each variable used in the system prompt template (or in
`cache.prompt_cache_key`) that is not declared under `variables:` and whose name does not tell how
often it changes. Names that do are given a lifetime without a declaration: clock and id names
(`now`, `time`, `timestamp`, `date`, `today`, `request_id`, `uuid`, `nonce`, `*_at`, `*_time`) are
per-request, user and session names (`user`, `user_id`, `session_id`, `locale`, `repo`, ...) are
per-session. A variable reported here is rendered as a constant, so no other rule can tell whether it
breaks the cache. Reported at the variable's first use in the template.

Providers: all (harness configurations).

## Why does this break the cache?
It does not by itself; it hides whether the cache breaks. Whatever a template inserts is part of
the prefix: a value that changes on every request (a time, a counter, retrieved documents) breaks the
cached prefix at that point on every turn, one that changes per conversation prevents sharing the
cache between conversations. Without the lifetime, prefixlint cannot render the template the way the
harness does, and a reviewer cannot see from the configuration which it is.

## Example
```yaml
prefixlint: harness/v1
model: claude-sonnet-4-5
system:
  template: |
    You are the support agent. Context: {{ context }}
```
`context` is reported: nothing says whether it is fixed at deploy time or refreshed on every request.

## Fix
Declare it with its lifetime and an example value:
```yaml
variables:
  context: {lifetime: per-session, example: "Customer since 2021, plan Pro"}
```
If it is per-request, move it out of the system prompt into the latest user message, where a change
costs nothing that is cached.

## Source
Anthropic and OpenAI prompt caching docs (byte-identical prefix; everything after a change is
re-processed); Manus, "Context Engineering for AI Agents" (keep the prompt prefix stable; no
per-request values early in the prompt).
"""

from __future__ import annotations

from collections.abc import Iterator

from prefixlint.model import Violation
from prefixlint.rulebase import RequestContext

CODE = "PL901"
NAME = "template-variable-lifetime-unknown"
CATEGORY = "config"
SEVERITY = "warning"
SCOPE = "request"

FIX = (
    "Declare the variable under `variables:` with its lifetime (static, per-session or per-request) and an example "
    "value; a per-request value belongs in the latest user message, not in the system prompt."
)


def check(ctx: RequestContext) -> Iterator[Violation]:
    rendering = ctx.prompt.record.harness
    if rendering is None:
        return
    system = next((b.pointer for b in ctx.prompt.blocks if b.section == "system"), None)
    for var in rendering.unknown:
        yield Violation(
            message=(
                f"template variable `{var.name}` has no declared lifetime and its name does not say how often it "
                "changes: it was rendered as a constant, so a change of its value on every request or every "
                "conversation would go unnoticed"
            ),
            fix=FIX,
            pointer=system,
            key=var.name,
        )
