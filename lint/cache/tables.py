"""The cache model's numbers: minimum cacheable tokens, hit increments, TTLs, prices, multipliers.

Provider caching rules moved several times during 2026, so none of these numbers is a constant in
code. They live in one dated, versioned data file shipped with the package,
``prefixlint/data/cache-tables.json``: every model entry carries the date its figures were
checked (``as_of``), a ``note`` where a figure is an estimate or could not be confirmed, and the
provider's documentation pages are named under ``sources``. Configuration can override any of it
(:meth:`Tables.load`), for example when a provider changes a minimum before a release of
prefixlint catches up.

Lookup (:meth:`Tables.model`) takes a provider and the model name of a request and returns the
:class:`ModelPricing` of the longest matching ``match`` prefix. Matching ignores case, accepts a
date or version suffix (``claude-sonnet-4-5-20250929``), a provider or region prefix
(``anthropic/claude-sonnet-4-5``, ``us.anthropic.claude-sonnet-4-5-v1:0``) and dotted versions
(``claude-sonnet-4.5`` is ``claude-sonnet-4-5``). A provider's ``routes`` hand models of another
vendor to that vendor's table (an OpenAI-format request for ``deepseek-chat`` is priced as
DeepSeek), and ``models_from`` lets Bedrock use the Anthropic entries for Claude. A model that
matches nothing gets the provider's ``default_model``.

Field values resolve from the model entry first, then from the provider section (its
``multipliers`` give ``write_multiplier_5m``, ``write_multiplier_1h`` and ``read_multiplier``).
``write_5m`` is the write price at the provider's short TTL, ``write_1h`` at its long one; providers
without a write surcharge use 1.0.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Any


PROVIDERS = ("anthropic", "openai", "gemini", "bedrock", "deepseek")
DATA_FILE = "data/cache-tables.json"


@dataclass(frozen=True, slots=True)
class ModelPricing:
    """Everything the cache model needs to know about one model of one provider."""

    provider: str  # whose table answered (after routing: "deepseek" for an OpenAI-format request)
    model: str | None  # the model name as the request gave it
    matched: str | None  # the "match" of the table entry used; None: the provider's default
    min_tokens: int
    increment_tokens: int | None  # hits are counted in multiples of this; None: token-exact
    input_usd_per_mtok: float | None  # list price of uncached input; None: unknown
    write_multiplier_5m: float
    write_multiplier_1h: float
    read_multiplier: float
    ttl_seconds: dict[str, int] = field(hash=False)  # TTL name -> seconds (do not mutate)
    default_ttl: str
    as_of: str
    source: str
    max_breakpoints: int | None = None  # None: no explicit breakpoints
    lookback_blocks: int | None = None  # None: no block lookback
    note: str | None = None

    def ttl(self, name: str | None = None) -> int:
        """Seconds an entry written with TTL ``name`` lives (the default TTL for None or unknown)."""
        return self.ttl_seconds.get(name or self.default_ttl, self.ttl_seconds[self.default_ttl])


# -- schema -----------------------------------------------------------------------------------

_TEXT = {"type": "string", "minLength": 1}
_RATE = {"type": "number", "minimum": 0}
_PROVIDER_NAME = {"enum": list(PROVIDERS)}
_SETTINGS = {  # a provider section gives the defaults, a model entry may override them
    "min_tokens": {"type": "integer", "minimum": 0},
    "increment_tokens": {"type": ["integer", "null"], "minimum": 1},
    "ttl_seconds": {
        "type": "object",
        "minProperties": 1,
        "additionalProperties": {"type": "integer", "minimum": 1},
    },
    "default_ttl": _TEXT,
    "max_breakpoints": {"type": ["integer", "null"], "minimum": 0},
    "lookback_blocks": {"type": ["integer", "null"], "minimum": 1},
}
_MODEL_FIELDS = {
    **_SETTINGS,
    "input_usd_per_mtok": {"type": ["number", "null"], "minimum": 0},
    "write_multiplier_5m": _RATE,
    "write_multiplier_1h": _RATE,
    "read_multiplier": _RATE,
    "as_of": _TEXT,
    "source": _TEXT,
    "note": _TEXT,
}

TABLES_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://prefixlint.dev/schemas/cache-tables-v1.json",
    "title": "prefixlint cache tables",
    "type": "object",
    "required": ["version", "as_of", "sources", "providers"],
    "additionalProperties": False,
    "properties": {
        "version": {"type": "integer", "minimum": 1},
        "as_of": _TEXT,
        "sources": {"type": "object", "propertyNames": _PROVIDER_NAME, "additionalProperties": _TEXT},
        "providers": {
            "type": "object",
            "required": list(PROVIDERS),
            "additionalProperties": False,
            "properties": {name: {"$ref": "#/$defs/provider"} for name in PROVIDERS},
        },
    },
    "$defs": {
        "model": {
            "type": "object",
            "required": ["match", "as_of"],
            "additionalProperties": False,
            "properties": {"match": _TEXT, **_MODEL_FIELDS},
        },
        "default_model": {
            "type": "object",
            "required": ["as_of"],
            "additionalProperties": False,
            "properties": _MODEL_FIELDS,
        },
        "provider": {
            "type": "object",
            "required": ["ttl_seconds", "default_ttl", "multipliers", "default_model", "models"],
            "additionalProperties": False,
            "properties": {
                **_SETTINGS,
                "note": _TEXT,
                "multipliers": {
                    "type": "object",
                    "required": ["write_5m", "write_1h", "read"],
                    "additionalProperties": False,
                    "properties": {"write_5m": _RATE, "write_1h": _RATE, "read": _RATE},
                },
                "routes": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["prefix", "provider"],
                        "additionalProperties": False,
                        "properties": {"prefix": _TEXT, "provider": _PROVIDER_NAME, "note": _TEXT},
                    },
                },
                "models_from": {"type": "array", "items": _PROVIDER_NAME},
                "default_model": {"$ref": "#/$defs/default_model"},
                "models": {"type": "array", "items": {"$ref": "#/$defs/model"}},
            },
        },
    },
}


def _relaxed(node: Any) -> Any:
    """The schema of an override: the same shape, nothing required but a model entry's match."""
    if isinstance(node, list):
        return [_relaxed(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _relaxed(value) for key, value in node.items() if key != "required"}
    if "match" in node.get("properties", {}):
        out["required"] = ["match"]
    return out


@functools.cache
def _validator(relaxed: bool = False) -> Any:
    """The JSON Schema validator of the tables (``relaxed``: of an override). jsonschema is imported
    only when something is validated: the shipped tables are checked by the tests, not at every
    start (it would cost every run a tenth of a second and 8 MiB)."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(_relaxed(TABLES_SCHEMA) if relaxed else TABLES_SCHEMA)


def _path(parts: list[Any], root: Any) -> str:
    """A readable key path; a list item that has a "match" is named by it."""
    out, node = "", root
    for key in parts:
        if isinstance(key, int):
            item = node[key] if isinstance(node, list) and 0 <= key < len(node) else None
            label = item.get("match") if isinstance(item, dict) else None
            out += f"[{label if isinstance(label, str) else key}]"
            node = item
        else:
            out += f".{key}" if out else str(key)
            node = node.get(key) if isinstance(node, dict) else None
    return out or "(top level)"


def _check(validator: Any, instance: Any, what: str) -> None:
    from jsonschema.exceptions import best_match

    error = best_match(validator.iter_errors(instance))
    if error is not None:
        message = " ".join(error.message.split())
        if len(message) > 200:
            message = message[:197] + "..."
        raise ValueError(f"{what} at {_path(list(error.absolute_path), instance)}: {message}")


# -- model names ------------------------------------------------------------------------------

_DIGIT_DOT = re.compile(r"(?<=\d)\.(?=\d)")
_SEPARATORS = "/.:"


def normalize_model(name: str) -> str:
    """Lower case, and ``4.5`` spelled ``4-5`` (the only dots left separate name parts)."""
    return _DIGIT_DOT.sub("-", name.strip().lower())


def _has_prefix(name: str, prefix: str) -> bool:
    """``prefix`` starts the name or one of its parts (after "/", "." or ":")."""
    if name.startswith(prefix):
        return True
    return any(c in _SEPARATORS and name.startswith(prefix, i + 1) for i, c in enumerate(name))


# -- tables -----------------------------------------------------------------------------------

_MULTIPLIERS = {"write_5m": "write_multiplier_5m", "write_1h": "write_multiplier_1h", "read": "read_multiplier"}
_MISSING = object()


class Tables:
    """The validated cache tables; :meth:`model` answers per provider and model name."""

    def __init__(self, data: dict[str, Any], shipped: bool = False) -> None:
        if not shipped:  # (the file shipped with prefixlint is validated by its tests)
            _check(_validator(), data, "invalid cache tables")
        data = copy.deepcopy(data)
        self.version: int = data["version"]
        self.as_of: str = data["as_of"]
        self.sources: dict[str, str] = data["sources"]
        self._sections: dict[str, dict[str, Any]] = data["providers"]
        self._defaults = {name: self._flatten(section) for name, section in self._sections.items()}
        self._entries: dict[str, list[tuple[str, dict[str, Any], str]]] = {}
        for name, section in self._sections.items():
            own, seen = [], set()
            for entry in section["models"]:
                key = normalize_model(entry["match"])
                if key in seen:
                    raise ValueError(f"invalid cache tables at providers.{name}.models[{entry['match']}]: duplicate match")
                seen.add(key)
                own.append((key, entry, name))
            self._entries[name] = own
        for name, section in self._sections.items():
            for other in section.get("models_from", []):
                if other != name:
                    self._entries[name] = self._entries[name] + [
                        item for item in self._entries[other] if item[2] == other
                    ]
        self._memo: dict[tuple[str, str | None], ModelPricing] = {}
        for name in PROVIDERS:  # every entry must resolve completely (min_tokens, a known TTL)
            self._pricing(name, self._sections[name]["default_model"], name, None)
            for _, entry, owner in self._entries[name]:
                self._pricing(name, entry, owner, None)

    @classmethod
    def load(cls, overrides: dict[str, Any] | None = None) -> Tables:
        """The shipped tables, deep-merged with ``overrides`` (same shape as the file).

        A model entry in overrides extends the shipped entry with the same ``match`` (or is added);
        its ``as_of`` defaults to ``"configured"`` and its ``source`` to ``"configuration"``. An
        invalid override raises ValueError naming the key path.
        """
        text = resources.files("prefixlint").joinpath(DATA_FILE).read_text(encoding="utf-8")
        data = json.loads(text)
        if overrides:
            if not isinstance(overrides, dict):
                raise ValueError("invalid cache-table override at (top level): expected an object")
            _check(_validator(relaxed=True), overrides, "invalid cache-table override")
            data = _merge(data, overrides)
        return cls(data, shipped=not overrides)

    @property
    def providers(self) -> tuple[str, ...]:
        return PROVIDERS

    def model(self, provider: str, model: str | None) -> ModelPricing:
        """The pricing of ``model`` on ``provider``: longest matching entry, else the default."""
        key = (provider, model)
        found = self._memo.get(key)
        if found is not None:
            return found
        if provider not in self._sections:
            raise ValueError(f"unknown provider {provider!r} (expected one of {', '.join(PROVIDERS)})")
        name = normalize_model(model) if model else ""
        target = provider
        if name:
            for route in self._sections[provider].get("routes", []):
                if _has_prefix(name, normalize_model(route["prefix"])):
                    target = route["provider"]
                    break
        best: tuple[str, dict[str, Any], str] | None = None
        if name:
            for item in self._entries[target]:
                if len(item[0]) > (len(best[0]) if best else 0) and _has_prefix(name, item[0]):
                    best = item
        if best is None:
            found = self._pricing(target, self._sections[target]["default_model"], target, model)
        else:
            found = self._pricing(target, best[1], best[2], model)
        self._memo[key] = found
        return found

    def max_breakpoints(self, provider: str, model: str | None = None) -> int | None:
        return self.model(provider, model).max_breakpoints

    def lookback_blocks(self, provider: str, model: str | None = None) -> int | None:
        return self.model(provider, model).lookback_blocks

    # -- internals ------------------------------------------------------------------------------
    @staticmethod
    def _flatten(section: dict[str, Any]) -> dict[str, Any]:
        flat = {key: section[key] for key in _SETTINGS if key in section}
        for key, target in _MULTIPLIERS.items():
            flat[target] = section["multipliers"][key]
        return flat

    def _pricing(self, provider: str, entry: dict[str, Any], owner: str, model: str | None) -> ModelPricing:
        layers = (entry, self._defaults[provider], self._defaults[owner])
        where = f"providers.{owner}." + (f"models[{entry['match']}]" if "match" in entry else "default_model")

        def pick(key: str, default: Any = _MISSING) -> Any:
            for layer in layers:
                if key in layer:
                    return layer[key]
            if default is _MISSING:
                raise ValueError(f"invalid cache tables at {where}: no {key} (set it on the entry or the provider)")
            return default

        ttl_seconds = dict(pick("ttl_seconds"))
        default_ttl = pick("default_ttl")
        if default_ttl not in ttl_seconds:
            raise ValueError(f"invalid cache tables at {where}: default_ttl {default_ttl!r} is not in ttl_seconds")
        return ModelPricing(
            provider=provider,
            model=model,
            matched=entry.get("match"),
            min_tokens=pick("min_tokens"),
            increment_tokens=pick("increment_tokens", None),
            input_usd_per_mtok=pick("input_usd_per_mtok", None),
            write_multiplier_5m=pick("write_multiplier_5m"),
            write_multiplier_1h=pick("write_multiplier_1h"),
            read_multiplier=pick("read_multiplier"),
            ttl_seconds=ttl_seconds,
            default_ttl=default_ttl,
            as_of=entry["as_of"],
            source=entry.get("source") or self.sources.get(owner, ""),
            max_breakpoints=pick("max_breakpoints", None),
            lookback_blocks=pick("lookback_blocks", None),
            note=entry.get("note"),
        )


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        current = out.get(key)
        if key == "models" and isinstance(value, list) and isinstance(current, list):
            out[key] = _merge_models(current, value)
        elif isinstance(value, dict) and isinstance(current, dict):
            out[key] = _merge(current, value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _merge_models(base: list[dict[str, Any]], over: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = list(base)
    index = {normalize_model(entry["match"]): i for i, entry in enumerate(out)}
    for entry in over:
        entry = {"as_of": "configured", "source": "configuration", **entry}
        i = index.get(normalize_model(entry["match"]))
        if i is None:
            index[normalize_model(entry["match"])] = len(out)
            out.append(copy.deepcopy(entry))
        else:
            out[i] = _merge(out[i], entry)
    return out


@functools.cache
def _shipped() -> Tables:
    return Tables.load()


def load_tables(overrides: dict[str, Any] | None = None) -> Tables:
    """The shipped tables (loaded once), or a fresh copy merged with ``overrides``."""
    return _shipped() if not overrides else Tables.load(overrides)
