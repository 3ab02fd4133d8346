"""The ``prefixlint`` command line: check, rules, rule, diff.

The commands stay thin: they parse options, call the engine (or ``prefixlint.explain``) and hand
the result to a renderer in ``prefixlint.report``. Errors never show a traceback: usage errors and
unreadable input print one line ``prefixlint: error: ...`` on stderr and exit with 2.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from enum import Enum
from typing import IO, Any

import typer
from prefixlint import __version__
from prefixlint.model import InputError
from typer.core import TyperGroup

PROG = "prefixlint"


class UsageError(Exception):
    """A command-line mistake: one line on stderr, exit code 2."""


class Format(str, Enum):
    text = "text"
    json = "json"


class ReportFormat(str, Enum):
    """Formats of the ``check`` report; each but text is a module in prefixlint.report with
    ``render(result) -> bytes``."""

    text = "text"
    json = "json"
    sarif = "sarif"
    github = "github"
    markdown = "markdown"
    html = "html"


class FailOn(str, Enum):
    error = "error"
    warning = "warning"
    info = "info"
    never = "never"


class Provider(str, Enum):
    anthropic = "anthropic"
    openai = "openai"
    openai_chat = "openai-chat"
    openai_responses = "openai-responses"
    gemini = "gemini"
    bedrock = "bedrock"


class _Group(TyperGroup):
    """The command group, with prefixlint's error handling around click's own.

    Click is run in non-standalone mode so that its usage errors come back as exceptions: they are
    printed as one line (exit 2), like every other error. The same path serves the console script,
    ``python -m prefixlint`` and ``typer.testing.CliRunner``.
    """

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        def call() -> Any:
            return super(_Group, self).main(
                args=args, prog_name=prog_name or PROG, complete_var=complete_var, standalone_mode=False, **extra
            )

        if not standalone_mode:
            return call()
        code = _guarded(call)
        sys.exit(_flush() or code)


app = typer.Typer(
    name=PROG,
    cls=_Group,
    add_completion=False,
    no_args_is_help=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"{PROG} {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", "-V", help="Print the version and exit.", callback=_version, is_eager=True
    ),
) -> None:
    """A linter for LLM prompt caching: finds every change that breaks the cached prompt prefix
    in recorded request logs (Anthropic Messages, OpenAI Chat Completions and Responses).

    Exit codes: 0 no finding at or above --fail-on, 1 findings, 2 usage or input error.
    """


# -- helpers --------------------------------------------------------------------------------------
def _split(values: Sequence[str] | None) -> list[str]:
    out: list[str] = []
    for value in values or ():
        out.extend(part.strip() for part in value.split(",") if part.strip())
    return out


def _check_session_key(pointer: str | None) -> None:
    if pointer is not None and not pointer.startswith("/"):
        raise UsageError(f"--session-key must be a JSON pointer starting with '/', got {pointer!r}")


@contextmanager
def _output(path: str | None) -> Iterator[IO[str] | None]:
    """The stream a report goes to: the --output file, or stdout (None)."""
    if path is None or path == "-":
        yield None
        return
    try:
        handle = open(path, "w", encoding="utf-8", newline="\n")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    with handle:
        yield handle


def _write_bytes(data: bytes, stream: IO[str] | None) -> None:
    """Write a rendered (UTF-8) document to ``stream``, or to stdout as bytes when it can take them."""
    if stream is not None:
        stream.write(data.decode("utf-8"))
        return
    buffer = getattr(sys.stdout, "buffer", None)
    sys.stdout.flush()
    if buffer is not None:
        buffer.write(data)
        buffer.flush()
    else:
        sys.stdout.write(data.decode("utf-8"))
        sys.stdout.flush()


def _error(message: str) -> None:
    text = " ".join(message.split())
    sys.stderr.write(f"{PROG}: error: {text}\n")
    sys.stderr.flush()


# -- check ----------------------------------------------------------------------------------------
def _load_tables(path: str | None) -> dict | None:
    """Read cache-table overrides; any problem is a one-line usage error naming the file."""
    if path is None:
        return None
    from prefixlint.config import ConfigError, read_tables

    try:
        return read_tables(path)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None


def _load_config(path: str | None, isolated: bool):
    from prefixlint.config import ConfigError, load

    try:
        return load(path, isolated)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None


@app.command()
def check(
    paths: list[str] | None = typer.Argument(
        None, metavar="PATH", help="Log files or directories to lint; '-' reads standard input.", show_default=False
    ),
    fmt: ReportFormat | None = typer.Option(
        None,
        "--format",
        "-f",
        help="Report format (default: text; github when GITHUB_ACTIONS=true).",
        show_default=False,
    ),
    select: list[str] | None = typer.Option(
        None,
        "--select",
        "-s",
        metavar="RULES",
        help="Run only these rules: codes (PL101), code prefixes (PL1), categories (tools) or rule names "
        "(tool-set-changed). Comma-separated and repeatable.",
        show_default=False,
    ),
    ignore: list[str] | None = typer.Option(
        None, "--ignore", "-i", metavar="RULES", help="Skip these rules (same forms as --select).", show_default=False
    ),
    fail_on: FailOn | None = typer.Option(
        None,
        "--fail-on",
        help="Lowest severity that makes the exit code 1 ('never': always 0). Default: error.",
        show_default=False,
    ),
    provider: Provider | None = typer.Option(
        None, "--provider", help="Treat every record as a request for this API (default: detect).", show_default=False
    ),
    session_key: str | None = typer.Option(
        None,
        "--session-key",
        metavar="POINTER",
        help="JSON pointer to a conversation id in each record (envelope first, then request body).",
        show_default=False,
    ),
    output: str | None = typer.Option(
        None, "--output", "-o", metavar="FILE", help="Write the report to FILE instead of stdout.", show_default=False
    ),
    cache_tables: str | None = typer.Option(
        None,
        "--cache-tables",
        metavar="FILE",
        help="YAML or JSON overrides of the cache model's data tables (prices, minimum tokens, TTLs), in the "
        "shape of prefixlint/data/cache-tables.json.",
        show_default=False,
    ),
    config_file: str | None = typer.Option(
        None, "--config", metavar="FILE", help="Read the configuration from FILE (pyproject.toml or "
        ".prefixlint.yaml) instead of looking for it.", show_default=False,
    ),
    isolated: bool = typer.Option(False, "--isolated", help="Ignore every configuration file."),
    baseline_file: str | None = typer.Option(
        None, "--baseline", metavar="FILE", help="Suppress the findings recorded in this baseline; report only new ones.",
        show_default=False,
    ),
    write_baseline: str | None = typer.Option(
        None, "--write-baseline", metavar="FILE", help="Record every finding in a baseline FILE (exit 0 unless the "
        "input could not be read).", show_default=False,
    ),
    harness_only: bool = typer.Option(
        False, "--harness-only", help="Lint only the harness configurations among PATH (recognised by name and "
        "content: prefixlint's own format, Spring AI, LiteLLM) and leave every other file alone; for a pre-commit "
        "hook over all YAML, JSON and .properties files.",
    ),
    jobs: int = typer.Option(
        1, "--jobs", "-j", metavar="N", help="Lint files in N parallel processes (0: one per CPU). The report is "
        "the same as with 1; a single file or standard input is linted in one process.", show_default=True,
    ),
) -> None:
    """Lint request logs and harness configurations; report every change that breaks the cached prefix.

    With --format json the report is versioned JSON (version 1): {"version", "tool", "findings":
    [{code, name, category, severity, message, fix, location: {file, line, entry, pointer, thread,
    turn}, fingerprint, excerpt, impact}], "diagnostics": [{file, line, entry, message}], "summary":
    {files, records, requests, threads, findings: {error, warning, info}, skipped, invalid, unreadable, cache,
    suppressed (when any: by reason, baseline or per-path-ignores)},
    "threads": [per-thread predicted / ideal / observed cache hit rates and tokens lost]}.
    Its JSON Schema ships in the package as prefixlint/schemas/report-v1.json. Fingerprints do not
    depend on line numbers.

    Exit codes: 0 no finding at or above --fail-on, 1 findings, 2 usage error, a path that could not be read, or
    input from which nothing could be read (malformed lines are reported and the rest is linted).
    """
    from prefixlint import engine
    from prefixlint.rules import RULES

    cfg = _load_config(config_file, isolated)
    if not paths:
        paths = cfg.paths
    if not paths:
        raise UsageError("no input given: name log files or directories, or '-' for standard input "
                         "(or set 'paths' in the configuration)")
    # A flag given on the command line replaces the configuration's value.
    if select:
        selected = _split(select)
    elif cfg.select is not None:
        selected = [*cfg.select, *cfg.extend_select]
    else:
        selected = []  # every rule: extend-select has nothing to add
    ignored = _split(ignore) if ignore else list(cfg.ignore)
    fail_on = fail_on or FailOn(cfg.fail_on or "error")
    provider = provider or (Provider(cfg.provider) if cfg.provider else None)
    session_key = session_key or cfg.session_key
    unknown = engine.unknown_selectors(RULES, [*selected, *ignored])
    if unknown:
        raise UsageError(
            f"unknown rule selector {', '.join(repr(u) for u in unknown)} "
            "(use a code, code prefix, category or rule name; see 'prefixlint rules')"
        )
    if jobs < 0:
        raise UsageError(f"--jobs must be 0 (one per CPU) or more, not {jobs}")
    _check_session_key(session_key)
    tables = _load_tables(cache_tables) if cache_tables else cfg.cache_tables
    baseline_path = baseline_file or cfg.baseline
    known = _load_baseline(baseline_path) if baseline_path else None
    rules = engine.select_rules(RULES, selected or None, ignored)
    options = engine.Options(
        select=selected or None,
        ignore=ignored,
        provider=provider.value if provider else None,
        session_key=session_key,
        fail_on=fail_on.value,
        tables=tables,
        severity=cfg.severity,
        rule_options=cfg.options,
        exclude=cfg.exclude,
        per_path_ignores=cfg.per_path_ignores,
        root=cfg.root,
        baseline=None if write_baseline else known,
        harness_only=harness_only,
    )
    fmt = _report_format(fmt)
    renderer = _renderer(fmt)
    options.timelines = fmt is ReportFormat.html  # (per-turn figures: only the HTML report shows them)
    from prefixlint.progress import progress, wanted

    with _output(output) as stream:
        with progress(list(paths), enabled=wanted(fmt.value, to_file=output is not None)) as tracker:
            result = engine.run(list(paths), rules, options, tracker=tracker, jobs=jobs)
        if write_baseline:
            _write_baseline(write_baseline, result.findings)
            if known is not None:
                engine.apply_baseline(result, known)
        for d in result.diagnostics:
            if d.origin.line is None and d.origin.entry is None:
                _error(str(d))  # a path that could not be read at all
        if result.summary.files == 0 and not result.input_error and not harness_only:
            sys.stderr.write(
                f"{PROG}: warning: no log files found (looked for *.json, *.jsonl, *.ndjson, *.har and their .gz or .zst, VCR cassettes and harness configurations)\n"
            )
        if fmt is ReportFormat.text:
            from prefixlint.report import text

            text.render(result, text.console_for(stream))
        else:
            _write_bytes(renderer.render(result), stream)
    code = result.exit_code(fail_on.value)
    raise typer.Exit(0 if write_baseline and code == 1 else code)


def _load_baseline(path: str) -> set[str]:
    from prefixlint import baseline

    try:
        return baseline.load(path)
    except baseline.BaselineError as exc:
        raise UsageError(str(exc)) from None


def _write_baseline(path: str, findings) -> None:
    from prefixlint import baseline

    try:
        count = baseline.write(path, findings)
    except baseline.BaselineError as exc:
        raise UsageError(str(exc)) from None
    sys.stderr.write(f"{PROG}: wrote {count} baseline {'entry' if count == 1 else 'entries'} to {path}\n")


def _report_format(fmt: ReportFormat | None) -> ReportFormat:
    if fmt is not None:
        return fmt
    return ReportFormat.github if os.environ.get("GITHUB_ACTIONS") == "true" else ReportFormat.text


def _renderer(fmt: ReportFormat):
    """The module that renders a machine format (checked before any input is read)."""
    import importlib

    if fmt is ReportFormat.text:
        return None
    try:
        return importlib.import_module(f"prefixlint.report.{fmt.value}")
    except ModuleNotFoundError:
        raise UsageError(f"the {fmt.value} format is not available in this version") from None


# -- config ---------------------------------------------------------------------------------------
@app.command("config")
def config_command(
    show_schema: bool = typer.Option(False, "--schema", help="Print the configuration's JSON Schema (for editors)."),
    harness_schema: bool = typer.Option(
        False, "--harness-schema", help="Print the JSON Schema of prefixlint's harness format (harness/v1)."
    ),
    config_file: str | None = typer.Option(
        None, "--config", metavar="FILE", help="Read the configuration from FILE.", show_default=False
    ),
    isolated: bool = typer.Option(False, "--isolated", help="Ignore every configuration file."),
    fmt: Format = typer.Option(Format.text, "--format", "-f", help="Output format."),
) -> None:
    """Print the configuration in effect and the file it came from (or, with --schema, its JSON Schema).

    prefixlint reads [tool.prefixlint] in pyproject.toml or .prefixlint.yaml, in the nearest
    directory from the working directory upwards that has one (.prefixlint.yaml first).
    """
    import json

    from prefixlint import config

    if show_schema:
        _write_bytes((json.dumps(config.schema(), indent=2) + "\n").encode("utf-8"), None)
        return
    if harness_schema:
        from prefixlint.harness import own

        _write_bytes((json.dumps(own.schema(), indent=2) + "\n").encode("utf-8"), None)
        return
    shown = config.effective(_load_config(config_file, isolated))
    if fmt is Format.json:
        _write_bytes((json.dumps(shown, indent=2) + "\n").encode("utf-8"), None)
        return
    lines = [f"# configuration: {shown['source'] or 'none found (defaults)'}"]
    if shown["source"]:
        lines.append(f"# relative paths and globs are relative to {shown['root']}")
    for key, item in shown["keys"].items():
        origin = "" if item["from"] == "default" else "  # from the file"
        lines.append(f"{key} = {json.dumps(item['value'])}{origin}")
    typer.echo("\n".join(lines))


# -- rules, rule ----------------------------------------------------------------------------------
@app.command("rules")
def rules_command(fmt: Format = typer.Option(Format.text, "--format", "-f", help="Output format.")) -> None:
    """List the rule catalogue: code, name, category, severity, scope and summary."""
    from prefixlint.rules import RULES

    if fmt is Format.json:
        from prefixlint.report import json as json_report

        _write_bytes(json_report.render_rules(RULES), None)
    else:
        from prefixlint.report import text

        text.render_rules(RULES, text.console_for())


@app.command("rule")
def rule_command(
    code: str = typer.Argument(..., metavar="CODE_OR_NAME", help="A rule code (PL101) or name (tool-set-changed)."),
) -> None:
    """Print a rule's documentation."""
    from prefixlint import rules as catalogue
    from prefixlint.report import text

    rule = catalogue.get(code)
    if rule is None:
        raise UsageError(f"unknown rule {code!r} (see 'prefixlint rules')")
    text.render_rule(rule, text.console_for())


