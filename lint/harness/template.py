"""Templates of a harness configuration: find their variables, render them for one request.

Four syntaxes, detected from the text unless declared: Jinja2 (``{{ name }}``, rendered in Jinja2's
sandbox), Python ``str.format`` fields (``{name}``, ``{now:%H:%M}``), ``%(name)s`` fields and
``${name}`` (``string.Template``). A template is rendered once per synthetic request with that
request's values (see :class:`Lifetimes`), so what changes between two requests of one conversation
is found by rendering, not only by the variable's name: a Jinja2 ``random`` filter or a
``{{ now().strftime(...) }}`` changes the text too.

Variables that are not declared get a lifetime from their name (:func:`lifetime_by_name`): clock
and id names are per-request, user and session names per-session; any other undeclared name has an
unknown lifetime, is rendered as a constant and reported (PL901).
"""

from __future__ import annotations

import re
import string
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from prefixlint.harness.loader import HarnessError

SYNTAXES = ("jinja", "format", "percent", "dollar", "plain")
LIFETIMES = ("static", "per-session", "per-request")

_CLOCK = {"now", "time", "datetime", "timestamp", "current_time", "current_datetime", "utcnow", "clock",
          "current_timestamp", "time_now", "now_iso", "local_time"}
_DATE = {"date", "today", "current_date", "day", "todays_date", "weekday", "date_today"}
_REQUEST = {"request_id", "requestid", "uuid", "nonce", "trace_id", "traceid", "span_id", "run_id",
            "message_id", "random", "seed", "call_id", "turn", "turn_id", "step", "iteration"}
_SESSION = {"user", "user_name", "username", "user_id", "userid", "session", "session_id", "sessionid",
            "conversation_id", "thread_id", "customer", "customer_id", "tenant", "tenant_id", "account",
            "account_id", "locale", "language", "timezone", "tz", "cwd", "workspace", "project",
            "repo", "repository", "branch", "git_branch", "os", "platform", "user_email", "email"}

_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)  # expressions, statements, comments
_DOLLAR = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_.]*\}")
_PERCENT = re.compile(r"%\((?P<name>[A-Za-z_][A-Za-z0-9_]*)\)[-#0 +]*\d*(?:\.\d+)?[sdifrxXeEgGc]")
_FORMAT = re.compile(r"(?<!\{)\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:[.\[][^{}]*)?(?:![rsa])?(?::[^{}]*)?\}(?!\})")


def lifetime_by_name(name: str) -> str | None:
    """The lifetime an undeclared variable has by its name, or None when the name says nothing."""
    key = name.lower()
    if key in _CLOCK or key in _REQUEST or key.endswith(("_time", "_timestamp", "_at", "request_id", "_nonce", "_uuid")):
        return "per-request"
    if key in _DATE or key.endswith("_date"):
        return "per-request"
    if key in _SESSION or key.endswith(("_user", "_user_id", "_session_id", "_conversation_id")):
        return "per-session"
    return None


def kind_by_name(name: str) -> str:
    """What kind of value a variable holds, for rendering: clock, date, id or text."""
    key = name.lower()
    if key in _DATE or key.endswith("_date"):
        return "date"
    if key in _CLOCK or key.endswith(("_time", "_timestamp", "_at")):
        return "clock"
    if key in _REQUEST or key.endswith(("_id", "request_id", "_nonce", "_uuid")):
        return "id"
    return "text"


def detect_syntax(text: str) -> str:
    if "{{" in text or "{%" in text:  # an unclosed one too: Jinja2 then says what is wrong
        return "jinja"
    if _DOLLAR.search(text):
        return "dollar"
    if _PERCENT.search(text):
        return "percent"
    if _FORMAT.search(text):
        return "format"
    return "plain"


@dataclass(slots=True)
class Template:
    text: str
    syntax: str
    names: list[str]  # variables in order of first use
    offsets: dict[str, int]  # name -> character offset of its first use
    _compiled: Any = None

    def render(self, values: dict[str, Any]) -> str:
        try:
            if self.syntax == "plain":
                return self.text
            if self.syntax == "jinja":
                return self._compiled.render(values)
            if self.syntax == "dollar":
                return string.Template(self.text).substitute({k: str(v) for k, v in values.items()})
            if self.syntax == "percent":
                return self.text % values
            return self.text.format_map(values)
        except HarnessError:
            raise
        except Exception as exc:  # noqa: BLE001 - any rendering error of the user's template
            raise HarnessError(f"the template cannot be rendered: {type(exc).__name__}: {exc}") from None


