"""Configuration: find it, read it, validate it, resolve it.

prefixlint reads ``[tool.prefixlint]`` in ``pyproject.toml`` or the top level of
``.prefixlint.yaml``. Without ``--config FILE`` it walks up from the working directory and takes
the nearest directory that has either (a ``pyproject.toml`` without a ``[tool.prefixlint]`` table
does not count); when one directory has both, ``.prefixlint.yaml`` wins. Files are never merged:
one configuration is in effect, or none (``--isolated``).

The keys are described by the JSON Schema ``prefixlint/schemas/config-v1.json`` (draft 2020-12,
printed by ``prefixlint config --schema``). After the schema, the values are checked against the
rule catalogue (every selector must name a rule, severities and options name rule codes, options
match the rule's ``OPTIONS_SCHEMA``) and the cache tables against their own schema. Any problem is
a :class:`ConfigError` of one line naming the file and the key.

Relative paths (``paths``, ``baseline``, a ``cache-tables`` file) and the globs of ``exclude`` and
``per-path-ignores`` are relative to the directory of the configuration file.
"""

from __future__ import annotations

import difflib
import functools
import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

YAML_FILE = ".prefixlint.yaml"
PYPROJECT = "pyproject.toml"
SCHEMA_FILE = "schemas/config-v1.json"


class ConfigError(Exception):
    """A configuration that cannot be used: one line naming the file and the key."""


@dataclass(slots=True)
class Config:
    """The configuration in effect, with its paths resolved (relative to the working directory
    where that is possible, so that fingerprints and reports keep the short file names)."""

    source: str | None = None  # the file it came from; None: built-in defaults
    root: str = field(default_factory=os.getcwd)  # what relative paths and globs are relative to
    values: dict[str, Any] = field(default_factory=dict)  # as written in the file (validated)
    paths: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    select: list[str] | None = None
    extend_select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    fail_on: str | None = None
    per_path_ignores: dict[str, list[str]] = field(default_factory=dict)
    severity: dict[str, str] = field(default_factory=dict)
    options: dict[str, dict] = field(default_factory=dict)
    cache_tables: dict | None = None
    session_key: str | None = None
    provider: str | None = None
    baseline: str | None = None


# -- schema -----------------------------------------------------------------------------------
@functools.cache
def _schema_text() -> str:
    return resources.files("prefixlint").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")


def schema() -> dict:
    """The configuration's JSON Schema (a fresh copy)."""
    return json.loads(_schema_text())


# -- discovery --------------------------------------------------------------------------------
def _has_table(pyproject: str) -> bool:
    try:
        data = _read_toml(pyproject)
    except ConfigError:
        return True  # a broken pyproject.toml is reported, not silently passed over
    return isinstance(data.get("tool"), dict) and "prefixlint" in data["tool"]


