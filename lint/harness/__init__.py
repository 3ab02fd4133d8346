"""Harness configurations: lint how an agent builds its requests before one is sent.

Three formats are recognised by their name and content (:func:`kind`):

- prefixlint's own format (``schemas/harness-v1.json``): a YAML or JSON file with
  ``prefixlint: harness/v1`` at the top level;
- Spring AI: ``application*.yml`` / ``application*.yaml`` / ``application*.properties`` with keys
  under ``spring.ai.anthropic`` (:mod:`prefixlint.harness.spring`);
- a LiteLLM proxy configuration: YAML with a top-level ``model_list`` (:mod:`prefixlint.harness.litellm`).

Each is turned into the own format, built into a :class:`~prefixlint.harness.own.Harness` and
rendered into a synthetic conversation (:mod:`prefixlint.harness.render`) whose records go through
the same providers, threads, rules and cache model as a recorded log. A configuration that cannot
be read or is invalid is one diagnostic with its file and line; the other configurations of the
file (a LiteLLM model list) are still linted.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prefixlint.model import Diagnostic, Origin, Record

if TYPE_CHECKING:
    from prefixlint.harness.loader import HarnessError, Loaded

SNIFF_BYTES = 64 * 1024
YAML_SUFFIXES = (".yaml", ".yml")
# top level: unindented in YAML; in JSON a quoted key, indented or after the opening brace
_OWN = re.compile(rb"""(?m)^(?:["']?prefixlint["']?|\{?[ \t]*"prefixlint")[ \t]*:[ \t]*["']?harness/v""")
_SPRING = re.compile(rb"""(?m)^["']?spring(?:["']?\s*:|\.)""")
_LITELLM = re.compile(rb"""(?m)^["']?model_list["']?\s*:""")


def _head(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read(SNIFF_BYTES)
    except OSError:
        return b""


def kind(path: str) -> str | None:
    """"own", "spring" or "litellm" for a harness configuration, else None (from the file name and
    its first ``SNIFF_BYTES``; never raises)."""
    name = os.path.basename(path).lower()
    if name.endswith((".gz", ".zst")) or path == "-":
        return None
    if name.endswith(".properties"):
        return "spring" if name.startswith("application") and b"spring.ai." in _head(path) else None
    if not name.endswith((*YAML_SUFFIXES, ".json")):
        return None
    head = _head(path)
    if _OWN.search(head):
        return "own"
    if name.endswith(".json"):
        return None
    if name.startswith("application") and _SPRING.search(head):
        return "spring"
    if _LITELLM.search(head):
        return "litellm"
    return None


def read(path: str, name: str, diagnostics: list[Diagnostic], found: str | None = None) -> Iterator[Record]:
    """The synthetic requests of every configuration in ``path`` (reported as ``name``)."""
    # (the loader imports PyYAML, about 15 ms of start-up: imported when a configuration is read)
    from prefixlint.harness.loader import MAX_BYTES, HarnessError, load_properties, load_yaml

    found = found or kind(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)  # a configuration is small: never read a huge file whole
    except OSError as exc:
        diagnostics.append(Diagnostic(Origin(name), f"cannot read: {exc.strerror or exc}"))
        return
    try:
        if found == "spring" and name.lower().endswith(".properties"):
            loaded = load_properties(data)
        else:
            loaded = load_yaml(data)
        docs = _translate(found, loaded, name)
    except HarnessError as exc:
        diagnostics.append(Diagnostic(Origin(name, line=exc.line), f"invalid harness configuration: {exc.message}"))
        return
    from prefixlint.harness.own import build
    from prefixlint.harness.render import render

    for doc in docs:
        try:
            if isinstance(doc, HarnessError):  # one bad entry of a model list: the others are still linted
                raise doc
            harness = build(doc, name)
            records = list(render(harness))  # a template that fails to render fails before any request
        except HarnessError as exc:
            diagnostics.append(Diagnostic(Origin(name, line=exc.line), f"invalid harness configuration: {exc.message}"))
            continue
        yield from records


def _translate(found: str | None, loaded: Loaded, name: str) -> list[Loaded | HarnessError]:
    from prefixlint.harness.loader import HarnessError

    if found == "spring":
        from prefixlint.harness import spring

        return spring.translate(loaded, name)
    if found == "litellm":
        from prefixlint.harness import litellm

        return litellm.translate_each(loaded, name)
    from prefixlint.harness.own import is_own

    if not is_own(loaded.doc):
        raise HarnessError("not a harness configuration: no top-level 'prefixlint: harness/v1'", 1)
    return [loaded]