def compile_template(text: str, syntax: str | None = None) -> Template:
    """Parse ``text``; raise :class:`HarnessError` (with the line within the text) if it is invalid."""
    syntax = syntax or detect_syntax(text)
    offsets: dict[str, int] = {}
    compiled = None
    if syntax == "jinja":
        from jinja2 import TemplateSyntaxError, meta
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        env = ImmutableSandboxedEnvironment(keep_trailing_newline=True, autoescape=False)
        try:
            ast = env.parse(text)
            compiled = env.from_string(text)
        except TemplateSyntaxError as exc:
            raise HarnessError(f"invalid Jinja2 template: {exc.message}", exc.lineno) from None
        names = meta.find_undeclared_variables(ast)
        for name in names:
            found = re.search(rf"(?<![A-Za-z0-9_.]){re.escape(name)}(?![A-Za-z0-9_])", _code_only(text))
            offsets[name] = found.start() if found else 0
    elif syntax == "dollar":
        for m in re.finditer(r"\$(?:\{(?P<b>[A-Za-z_][A-Za-z0-9_]*)\}|(?P<n>[A-Za-z_][A-Za-z0-9_]*))", text):
            offsets.setdefault(m.group("b") or m.group("n"), m.start())
    elif syntax == "percent":
        for m in _PERCENT.finditer(text):
            offsets.setdefault(m.group("name"), m.start())
    elif syntax == "format":
        try:
            parsed = list(string.Formatter().parse(text))
        except ValueError as exc:
            raise HarnessError(f"invalid format template: {exc}") from None
        position = 0
        for literal, field, _spec, _conv in parsed:
            position += len(literal)
            if field is None:
                continue
            if not field or field.isdigit():
                raise HarnessError("a format template needs named fields ({name}), not positional ones")
            name = re.split(r"[.\[]", field, maxsplit=1)[0]
            offsets.setdefault(name, text.find("{" + field, position))
            position = max(position, text.find("}", position) + 1)
    names = sorted(offsets, key=lambda n: (offsets[n], n))
    return Template(text, syntax, names, offsets, compiled)


_EXPRESSIONS = {
    "jinja": _JINJA,
    "format": re.compile(r"\{[^{}]*\}"),
    "percent": re.compile(r"%\([A-Za-z_][A-Za-z0-9_]*\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]"),
    "dollar": re.compile(r"\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*"),
}


def source_line(template: Template, rendered: str, offset: int) -> int:
    """The 0-based line of ``template`` that produced character ``offset`` of ``rendered``: the
    template line whose literal text all appears on the rendered line, nearest to the same line
    number (blocks and multi-line values can shift lines)."""
    index = rendered.count("\n", 0, offset)
    lines = rendered.split("\n")
    target = lines[index] if index < len(lines) else ""
    pattern = _EXPRESSIONS.get(template.syntax)
    best: tuple[int, int] | None = None
    for i, line in enumerate(template.text.split("\n")):
        parts = [p.strip() for p in (pattern.split(line) if pattern else [line])]
        parts = [p for p in parts if p]
        if parts and all(p in target for p in parts):
            score = (abs(i - index), i)
            if best is None or score < best:
                best = score
    return best[1] if best is not None else min(index, template.text.count("\n"))


def names_on_line(template: Template, index: int) -> list[str]:
    """The variables used on the template's line ``index``, in order."""
    line = template.text.split("\n")[index] if index <= template.text.count("\n") else ""
    pattern = _EXPRESSIONS.get(template.syntax)
    code = " ".join(pattern.findall(line)) if pattern else ""
    found = [(m.start(), name) for name in template.names
             if (m := re.search(rf"(?<![A-Za-z0-9_.]){re.escape(name)}(?![A-Za-z0-9_])", code))]
    return [name for _, name in sorted(found)]


def _code_only(text: str) -> str:
    """The text with everything outside ``{{ }}``/``{% %}`` blanked (offsets kept; comments too)."""
    out = [" "] * len(text)
    for m in _JINJA.finditer(text):
        if not m.group().startswith("{#"):
            out[m.start():m.end()] = m.group()
    return "".join(out)


# -- values ------------------------------------------------------------------------------------

class Clock(datetime):
    """A datetime that is also callable (``{{ now() }}`` and ``{{ now }}`` both work)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Clock:
        return self

    def __str__(self) -> str:
        return self.isoformat(timespec="seconds")


class Text(str):
    """A string that is also callable (``{{ request_id() }}``)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Text:
        return self


@dataclass(slots=True)
class Moment:
    """Which synthetic request is being rendered."""

    session: int  # 1-based
    request: int  # 1-based within the session
    time: datetime  # when it is sent (UTC)


def value_for(name: str, lifetime: str | None, example: Any, moment: Moment) -> Any:
    """The value of variable ``name`` in the request ``moment`` (an unknown lifetime: constant)."""
    kind = kind_by_name(name)
    if lifetime in (None, "static"):
        return example if example is not None else _constant(name, kind, moment)
    if lifetime == "per-session":
        return _varying(name, kind, example, f"s{moment.session}", _session_start(moment))
    return _varying(name, kind, example, f"s{moment.session}r{moment.request}", moment.time)


def _session_start(moment: Moment) -> datetime:
    return SESSION_STARTS[(moment.session - 1) % len(SESSION_STARTS)]


def _constant(name: str, kind: str, moment: Moment) -> Any:
    if kind in ("clock", "date"):
        return _varying(name, kind, None, "static", SESSION_STARTS[0])
    return Text(f"<{name}>")


def _varying(name: str, kind: str, example: Any, tag: str, at: datetime) -> Any:
    if kind == "clock":
        return Clock(at.year, at.month, at.day, at.hour, at.minute, at.second, tzinfo=timezone.utc)
    if kind == "date":
        return Text(at.date().isoformat())
    if kind == "id":
        return Text(str(uuid.uuid5(uuid.NAMESPACE_URL, f"prefixlint:{name}:{tag}")))
    base = example if example is not None else name
    return Text(f"{base} ({tag})")


# When the synthetic sessions start: two days, so that a date changes between them.
SESSION_STARTS = (
    datetime(2026, 1, 5, 9, 0, 0, tzinfo=timezone.utc),
    datetime(2026, 1, 6, 14, 30, 0, tzinfo=timezone.utc),
)
