"""Render a harness into the requests it would send: a synthetic conversation, linted like a log.

Two sessions (on two different days) of ``TURNS`` requests each, ``GAP`` seconds apart (well within
every TTL). Each request resends the conversation so far and appends one exchange: the assistant
calls a tool (or answers, without tools) and the next user message carries its result, long enough
that the conversation soon passes every model's minimum cacheable length. Template variables get
values by their lifetime (``template.value_for``): per-request ones change on every request,
per-session ones between the sessions.

Every request carries a :class:`Rendering` that maps the JSON pointers of its body back to the
configuration (:meth:`Rendering.locate`), so that a finding of any rule is reported at the line
that causes it, deduplicated across the synthetic turns by the engine.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from prefixlint.diff import first_difference
from prefixlint.harness.loader import HarnessError, nearest
from prefixlint.harness.own import Harness, Place, Variable
from prefixlint.harness.template import SESSION_STARTS, Moment, names_on_line, source_line, value_for
from prefixlint.model import Origin, Record
from prefixlint.volatile import find_volatile

TURNS = 6
GAP = timedelta(seconds=20)
TASK_TOKENS = 4500  # the first user message (a task with the files it is about): every model's minimum is reached
RESULT_TOKENS = 1200  # a tool result (or a user message, without tools)
_RESERVED = {"model", "messages", "system", "tools", "input", "instructions", "cache_control"}
_WORDS = (
    "the", "build", "module", "reports", "compiled", "files", "and", "their", "warnings", "parser",
    "reads", "each", "entry", "from", "archive", "checks", "index", "before", "writing", "output",
    "cache", "layer", "keeps", "recent", "pages", "while", "worker", "threads", "drain", "queue",
)


@dataclass(slots=True)
class Rendering:
    """How one rendered request maps back to its configuration."""

    harness: Harness
    pointers: dict[str, tuple[Place, str | None]] = field(default_factory=dict)  # body pointer -> place, note
    breakpoints: dict[str, Place] = field(default_factory=dict)  # pointer of a block with cache_control
    ttls: dict[str, Place] = field(default_factory=dict)  # the same pointers -> the line setting their TTL
    unknown: list[Variable] = field(default_factory=list)  # variables of unknown lifetime
    constant: set[str] = field(default_factory=set)  # pointers whose volatile-looking value is literal text

    def is_constant(self, rule: Any, pointer: str | None) -> bool:
        """A volatile-value finding on text the configuration writes literally: it never changes."""
        if not rule.name.startswith("volatile-value") or pointer is None:
            return False
        return any(pointer == p or pointer.startswith(p + "/") for p in self.constant)

    def locate(self, rule: Any, pointer: str | None, key: str | None) -> tuple[Place, str | None]:
        """The place in the configuration a finding of ``rule`` at body ``pointer`` belongs to, and a
        note naming the template variable when one is the cause."""
        h = self.harness
        category = rule.category
        if category == "config" and key in h.variables:
            return h.variables[key].place, None
        if category in ("breakpoints", "ttl"):
            places = self.ttls if "ttl" in rule.name else self.breakpoints  # longer-ttl-after-shorter: the TTL's line
            note = _assumed(h) if "minimum" in rule.name else None  # a size finding on placeholder sizes
            return nearest(places, pointer) or _cache_place(h), note
        return nearest(self.pointers, pointer) or (h.place(""), None)


def _assumed(h: Harness) -> str | None:
    """What the rendering assumed for parts the configuration does not hold, or None."""
    parts = []
    if h.system is None and h.system_tokens:
        parts.append(f"a {h.system_tokens:,}-token system prompt")
    if not h.tools and h.placeholder_tools:
        parts.append(f"{h.placeholder_tools} tools of {h.tool_tokens:,} tokens")
    if not parts:
        return None
    return (f"the sizes are assumed ({' and '.join(parts)}, which the configuration does not hold): "
            "with a larger prompt this may not apply")


def _cache_place(h: Harness) -> Place:
    for pointer in ("/cache/strategy", "/cache"):
        if pointer in h.places:
            return h.places[pointer]
    return h.place("")


def render(h: Harness) -> Iterator[Record]:
    """The synthetic requests of ``h``, in the order they would be sent."""
    if h.provider == "openai" and h.breakpoints:
        raise HarnessError(
            "cache.breakpoints: OpenAI caches prefixes automatically and has no cache_control breakpoints",
            h.place("/cache/breakpoints").line,
        )
    for key in h.settings:
        if key in _RESERVED:
            raise HarnessError(f"settings.{key}: set by the harness itself, not a setting", h.place(f"/settings/{key}").line)
    label = h.name or "harness"
    root = h.place("")
    for session, start in enumerate(SESSION_STARTS, 1):
        previous: list[str] = []  # the system prompt the previous request of the session rendered
        for request in range(1, TURNS + 1):
            moment = Moment(session, request, start + GAP * (request - 1))
            info = Rendering(h)
            body = _body(h, moment, info, previous)
            yield Record(
                body=body,
                origin=Origin(root.file, line=root.line),
                timestamp=moment.time.isoformat().replace("+00:00", "Z"),
                session=f"{label} (synthetic session {session})",
                harness=info,
            )


def _values(h: Harness, moment: Moment, info: Rendering) -> dict[str, Any]:
    values = {}
    for name, var in h.variables.items():
        values[name] = value_for(name, var.lifetime, var.example, moment)
        if var.lifetime is None:
            info.unknown.append(var)
    return values


def _variable_note(var: Variable) -> str:
    how = "declared" if var.declared else "by its name"
    return f"the template variable `{var.name}` is {var.lifetime} ({how})"


def _system_place(h: Harness, rendered: str, previous: str | None) -> tuple[Place, str | None, bool]:
    """The line findings on the rendered system prompt point at: the template line where it differs
    from the previous request's, else the line of its first volatile value (a date, a timestamp),
    else the first variable that changes between conversations, else the 'system' key. With a note
    naming the cause, and whether the volatile-looking value is literal text of the template."""
    assert h.system is not None
    template = h.system.template
    changed = previous is not None and previous != rendered
    if changed:
        offsets = [first_difference(previous, rendered)]
    else:
        offsets = [v.start for v in find_volatile(rendered)]
    if not offsets:
        return (*_system_note(h), False)
    if template.syntax == "plain":
        return h.system.place_of_line(rendered.count("\n", 0, offsets[0])), None, not changed
    lines = [source_line(template, rendered, offset) for offset in offsets]
    for line in lines:  # the first value that comes from a variable that changes
        for name in names_on_line(template, line):
            var = h.variables.get(name)
            if var is not None and var.lifetime in ("per-request", "per-session"):
                return h.system.place_of_line(line), _variable_note(var), False
    if changed:
        return h.system.place_of_line(lines[0]), "this line of the template renders differently on every request", False
    return h.system.place_of_line(lines[0]), None, True  # volatile-looking text written in the template itself


def _system_note(h: Harness) -> tuple[Place, str | None]:
    """The first variable that changes within a conversation, else one that changes between
    conversations, else the 'system' key."""
    assert h.system is not None
    template = h.system.template
    for wanted in ("per-request", "per-session"):
        for name in template.names:
            var = h.variables.get(name)
            if var is not None and var.lifetime == wanted:
                return h.system.place_of(template.offsets[name]), _variable_note(var)
    return h.system.place, None


def _body(h: Harness, moment: Moment, info: Rendering, previous: list[str]) -> dict[str, Any]:
    values = _values(h, moment, info)
    anthropic = h.provider == "anthropic"
    body: dict[str, Any] = {"model": h.model}
    info.pointers["/model"] = (h.place("/model"), None)
    if anthropic:
        body["max_tokens"] = 4096
    # system prompt
    if h.system is not None:
        system_text = h.system.template.render(values)
        place, note, literal = _system_place(h, system_text, previous[0] if previous else None)
        previous[:] = [system_text]
        if literal:
            info.constant.add("/system" if anthropic else "/messages/0")
        system_place = (place, note)
    elif h.system_tokens:
        system_text = _filler("You are a careful assistant for the team's codebase.", h.system_tokens)
        system_place = (h.place("/assume"), "a placeholder system prompt (the configuration holds none)")
    else:
        system_text, system_place = "", (h.place(""), None)
    # tools
    tools = [dict(t.definition) for t in h.tools]
    tool_places = [t.place for t in h.tools]
    for i in range(h.placeholder_tools if not tools else 0):
        tools.append(_placeholder_tool(i, h.tool_tokens))
        tool_places.append(h.place("/assume/tools"))
    order_place = h.place("/tools")
    if h.tool_order == "sorted":
        paired = sorted(zip(tools, tool_places), key=lambda p: p[0].get("name", ""))
        tools, tool_places = [p[0] for p in paired], [p[1] for p in paired]
    unordered = [i for i, t in enumerate(h.tools) if t.unordered]
    if h.tool_order == "unordered" or unordered:
        if h.tool_order == "unordered":
            span, order_place = range(len(tools)), h.place("/tool_order")
        else:
            span, order_place = range(unordered[0], unordered[-1] + 1), h.tools[unordered[0]].place
        shift = (moment.request - 1) % max(1, len(span))
        moved = [tools[i] for i in span]
        moved = moved[shift:] + moved[:shift]  # another order on every request, as a set or a directory gives
        for i, tool in zip(span, moved):
            tools[i] = tool
    # conversation
    first_tool = (h.tools[0].definition if h.tools else tools[0] if tools else {}).get("name")
    messages = _conversation(moment, first_tool, anthropic)
    messages_place = h.place("/history") if h.window else _cache_place(h) if "/cache" in h.places else h.place("")
    if h.window and len(messages) > h.window:
        messages = messages[-h.window:]
        while messages and messages[0]["role"] != "user":
            messages = messages[1:]
        if anthropic and messages and isinstance(messages[0]["content"], list) and messages[0]["content"][0]["type"] == "tool_result":
            messages[0] = {"role": "user", "content": [{"type": "text", "text": "Continue with the task."}]}
    if anthropic:
        if system_text:
            body["system"] = [{"type": "text", "text": system_text}]
            info.pointers["/system"] = system_place
        if tools:
            body["tools"] = [_anthropic_tool(t) for t in tools]
        body["messages"] = messages
        info.pointers["/messages"] = (messages_place, None)
        _apply_cache(h, body, info)
    else:
        chat = [{"role": "system", "content": system_text}] if system_text else []
        if system_text:
            info.pointers["/messages/0"] = system_place
        body["messages"] = chat + messages
        info.pointers["/messages"] = (messages_place, None)
        if tools:
            body["tools"] = [_openai_tool(t) for t in tools]
        if h.prompt_cache_key is not None:
            body["prompt_cache_key"] = h.prompt_cache_key.render(values)
            info.pointers["/prompt_cache_key"] = (h.place("/cache/prompt_cache_key"), None)
        if h.retention:
            body["prompt_cache_retention"] = h.retention
            info.pointers["/prompt_cache_retention"] = (h.place("/cache/retention"), None)
    if tools:
        info.pointers["/tools"] = (order_place, None)
        for j, place in enumerate(tool_places):
            info.pointers[f"/tools/{j}"] = (order_place if order_place != h.place("/tools") else place, None)
    for key, value in h.settings.items():
        body[key] = value
        info.pointers[f"/{key}"] = (h.place(f"/settings/{key}"), None)
    return body


def _apply_cache(h: Harness, body: dict[str, Any], info: Rendering) -> None:
    if h.strategy == "automatic":
        body["cache_control"] = _control(h.ttl)
        info.breakpoints["/cache_control"] = info.ttls["/cache_control"] = _cache_place(h)
        return
    if h.strategy != "breakpoints":
        return
    messages = body["messages"]
    for bp in h.breakpoints:
        control = _control(bp.ttl or h.ttl)
        targets: list[tuple[dict[str, Any], str]] = []
        if bp.at == "tools" and body.get("tools"):
            targets.append((body["tools"][-1], f"/tools/{len(body['tools']) - 1}"))
        elif bp.at == "system" and body.get("system"):
            targets.append((body["system"][-1], f"/system/{len(body['system']) - 1}"))
        elif bp.at == "last-message" and messages:
            targets.append(_last_block(messages, len(messages) - 1))
        elif bp.at == "last-user-message":
            users = [i for i, m in enumerate(messages) if m["role"] == "user"]
            if users:
                targets.append(_last_block(messages, users[-1]))
        elif bp.at == "messages":
            for i, message in enumerate(messages):
                if bp.role is not None and message["role"] != bp.role:
                    continue
                if bp.index is not None and i != (bp.index if bp.index >= 0 else len(messages) + bp.index):
                    continue
                targets.append(_last_block(messages, i))
        for block, pointer in targets:
            block["cache_control"] = control
            info.breakpoints[pointer] = bp.place
            info.ttls[pointer] = bp.ttl_place


def _last_block(messages: list[dict[str, Any]], i: int) -> tuple[dict[str, Any], str]:
    content = messages[i]["content"]
    return content[-1], f"/messages/{i}/content/{len(content) - 1}"


def _control(ttl: str | None) -> dict[str, str]:
    return {"type": "ephemeral", "ttl": ttl} if ttl else {"type": "ephemeral"}


def _anthropic_tool(tool: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in tool.items() if k != "parameters"}
    if "input_schema" not in out:
        out["input_schema"] = tool.get("parameters") or {"type": "object", "properties": {}}
    return out


def _openai_tool(tool: dict[str, Any]) -> dict[str, Any]:
    function = {k: v for k, v in tool.items() if k not in ("input_schema", "cache_control")}
    if "parameters" not in function:
        function["parameters"] = tool.get("input_schema") or {"type": "object", "properties": {}}
    return {"type": "function", "function": function}


def _placeholder_tool(i: int, tokens: int) -> dict[str, Any]:
    return {
        "name": f"tool_{chr(ord('a') + i % 26)}{i // 26 or ''}",
        "description": _filler("A tool registered by the application at run time.", tokens),
        "input_schema": {"type": "object", "properties": {"query": {"type": "string"}}},
    }


def _filler(opening: str, tokens: int, seed: int = 0) -> str:
    """Plain prose of about ``tokens`` tokens (4 characters each), with no digit, date or id."""
    out = [opening]
    size = len(opening)
    i = seed
    while size < tokens * 4:
        words = [_WORDS[(i * 7 + k * 3) % len(_WORDS)] for k in range(12)]
        sentence = " ".join(words).capitalize() + "."
        out.append(sentence)
        size += len(sentence) + 1
        i += 1
    return " ".join(out)


def _conversation(moment: Moment, tool: str | None, anthropic: bool) -> list[dict[str, Any]]:
    """The messages of request ``moment.request``: the task, then one exchange per earlier request."""
    s = moment.session
    messages: list[dict[str, Any]] = [_user(anthropic, _filler("Please fix the failing tests in the parser module.", TASK_TOKENS, s))]
    for k in range(1, moment.request):
        note = _filler("I will look at the next part of the code.", 60, s * 31 + k)
        result = _filler("Output of the tool.", RESULT_TOKENS, s * 17 + k)
        call = f"call_{'ab'[s - 1]}{chr(ord('a') + k)}"
        if tool is None:
            messages.append(_assistant_text(anthropic, note))
            messages.append(_user(anthropic, result))
        elif anthropic:
            messages.append({"role": "assistant", "content": [
                {"type": "text", "text": note},
                {"type": "tool_use", "id": call, "name": tool, "input": {"step": k}},
            ]})
            messages.append({"role": "user", "content": [{"type": "tool_result", "tool_use_id": call, "content": result}]})
        else:
            messages.append({"role": "assistant", "content": note, "tool_calls": [
                {"id": call, "type": "function", "function": {"name": tool, "arguments": f'{{"step": {k}}}'}},
            ]})
            messages.append({"role": "tool", "tool_call_id": call, "content": result})
    return messages


def _user(anthropic: bool, text: str) -> dict[str, Any]:
    return {"role": "user", "content": [{"type": "text", "text": text}] if anthropic else text}


def _assistant_text(anthropic: bool, text: str) -> dict[str, Any]:
    return {"role": "assistant", "content": [{"type": "text", "text": text}] if anthropic else text}