# -- diff -----------------------------------------------------------------------------------------
@app.command("diff")
def diff_command(
    requests: list[str] = typer.Argument(
        ...,
        metavar="LOG:LINE",
        help="One request (explained against the previous turn of its conversation), or two requests "
        "to compare directly (the earlier one first). LOG#ENTRY names a record of a JSON array.",
    ),
    fmt: Format = typer.Option(Format.text, "--format", "-f", help="Output format."),
    provider: Provider | None = typer.Option(
        None, "--provider", help="Treat every record as a request for this API (default: detect).", show_default=False
    ),
    session_key: str | None = typer.Option(
        None, "--session-key", metavar="POINTER", help="JSON pointer to a conversation id.", show_default=False
    ),
) -> None:
    """Why did this request miss the cache? Show the shared prefix, the first divergence and what changed."""
    from prefixlint import explain
    from prefixlint.rules import RULES

    if len(requests) > 2:
        raise UsageError("diff takes one request (LOG:LINE) or two (LOG:LINE LOG:LINE)")
    _check_session_key(session_key)
    try:
        result = explain.explain(
            requests[0],
            requests[1] if len(requests) > 1 else None,
            provider=provider.value if provider else None,
            session_key=session_key,
            rules=RULES,
        )
    except explain.ExplainError as exc:
        raise UsageError(str(exc)) from None
    if fmt is Format.json:
        from prefixlint.report import json as json_report

        _write_bytes(json_report.render_explanation(result), None)
    else:
        from prefixlint.report import text

        text.render_explanation(result, text.console_for())


