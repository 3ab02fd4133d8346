#!/usr/bin/env python3
"""Generate a large, realistic and *clean* agent request log for benchmarks.

    python tests/bench/generate.py OUT.jsonl --size-mb 300 [--seed 1] [--gzip]

or, from Python, ``generate(path, size_mb, seed=1)``.

One JSON record per line, each an envelope::

    {"timestamp": "<ISO 8601 UTC>", "session": "<id>", "request": <body>,
     "response": {"usage": {...}}}

What is in it:

- Agent conversations (about 70% Anthropic Messages, 30% OpenAI Chat Completions bodies),
  8-30 of them alive at any time, each 10-150 turns long and growing to 100-600 KB per request;
  new ones start as old ones finish. Anthropic bodies carry a static system prompt with a
  ``cache_control`` breakpoint and ONE rolling breakpoint on the last content block of the last
  message (moved forward every turn).
- Subagent conversations, spawned by a ``Task`` tool call: shorter system prompt, a subset of
  the tools, their own task message.
- One-off side calls: a title request after each conversation's first turn and occasional
  summary requests (small system prompt, one message, no tools, no breakpoint).

The log is correct: every request of a conversation re-sends the previous request's messages
byte for byte (same key order) and appends the new ones; the gap between two requests of one
conversation stays well under the 5 minute cache TTL; system prompts and tool definitions
contain no digits at all (so no dates, uuids or hex ids). A correct linter reports nothing.

Each conversation, subagent and side call has its own ``session`` value (subagents and side
calls derive theirs from their parent's). Deterministic for a given seed; the log of a smaller
size is a byte prefix of the log of a larger size with the same seed. Memory use is bounded by
the live conversations (a few tens of MB), never by the size of the log. ``MB`` is 10**6 bytes.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import gzip
import math
import random
import string
import sys
import time
from pathlib import Path

try:
    import orjson

    def _dumps(obj: object) -> bytes:
        return orjson.dumps(obj)

except ImportError:  # pragma: no cover - orjson is a project dependency
    import json

    def _dumps(obj: object) -> bytes:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


MB = 1_000_000
_START = _dt.datetime(2025, 11, 3, 9, 0, 0, tzinfo=_dt.timezone.utc)
_ALNUM = string.ascii_letters + string.digits
_TTL_MS = 300_000  # 5 minute ephemeral cache
_STALE_MS = 150_000  # a conversation idle this long is served next (keeps gaps < TTL)
_MAX_ACTIVE = 60  # main conversations + subagents
_EPHEMERAL = {"type": "ephemeral"}

# Plain words for prompts and prose. System prompts and tool descriptions are built only from
# these (no digits), so they can never contain a date, a uuid or a hex id.
_WORDS = """
the a an and or but if when while before after during until because although unless so then
also only always never often usually carefully clearly briefly exactly directly instead rather
you your we our it its this that these those each every any all some most other another same
agent assistant user developer engineer reviewer maintainer operator team project repository
code file files directory folder module package function method class object value variable
test tests suite fixture assertion failure error warning exception traceback message output
input argument parameter option setting configuration default environment dependency library
command shell terminal process script build release branch commit change changes patch diff
review request response result results report summary plan step steps task tasks goal context
history conversation turn tool tools call calls schema field fields key keys list lists string
number boolean array map record records line lines path paths name names type types interface
read write edit search find open close create remove rename move copy run check verify compare
explain describe summarize prefer avoid keep use make ensure confirm ask answer follow respect
should must may can will would could might need needs want wants try tries help helps
small large short long simple complex clear precise careful safe unsafe correct wrong existing
new old current previous next first last local remote public private internal external stable
important relevant useful necessary possible likely unlikely obvious hidden explicit implicit
style format convention pattern structure design architecture layer boundary contract behaviour
performance memory speed cost budget limit scope focus detail details example examples note
documentation comment comments docstring readme guide guidelines policy rule rules principle
security secret secrets credential credentials permission permissions access token tokens
network server client service endpoint query queries cache caching prefix suffix order sorted
user's project's team's without within between across above below around inside outside
minimal thorough concise verbose quiet honest direct polite professional technical practical
""".split()

# Never let a prompt word look like hex or like a date/time reference.
_WORDS = [
    w
    for w in _WORDS
    if not (len(w) >= 4 and set(w) <= set("abcdef"))
    and w not in {"today", "date", "time", "now", "uuid", "timestamp", "yesterday"}
]

_IDENTS = """
parse load save fetch build render apply merge split join flush reset update compute resolve
config client session handler worker queue buffer record entry item node tree graph index cache
token prompt block thread turn diff rule finding report source provider schema model usage user
path name value count size limit offset total state status result error reader writer stream
""".split()

_DIRS = ["src", "lib", "app", "core", "api", "utils", "tests", "scripts", "docs", "pkg"]
_EXTS = [".py", ".ts", ".go", ".rs", ".js", ".md", ".toml", ".yaml"]


def _title(s: str) -> str:
    return s[:1].upper() + s[1:]


class _Text:
    """Random text built once from the seed; later chunks are cheap slices of big pools."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.prose = self._pool(self._prose_line, 700_000)
        self.code = self._pool(self._code_line, 1_200_000)
        self.logs = self._pool(self._log_line, 700_000)

    # -- words -------------------------------------------------------------------------------
    def sentence(self, lo: int = 6, hi: int = 18) -> str:
        rng = self.rng
        words = rng.choices(_WORDS, k=rng.randint(lo, hi))
        return _title(" ".join(words)) + rng.choice("....!?")[0]

    def paragraph(self, lo: int = 2, hi: int = 6) -> str:
        return " ".join(self.sentence() for _ in range(self.rng.randint(lo, hi)))

    def phrase(self, lo: int = 3, hi: int = 7) -> str:
        return _title(" ".join(self.rng.choices(_WORDS, k=self.rng.randint(lo, hi))))

    def ident(self) -> str:
        rng = self.rng
        return "_".join(rng.choices(_IDENTS, k=rng.randint(1, 3)))

    def path(self) -> str:
        rng = self.rng
        parts = [rng.choice(_DIRS)] + [rng.choice(_IDENTS) for _ in range(rng.randint(0, 2))]
        return "/".join(parts) + "/" + self.ident() + rng.choice(_EXTS)

    # -- pools -------------------------------------------------------------------------------
    def _pool(self, line_fn, size: int) -> str:
        lines: list[str] = []
        n = 0
        while n < size:
            line = line_fn()
            lines.append(line)
            n += len(line) + 1
        return "\n".join(lines) + "\n"

    def _prose_line(self) -> str:
        rng = self.rng
        r = rng.random()
        if r < 0.15:
            return f"- {self.sentence(4, 12)} See `{self.path()}`."
        if r < 0.2:
            return ""
        if r < 0.25:
            return f"The value was {rng.randint(0, 99999)} after {rng.randint(1, 500)} ms on try {rng.randint(1, 9)}."
        return self.paragraph(1, 3)

    def _code_line(self) -> str:
        rng = self.rng
        ind = "    " * rng.choice((0, 1, 1, 2, 2, 2, 3))
        r = rng.random()
        a, b, c = self.ident(), self.ident(), self.ident()
        if r < 0.12:
            return f"{ind}def {a}(self, {b}: str, {c}: int = {rng.randint(0, 64)}) -> dict:"
        if r < 0.2:
            return f"{ind}# {self.sentence(4, 10)}"
        if r < 0.3:
            return f"{ind}if {a} is None or len({b}) > {rng.randint(1, 4096)}:"
        if r < 0.4:
            return f'{ind}raise ValueError(f"bad {a}: {{{b}!r}}")'
        if r < 0.48:
            return f"{ind}for {a} in {b}.{c}():"
        if r < 0.55:
            return f"{ind}return {{\"{a}\": {b}, \"{c}\": [x for x in {a} if x]}}"
        if r < 0.6:
            return f"from {rng.choice(_DIRS)}.{a} import {b}, {c}"
        if r < 0.64:
            return f"class {_title(a.replace('_', ''))}({_title(b.replace('_', ''))}):"
        if r < 0.68:
            return ""
        return f"{ind}{a} = self.{b}.{c}({self.ident()}, timeout={rng.randint(1, 120)})"

    def _log_line(self) -> str:
        rng = self.rng
        r = rng.random()
        if r < 0.2:
            status = rng.choice(("PASSED", "PASSED", "PASSED", "FAILED", "SKIPPED"))
            return f"tests/test_{self.ident()}.py::test_{self.ident()} {status} [{rng.randint(0, 100):3d}%]"
        if r < 0.3:
            h = "%040x" % rng.getrandbits(160)
            day = _START - _dt.timedelta(minutes=rng.randint(0, 500_000))
            return f"commit {h}\nAuthor: Dev {_title(rng.choice(_IDENTS))} <dev@example.org>\nDate:   {day:%a %b %d %H:%M:%S %Y} +0000\n\n    {self.sentence(3, 9)}"
        if r < 0.5:
            return f"{self.path()}:{rng.randint(1, 2000)}:{self._code_line()}"
        if r < 0.6:
            return f"-rw-r--r--  1 dev dev {rng.randint(0, 90000):6d} Nov {rng.randint(1, 28):2d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d} {self.path()}"
        if r < 0.68:
            return f'  File "{self.path()}", line {rng.randint(1, 900)}, in {self.ident()}'
        if r < 0.72:
            return f"{_title(self.ident())}Error: {self.sentence(3, 8)}"
        if r < 0.8:
            return f"[{rng.randint(0, 9999)}/{rng.randint(0, 9999)}] {self.phrase()} ... ok"
        return self._prose_line()

    def chunk(self, pool: str, n: int) -> str:
        """About n characters of the pool, starting at a line start."""
        n = max(1, min(n, len(pool) // 2))
        i = self.rng.randrange(0, len(pool) - n - 1)
        j = pool.find("\n", i) + 1
        while pool[j] == "\n":
            j += 1
        return pool[j : j + n]


# ---------------------------------------------------------------------------------------------
# Static prompts and tools (built from words only: no digits anywhere)


def _system_prompt(text: _Text, opening: str, target: int) -> str:
    sections = ["Tone and style", "Doing tasks", "Using tools", "Code changes", "Testing",
                "Version control", "Security", "Asking questions", "Reporting results",
                "Working with files", "Long tasks", "Conventions of this project"]
    out = [opening, ""]
    size = len(opening)
    i = 0
    while size < target:
        title = sections[i % len(sections)]
        if i >= len(sections):
            title += " (" + text.phrase(1, 3).lower() + ")"
        block = [f"# {title}", text.paragraph(2, 5), ""]
        for _ in range(text.rng.randint(2, 7)):
            block.append("- " + text.sentence(6, 20))
        block.append("")
        chunk = "\n".join(block)
        out.append(chunk)
        size += len(chunk) + 1
        i += 1
    return "\n".join(out).strip() + "\n"


def _desc(text: _Text, opening: str, lo: int, hi: int) -> str:
    target = text.rng.randint(lo, hi)
    parts = [opening]
    size = len(opening)
    while size < target:
        s = text.sentence(8, 20)
        parts.append(s)
        size += len(s) + 1
    return " ".join(parts)


def _tool_specs(text: _Text) -> list[dict]:
    def prop(t: str, opening: str, **extra: object) -> dict:
        return {"type": t, "description": text.phrase(6, 14) + ". " + opening, **extra}

    def spec(name: str, opening: str, props: dict, required: list[str]) -> dict:
        return {
            "name": name,
            "description": _desc(text, opening, 300, 1500),
            "input_schema": {
                "type": "object",
                "properties": props,
                "required": required,
                "additionalProperties": False,
            },
        }

    return [
        spec("Bash", "Runs a shell command in a persistent session and returns its output.",
             {"command": prop("string", "The command to run."),
              "description": prop("string", "What the command does, in a few words."),
              "timeout": prop("integer", "Optional timeout in milliseconds.")}, ["command"]),
        spec("Read", "Reads a file from the local filesystem.",
             {"file_path": prop("string", "Absolute path of the file."),
              "offset": prop("integer", "Line to start reading from."),
              "limit": prop("integer", "How many lines to read.")}, ["file_path"]),
        spec("Write", "Writes a file to the local filesystem, replacing any existing content.",
             {"file_path": prop("string", "Absolute path of the file."),
              "content": prop("string", "The full new content.")}, ["file_path", "content"]),
        spec("Edit", "Replaces an exact string in a file with another string.",
             {"file_path": prop("string", "Absolute path of the file."),
              "old_string": prop("string", "The exact text to replace."),
              "new_string": prop("string", "The replacement text."),
              "replace_all": prop("boolean", "Replace every occurrence.")},
             ["file_path", "old_string", "new_string"]),
        spec("Grep", "Searches file contents with a regular expression.",
             {"pattern": prop("string", "The regular expression."),
              "path": prop("string", "File or directory to search."),
              "output_mode": prop("string", "What to print.",
                                  enum=["content", "files_with_matches", "count"])}, ["pattern"]),
        spec("Glob", "Finds files by name pattern.",
             {"pattern": prop("string", "The glob pattern."),
              "path": prop("string", "Directory to search in.")}, ["pattern"]),
        spec("Task", "Starts a subagent that works on a task on its own and reports back.",
             {"description": prop("string", "A short label for the task."),
              "prompt": prop("string", "The full task for the subagent."),
              "subagent_type": prop("string", "Which kind of subagent to start.")},
             ["description", "prompt"]),
        spec("WebFetch", "Fetches a web page and answers a question about it.",
             {"url": prop("string", "The address to fetch."),
              "prompt": prop("string", "What to look for.")}, ["url", "prompt"]),
        spec("TodoWrite", "Replaces the task list of the current session.",
             {"todos": {"type": "array", "description": text.phrase(6, 12) + ".",
                        "items": {"type": "object",
                                  "properties": {"content": prop("string", "The task."),
                                                 "status": prop("string", "Progress.",
                                                                enum=["pending", "in_progress", "completed"])},
                                  "required": ["content", "status"]}}}, ["todos"]),
        spec("LS", "Lists the entries of a directory.",
             {"path": prop("string", "Absolute path of the directory."),
              "ignore": {"type": "array", "items": {"type": "string"},
                         "description": "Glob patterns to leave out."}}, ["path"]),
    ]


_MAIN_WEIGHTS = {"Bash": 30, "Read": 25, "Edit": 12, "Grep": 10, "Glob": 5, "Write": 4,
                 "TodoWrite": 5, "WebFetch": 3, "LS": 3, "Task": 2}
_SUB_TOOLS = ("Bash", "Read", "Grep", "Glob", "LS")


class _Family:
    """The static part of a kind of request: model, system prompt, tools."""

    def __init__(self, provider: str, model: str, system_text: str, tools: list[dict],
                 max_tokens: int = 4096, breakpoint: bool = True) -> None:
        self.provider = provider
        self.tool_names = [t["name"] for t in tools]
        self.weights = [_MAIN_WEIGHTS[n] for n in self.tool_names]
        self.last_used_ms = -(10**12)
        m = _dumps(model)
        if provider == "anthropic":
            block: dict = {"type": "text", "text": system_text}
            if breakpoint:
                block["cache_control"] = _EPHEMERAL
            head = b'{"model":' + m + b',"max_tokens":' + str(max_tokens).encode()
            head += b',"system":' + _dumps([block])
            if tools:
                head += b',"tools":' + _dumps(tools)
            self.head = head + b',"messages":['
            self.tail = b"]}"
        else:
            oa_tools = [{"type": "function", "function": {"name": t["name"],
                                                          "description": t["description"],
                                                          "parameters": t["input_schema"]}}
                        for t in tools]
            self.head = (b'{"model":' + m + b',"messages":['
                         + _dumps({"role": "system", "content": system_text}) + b",")
            self.tail = b"]" + (b',"tools":' + _dumps(oa_tools) if tools else b"") + b"}"
        self.static_tokens = (len(self.head) + len(self.tail)) // 4

    def warm(self, now_ms: int) -> bool:
        return now_ms - self.last_used_ms < _TTL_MS


# ---------------------------------------------------------------------------------------------
# Conversations


class _Conv:
    """One agent conversation (main or subagent), append-only."""

    def __init__(self, g: "_Gen", fam: _Family, session: str, turns: int, growth: int,
                 first_text: str, is_main: bool) -> None:
        self.g = g
        self.fam = fam
        self.anthropic = fam.provider == "anthropic"
        self.session = _dumps(session)
        self.session_str = session
        self.turns = turns
        self.growth = growth
        self.is_main = is_main
        self.k = 0
        self.blob = bytearray()  # serialized messages before the last one, each + b","
        self.last: dict | None = None
        if self.anthropic:
            self.pending = [{"role": "user", "content": [{"type": "text", "text": first_text}]}]
        else:
            self.pending = [{"role": "user", "content": first_text}]
        self.first_text = first_text
        self.prev_tokens = 0
        self.last_ms = 0
        self.done = False
        self.n_sub = 0
        self.n_side = 0

    def emit(self, now_ms: int) -> bytes:
        g, fam, rng = self.g, self.fam, self.g.rng
        if self.last is not None:
            self.blob += _dumps(self.last) + b","
        for m in self.pending[:-1]:
            self.blob += _dumps(m) + b","
        self.last = self.pending[-1]
        if self.anthropic:
            content = self.last["content"]
            marked = dict(self.last)
            marked["content"] = content[:-1] + [{**content[-1], "cache_control": _EPHEMERAL}]
            last = _dumps(marked)
        else:
            last = _dumps(self.last)
        total = (len(fam.head) + len(self.blob) + len(last) + len(fam.tail)) // 4

        final = self.k + 1 >= self.turns
        self.pending, out_tokens = self._respond(final)
        out_tokens += rng.randint(0, 80)

        if self.k == 0:
            read = fam.static_tokens if fam.warm(now_ms) else 0
        else:
            read = self.prev_tokens
        if self.anthropic:
            inp = rng.randint(1, 6)
            usage = {"input_tokens": inp, "cache_creation_input_tokens": total - read - inp,
                     "cache_read_input_tokens": read, "output_tokens": out_tokens}
            self.prev_tokens = total - inp
        else:
            cached = (read // 128) * 128 if read >= 1024 else 0
            usage = {"prompt_tokens": total, "prompt_tokens_details": {"cached_tokens": cached},
                     "completion_tokens": out_tokens}
            self.prev_tokens = total
        fam.last_used_ms = now_ms
        self.last_ms = now_ms
        self.k += 1
        self.done = final
        return b"".join((g.envelope_head(now_ms, self.session), fam.head, self.blob, last,
                         fam.tail, b',"response":{"usage":', _dumps(usage), b"}}\n"))

    # -- the model's reply, and what the next request appends --------------------------------
    def _respond(self, final: bool) -> tuple[list[dict], int]:
        rng, text = self.g.rng, self.g.text
        if final or rng.random() < 0.06:
            reply = text.chunk(text.prose, rng.randint(150, 1500))
            if final:
                return [], len(reply) // 4
            follow = "Thanks. " + text.chunk(text.prose, rng.randint(60, 900))
            if self.anthropic:
                msgs = [{"role": "assistant", "content": [{"type": "text", "text": reply}]},
                        {"role": "user", "content": [{"type": "text", "text": follow}]}]
            else:
                msgs = [{"role": "assistant", "content": reply},
                        {"role": "user", "content": follow}]
            return msgs, len(reply) // 4

        n_calls = rng.choices((1, 2, 3), (60, 30, 10))[0]
        calls = []
        for _ in range(n_calls):
            name = rng.choices(self.fam.tool_names, self.fam.weights)[0]
            calls.append((name, self._input(name)))
        per_result = self.growth / n_calls
        results = [self._result(name, inp, per_result) for name, inp in calls]
        say = text.chunk(text.prose, rng.randint(40, 600)) if rng.random() < 0.8 else None

        if self.anthropic:
            blocks: list[dict] = [{"type": "text", "text": say}] if say else []
            out_blocks = []
            for (name, inp), res in zip(calls, results):
                cid = "toolu_" + "".join(rng.choices(_ALNUM, k=24))
                blocks.append({"type": "tool_use", "id": cid, "name": name, "input": inp})
                out_blocks.append({"type": "tool_result", "tool_use_id": cid, "content": res})
            assistant = {"role": "assistant", "content": blocks}
            msgs = [assistant, {"role": "user", "content": out_blocks}]
        else:
            tcs, tool_msgs = [], []
            for (name, inp), res in zip(calls, results):
                cid = "call_" + "".join(rng.choices(_ALNUM, k=24))
                tcs.append({"id": cid, "type": "function",
                            "function": {"name": name, "arguments": _dumps(inp).decode()}})
                tool_msgs.append({"role": "tool", "tool_call_id": cid, "content": res})
            assistant = {"role": "assistant", "content": say, "tool_calls": tcs}
            msgs = [assistant] + tool_msgs
        return msgs, len(_dumps(assistant)) // 4

    def _input(self, name: str) -> dict:
        rng, text = self.g.rng, self.g.text
        root = "/home/dev/" + rng.choice(_IDENTS)
        if name == "Bash":
            cmd = rng.choice(("pytest -q {p}", "git diff {p}", "git log -n 5 -- {p}", "ls -la {d}",
                              "python -m {m} --check {p}", "grep -rn {w} {d}", "make test",
                              "cat {p} | head -n 80", "ruff check {p}"))
            cmd = cmd.format(p=text.path(), d=rng.choice(_DIRS), m=text.ident(), w=text.ident())
            return {"command": cmd, "description": text.phrase(2, 6)}
        if name == "Read":
            inp: dict = {"file_path": f"{root}/{text.path()}"}
            if rng.random() < 0.3:
                inp["offset"] = rng.randint(1, 800)
                inp["limit"] = rng.choice((100, 200, 400))
            return inp
        if name == "Write":
            return {"file_path": f"{root}/{text.path()}",
                    "content": text.chunk(text.code, rng.randint(200, 2500))}
        if name == "Edit":
            return {"file_path": f"{root}/{text.path()}",
                    "old_string": text.chunk(text.code, rng.randint(30, 400)),
                    "new_string": text.chunk(text.code, rng.randint(30, 500))}
        if name == "Grep":
            return {"pattern": text.ident() + rng.choice(("", r"\(", r"\s*=", ".*")),
                    "path": rng.choice(_DIRS), "output_mode": "content"}
        if name == "Glob":
            return {"pattern": f"{rng.choice(_DIRS)}/**/*{rng.choice(_EXTS)}"}
        if name == "Task":
            return {"description": text.phrase(2, 5),
                    "prompt": text.chunk(text.prose, rng.randint(300, 1500)),
                    "subagent_type": "general-purpose"}
        if name == "WebFetch":
            return {"url": f"https://docs.example.org/{text.ident()}/{text.ident()}",
                    "prompt": text.sentence(5, 12)}
        if name == "TodoWrite":
            return {"todos": [{"content": text.phrase(3, 8),
                               "status": rng.choice(("pending", "in_progress", "completed"))}
                              for _ in range(rng.randint(2, 6))]}
        return {"path": f"{root}/{rng.choice(_DIRS)}"}

    def _result(self, name: str, inp: dict, mean: float) -> str:
        rng, text = self.g.rng, self.g.text
        n = int(min(8192, max(200, mean * math.exp(rng.gauss(-0.125, 0.5)))))
        if name == "Task":
            self.g.spawn_subagent(self, inp["prompt"])
            return text.chunk(text.prose, n)
        if name in ("Read", "Write", "Edit"):
            return text.chunk(text.code, n)
        if name in ("Bash", "Grep", "Glob", "LS"):
            return text.chunk(text.logs, n)
        return text.chunk(text.prose, n)


class _Gen:
    def __init__(self, seed: int) -> None:
        self.rng = rng = random.Random(seed)
        self.text = text = _Text(rng)
        tools = _tool_specs(text)
        sub_tools = [t for t in tools if t["name"] in _SUB_TOOLS]
        openings = (
            "You are an interactive coding agent. You help the user with software engineering "
            "tasks in their repository, using the tools described below.",
            "You are a careful software engineering assistant working inside the user's "
            "repository. Use the tools below to inspect, change and test code.",
            "You are an autonomous developer agent. You plan, edit and verify changes in the "
            "user's project with the tools available to you.",
        )
        self.main = {
            "anthropic": [_Family("anthropic", "claude-sonnet-4-5",
                                  _system_prompt(text, o, rng.randint(8_000, 20_000)), tools)
                          for o in openings],
            "openai": [_Family("openai", "gpt-5",
                               _system_prompt(text, o, rng.randint(8_000, 20_000)), tools)
                       for o in openings[:2]],
        }
        sub_open = ("You are a subagent started by a coding agent. Do the task you are given with "
                    "the tools below and end with a concise report of what you found.")
        self.sub = {
            "anthropic": _Family("anthropic", "claude-sonnet-4-5",
                                 _system_prompt(text, sub_open, rng.randint(4_500, 6_500)), sub_tools),
            "openai": _Family("openai", "gpt-5",
                              _system_prompt(text, sub_open, rng.randint(4_500, 6_500)), sub_tools),
        }
        self.title_fam = _Family(
            "anthropic", "claude-haiku-4-5",
            "You write short titles for coding conversations. Reply with a title of at most "
            "eight words and nothing else.", [], max_tokens=64, breakpoint=False)
        self.summary_fam = _Family(
            "anthropic", "claude-haiku-4-5",
            "You summarize an excerpt of a coding agent conversation for the user. Keep the "
            "summary short, factual and in plain sentences.", [], max_tokens=1024,
            breakpoint=False)
        self.active: list[_Conv] = []
        self.side_todo: list[tuple[_Family, str, str]] = []  # side calls due next
        self.n_main = 0
        self.stats = {"records": 0, "bytes": 0, "conversations": 0, "subagents": 0,
                      "side_calls": 0, "anthropic": 0, "openai": 0}

    # -- envelope -----------------------------------------------------------------------------
    def envelope_head(self, now_ms: int, session: bytes) -> bytes:
        t = _START + _dt.timedelta(milliseconds=now_ms)
        ts = f"{t:%Y-%m-%dT%H:%M:%S}.{now_ms % 1000:03d}Z"
        return b'{"timestamp":"' + ts.encode() + b'","session":' + session + b',"request":'

    def _session_id(self) -> str:
        h = "%032x" % self.rng.getrandbits(128)
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    # -- conversations ------------------------------------------------------------------------
    def start_main(self) -> None:
        rng, text = self.rng, self.text
        # Keep about a third of the live main conversations on OpenAI, so that about 30% of
        # all requests (side calls and most subagents are Anthropic) are OpenAI bodies.
        n_openai = sum(1 for c in self.active if c.is_main and not c.anthropic)
        provider = "openai" if n_openai + rng.random() < 0.33 * (self.n_main + 1) else "anthropic"
        fam = rng.choice(self.main[provider])
        turns = int(math.exp(rng.uniform(math.log(10), math.log(150))))
        target = rng.uniform(100_000, 600_000)
        growth = int(min(16_000, max(700, (target - len(fam.head)) / turns)))
        first = (f"In the repository at /home/dev/{rng.choice(_IDENTS)}: "
                 + text.chunk(text.prose, rng.randint(150, 1500)))
        self.active.append(_Conv(self, fam, self._session_id(), turns, growth, first, True))
        self.n_main += 1
        self.stats["conversations"] += 1

    def spawn_subagent(self, parent: _Conv, prompt: str) -> None:
        if len(self.active) >= _MAX_ACTIVE:
            return
        rng = self.rng
        parent.n_sub += 1
        fam = self.sub[parent.fam.provider]
        session = f"{parent.session_str}-agent-{parent.n_sub}"
        turns = rng.randint(4, 25)
        growth = rng.randint(1_500, 6_000)
        self.active.append(_Conv(self, fam, session, turns, growth, prompt, False))
        self.stats["subagents"] += 1

    def side_call(self, fam: _Family, session: str, content: str, now_ms: int) -> bytes:
        rng = self.rng
        msg = {"role": "user", "content": [{"type": "text", "text": content}]}
        body = fam.head + _dumps(msg) + fam.tail
        out = rng.randint(8, 20) if fam is self.title_fam else rng.randint(60, 300)
        usage = {"input_tokens": len(body) // 4, "cache_creation_input_tokens": 0,
                 "cache_read_input_tokens": 0, "output_tokens": out}
        self.stats["side_calls"] += 1
        return b"".join((self.envelope_head(now_ms, _dumps(session)), body,
                         b',"response":{"usage":', _dumps(usage), b"}}\n"))

    def records(self):
        """Yield the log's records (bytes, one line each), forever."""
        rng, text = self.rng, self.text
        now_ms = 0
        target_active = rng.randint(8, 30)
        n = 0
        while True:
            if n % 40 == 0:
                target_active = min(30, max(8, target_active + rng.randint(-4, 4)))
            n += 1
            while self.n_main < target_active:
                self.start_main()
            now_ms += rng.randint(500, 4000)

            if self.side_todo:
                fam, session, content = self.side_todo.pop(0)
                yield self.side_call(fam, session, content, now_ms), "anthropic"
                continue
            if rng.random() < 0.015:
                mains = [c for c in self.active if c.is_main and c.k > 2]
                if mains:
                    c = rng.choice(mains)
                    c.n_side += 1
                    content = ("Summarize this part of the conversation:\n\n"
                               + text.chunk(text.prose, rng.randint(1_500, 9_000)))
                    yield (self.side_call(self.summary_fam, f"{c.session_str}-summary-{c.n_side}",
                                          content, now_ms), "anthropic")
                    continue

            conv = None
            oldest = now_ms - _STALE_MS
            for c in self.active:
                if c.k and c.last_ms < oldest:
                    conv, oldest = c, c.last_ms
            if conv is None:
                conv = rng.choice(self.active)
            rec = conv.emit(now_ms)
            if conv.is_main and conv.k == 1:
                self.side_todo.append((self.title_fam, f"{conv.session_str}-title",
                                       "Conversation opening:\n\n" + conv.first_text))
            if conv.done:
                self.active.remove(conv)
                if conv.is_main:
                    self.n_main -= 1
            yield rec, conv.fam.provider


def generate(path: str | Path, size_mb: float, seed: int = 1, *,
             compress: bool | None = None) -> dict:
    """Write about ``size_mb`` MB (10**6 bytes, uncompressed) of log to ``path``.

    ``compress``: gzip the output (default: when ``path`` ends with ``.gz``).
    Returns counts: records, bytes, conversations, subagents, side_calls, anthropic, openai.
    """
    path = Path(path)
    if compress is None:
        compress = path.suffix == ".gz"
    target = int(size_mb * MB)
    g = _Gen(seed)
    stats = g.stats
    if compress:
        f = gzip.open(path, "wb", compresslevel=1)
    else:
        f = open(path, "wb", buffering=1 << 20)
    written = 0
    with f:
        for rec, provider in g.records():
            if written >= target:
                break
            f.write(rec)
            written += len(rec)
            stats["records"] += 1
            stats[provider] += 1
    stats["bytes"] = written
    return stats


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", help="output file (.jsonl, or .jsonl.gz)")
    ap.add_argument("--size-mb", type=float, default=300.0, help="uncompressed size, MB (10**6 B)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--gzip", action="store_true", help="gzip the output (also implied by .gz)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    stats = generate(args.out, args.size_mb, args.seed, compress=True if args.gzip else None)
    dt = time.perf_counter() - t0
    print(f"wrote {args.out}: {stats['bytes'] / MB:.1f} MB, {stats['records']} records "
          f"({stats['anthropic']} anthropic, {stats['openai']} openai), "
          f"{stats['conversations']} conversations, {stats['subagents']} subagents, "
          f"{stats['side_calls']} side calls in {dt:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