def find(start: str | None = None) -> str | None:
    """The nearest configuration file from ``start`` (default: the working directory) upwards."""
    here = os.path.abspath(start or os.getcwd())
    while True:
        candidate = os.path.join(here, YAML_FILE)
        if os.path.isfile(candidate):
            return candidate
        candidate = os.path.join(here, PYPROJECT)
        if os.path.isfile(candidate) and _has_table(candidate):
            return candidate
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def _read_toml(path: str) -> dict:
    import tomllib

    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def _read_yaml(path: str, syntax: str = "YAML") -> Any:
    import yaml

    try:
        with open(path, encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid {syntax}: {' '.join(str(exc).split())}") from None


def read(path: str) -> tuple[dict, str]:
    """The raw configuration mapping in ``path`` and the prefix its keys are named with."""
    if os.path.basename(path) == PYPROJECT or path.endswith(".toml"):
        tool = _read_toml(path).get("tool")
        table = tool.get("prefixlint") if isinstance(tool, dict) else None
        if table is None:
            raise ConfigError(f"{path}: no [tool.prefixlint] table")
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: tool.prefixlint must be a table")
        return table, "tool.prefixlint."
    data = _read_yaml(path)
    if data is None:
        return {}, ""
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the configuration must be a mapping of keys (see 'prefixlint config --schema')")
    return data, ""


# -- validation -------------------------------------------------------------------------------
def _key(prefix: str, path: Iterable[Any]) -> str:
    out = prefix.rstrip(".")
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            text = str(part)
            if not re.fullmatch(r"[A-Za-z0-9_-]+", text):
                text = json.dumps(text)
            out = f"{out}.{text}" if out else text
    return out or "(top level)"


_JSON_TYPES = {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean", int: "an integer",
               float: "a number", type(None): "null"}


def _describe(value: Any) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _schema_problem(data: dict, prefix: str) -> str | None:
    found = schema_problem(data, schema(), prefix)
    return found[0] if found else None


def schema_problem(data: Any, against: dict, prefix: str = "") -> tuple[str, list[Any]] | None:
    """The first problem of ``data`` against the JSON Schema ``against``, as one line naming the
    key, and the path of the offending value (the unknown key itself for one that is not allowed)."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import relevance

    validator = Draft202012Validator(against)
    errors = sorted(validator.iter_errors(data), key=lambda e: (list(map(str, e.absolute_path)), relevance(e)))
    if not errors:
        return None
    error = errors[0]
    where = list(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        extra = sorted(k for k in error.instance if k not in allowed)
        key = extra[0] if extra else "?"
        close = difflib.get_close_matches(str(key), sorted(allowed), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"{_key(prefix, [*where, key])}: unknown key{hint}", [*where, key]
    if error.validator == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        return f"{_key(prefix, where)}: expected {expected}, got {_describe(error.instance)}", where
    if error.validator == "enum":
        options = ", ".join(repr(v) for v in error.validator_value)
        return f"{_key(prefix, where)}: {error.instance!r} is not one of {options}", where
    if error.validator == "const":
        return f"{_key(prefix, where)}: must be {error.validator_value!r}, got {error.instance!r}", where
    if error.validator == "pattern" and error.validator_value == "^PL[1-9][0-9]{2}$":
        return f"{_key(prefix, where)}: {error.instance!r} is not a rule code (like PL101)", where
    if error.validator == "pattern" and error.validator_value == "^/":
        return f"{_key(prefix, where)}: must be a JSON pointer starting with '/', got {error.instance!r}", where
    if error.validator == "minLength":
        return f"{_key(prefix, where)}: must not be empty", where
    return f"{_key(prefix, where)}: {error.message}", where


def _codes(rules: Sequence[Any]) -> dict[str, Any]:
    return {r.code: r for r in rules}


def check_values(data: dict, prefix: str, rules: Sequence[Any]) -> str | None:
    """Checks beyond the schema, against the rule catalogue; the first problem, or None."""
    from prefixlint.engine import unknown_selectors

    for name in ("select", "extend-select", "ignore"):
        for i, selector in enumerate(data.get(name) or ()):
            if unknown_selectors(rules, [selector]):
                return f"{_key(prefix, [name, i])}: unknown rule selector {selector!r} (use a code, code prefix, category or rule name; see 'prefixlint rules')"
    for glob, selectors in (data.get("per-path-ignores") or {}).items():
        for i, selector in enumerate(selectors):
            if unknown_selectors(rules, [selector]):
                return f"{_key(prefix, ['per-path-ignores', glob, i])}: unknown rule selector {selector!r}"
    by_code = _codes(rules)
    for code in data.get("severity") or {}:
        if code not in by_code:
            return f"{_key(prefix, ['severity', code])}: unknown rule code {code!r}"
    for code, given in (data.get("options") or {}).items():
        rule = by_code.get(code)
        if rule is None:
            return f"{_key(prefix, ['options', code])}: unknown rule code {code!r}"
        problem = rule_options_problem(rule, given)
        if problem:
            return f"{_key(prefix, ['options', code, *problem[0]])}: {problem[1]}"
    return None


def rule_options_problem(rule: Any, given: dict) -> tuple[list, str] | None:
    """Validate one rule's options against its OPTIONS_SCHEMA: (path, message) or None."""
    declared = getattr(rule, "options_schema", None)
    if declared is None:
        return ([], f"rule {rule.code} ({rule.name}) takes no options") if given else None
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    error = best_match(Draft202012Validator(declared).iter_errors(given))
    if error is None:
        return None
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        extra = sorted(k for k in error.instance if k not in allowed)
        return [*error.absolute_path, *(extra[:1])], f"unknown option of {rule.code}"
    return list(error.absolute_path), error.message


def _tables(value: Any, key: str, source: str, root: str) -> dict:
    from prefixlint.cache.tables import load_tables

    where = f"{source}: {key}"
    if isinstance(value, str):
        path = os.path.join(root, value)
        data = _read_yaml(path, "YAML or JSON")
        where = path
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: cache tables must be a mapping (see prefixlint/data/cache-tables.json)")
    else:
        data = value
    try:
        load_tables(data)
    except ValueError as exc:
        raise ConfigError(f"{where}: {' '.join(str(exc).split())}") from None
    return data


def read_tables(path: str) -> dict:
    """Cache-table overrides from a YAML or JSON file, validated (``--cache-tables FILE``)."""
    return _tables(path, "", "", os.getcwd())


# -- loading ----------------------------------------------------------------------------------
def _near(path: str, cwd: str) -> str:
    """``path`` relative to the working directory when it lies under it, else absolute."""
    absolute = os.path.abspath(path)
    try:
        rel = os.path.relpath(absolute, cwd)
    except ValueError:
        return absolute
    return absolute if rel.startswith("..") else rel


def load(path: str | None = None, isolated: bool = False, rules: Sequence[Any] | None = None,
         cwd: str | None = None) -> Config:
    """The configuration in effect: ``path`` if given, else the nearest file, else defaults."""
    cwd = os.path.abspath(cwd or os.getcwd())
    if isolated:
        return Config(root=cwd)
    if path is None:
        path = find(cwd)
        if path is None:
            return Config(root=cwd)
    elif not os.path.isfile(path):
        raise ConfigError(f"{path}: configuration file not found")
    if rules is None:
        from prefixlint.rules import RULES

        rules = RULES
    source = os.path.abspath(path)
    data, prefix = read(source)
    problem = _schema_problem(data, prefix) or check_values(data, prefix, rules)
    if problem:
        raise ConfigError(f"{source}: {problem}")
    root = os.path.dirname(source)
    cfg = Config(source=source, root=root, values=data)
    cfg.paths = [_near(os.path.join(root, p), cwd) for p in data.get("paths", [])]
    cfg.exclude = list(data.get("exclude", []))
    cfg.select = list(data["select"]) if "select" in data else None
    cfg.extend_select = list(data.get("extend-select", []))
    cfg.ignore = list(data.get("ignore", []))
    cfg.fail_on = data.get("fail-on")
    cfg.per_path_ignores = {glob: list(codes) for glob, codes in data.get("per-path-ignores", {}).items()}
    cfg.severity = dict(data.get("severity", {}))
    cfg.options = {code: dict(value) for code, value in data.get("options", {}).items()}
    if "cache-tables" in data:
        cfg.cache_tables = _tables(data["cache-tables"], _key(prefix, ["cache-tables"]), source, root)
    cfg.session_key = data.get("session-key")
    cfg.provider = data.get("provider")
    if "baseline" in data:
        cfg.baseline = _near(os.path.join(root, data["baseline"]), cwd)
    return cfg


# -- globs ------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=256)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    p = pattern.replace("\\", "/")
    while p.startswith("./"):
        p = p[2:]
    anchored = "/" in p.rstrip("/")
    p = p.strip("/")
    out = [] if anchored else ["(?:.*/)?"]
    i = 0
    while i < len(p):
        c = p[i]
        if p.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if p.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[" and "]" in p[i + 2:]:
            end = p.index("]", i + 2)
            body = p[i + 1:end]
            if body.startswith("!"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end + 1
            continue
        else:
            out.append(re.escape(c))
        i += 1
    # a glob that names a directory matches everything under it
    return re.compile("".join(out) + r"(?:/.*)?\Z")


def relative(file: str, root: str) -> str:
    """``file`` relative to ``root``, with '/' separators (what globs are matched against)."""
    absolute = os.path.abspath(file)
    try:
        rel = os.path.relpath(absolute, root)
    except ValueError:
        rel = absolute
    return rel.replace(os.sep, "/")


def glob_match(pattern: str, file: str, root: str) -> bool:
    """Does ``pattern`` (relative to ``root``) match ``file``?"""
    return _glob_regex(pattern).match(relative(file, root)) is not None


def any_match(patterns: Iterable[str], file: str, root: str) -> bool:
    rel = relative(file, root)
    return any(_glob_regex(p).match(rel) for p in patterns)


# -- showing ----------------------------------------------------------------------------------
KEYS = tuple(schema_key for schema_key in (
    "paths", "exclude", "select", "extend-select", "ignore", "fail-on", "per-path-ignores", "severity",
    "options", "cache-tables", "session-key", "provider", "baseline",
))
DEFAULTS: dict[str, Any] = {
    "paths": [], "exclude": [], "select": ["ALL"], "extend-select": [], "ignore": [], "fail-on": "error",
    "per-path-ignores": {}, "severity": {}, "options": {}, "cache-tables": None, "session-key": None,
    "provider": None, "baseline": None,
}


def effective(cfg: Config) -> dict[str, Any]:
    """What ``prefixlint config`` shows: every key with its value and where it came from."""
    keys = {}
    for key in KEYS:
        given = key in cfg.values
        keys[key] = {
            "value": cfg.values[key] if given else DEFAULTS[key],
            "from": cfg.source if given else "default",
        }
    return {"source": cfg.source, "root": cfg.root, "keys": keys}