# -- entry point --------------------------------------------------------------------------------
def _quiet_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null so the interpreter's final flush stays silent."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def _is_click_exception(exc: BaseException) -> bool:
    # typer bundles its own copy of click in recent versions: match by name, not by import.
    return any(cls.__name__ == "ClickException" for cls in type(exc).__mro__)


def _redacted(message: str) -> str:
    try:
        from prefixlint.redact import redact
    except Exception:  # noqa: BLE001 - an error message must get out even if redact is broken
        return message
    return redact(message)


def _guarded(call: Callable[[], Any]) -> int:
    """Run the command line; turn every way out into an exit code (never a traceback)."""
    try:
        code = call()
    except UsageError as exc:
        _error(str(exc))
        return 2
    except BrokenPipeError:
        _quiet_stdout()
        return 1
    except InputError as exc:
        _error(_redacted(str(exc)))
        return 2
    except (typer.Exit, typer.Abort) as exc:  # typer versions where these escape main()
        return int(getattr(exc, "exit_code", 1) or 0)
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        return 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence against tracebacks
        if _is_click_exception(exc):
            message = exc.format_message()  # type: ignore[attr-defined]
            if type(exc).__name__ == "NoArgsIsHelpError":
                message = "missing command"
            ctx = getattr(exc, "ctx", None)
            where = getattr(ctx, "command_path", None) or PROG
            _error(f"{message} (see '{where} --help')")
            return int(getattr(exc, "exit_code", 2))
        if type(exc).__name__ == "Abort":
            return 1
        if os.environ.get("PREFIXLINT_DEBUG"):
            raise
        _error(_redacted(f"internal error: {type(exc).__name__}: {exc}"))
        return 2
    return code if isinstance(code, int) else 0


def _flush() -> int:
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_stdout()
        return 1
    except (OSError, ValueError):
        pass
    return 0




def run(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` and return the exit code (for embedding)."""
    command = typer.main.get_command(app)
    return _guarded(lambda: command.main(args=list(argv) if argv is not None else None, prog_name=PROG,
                                         standalone_mode=False))


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point (``prefixlint``) and ``python -m prefixlint``; exits the process."""
    for stream in (sys.stdout, sys.stderr):
        # A terminal or pipe with a legacy encoding must not turn an excerpt's "…" into a crash.
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and (stream.encoding or "").lower().replace("-", "") != "utf8":
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):
                pass
    # Parsing a log creates millions of objects and almost no reference cycles: the cyclic garbage
    # collector's default pace (a pass every 700 new objects, over everything alive) cost 7-11% of
    # a run and found less than a thousand objects to free on a 1.4 GB log. Collect less often.
    gc.freeze()  # what start-up created is never garbage
    gc.set_threshold(100_000, 50, 100)
    typer.main.get_command(app).main(args=list(argv) if argv is not None else None, prog_name=PROG)
