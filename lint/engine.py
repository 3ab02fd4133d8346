"""The engine: drive sources -> providers -> threads -> diff -> rules, stamp findings.

Rules only detect; the engine gives each violation its identity (code, name, category), its
severity, its location (file, line or entry, JSON pointer, thread, turn) and a fingerprint that
does not depend on line numbers. Secrets are redacted from everything that reaches a report.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from prefixlint import harness, providers, sources
from prefixlint.cache.simulator import CacheSimulator, ThreadStats, TurnCache, impact
from prefixlint.cache.tables import load_tables
from prefixlint.chains import is_carried
from prefixlint.config import any_match
from prefixlint.diff import blocks_of, compare
from prefixlint.model import (
    SEVERITY_RANK,
    Block,
    BodyError,
    Diagnostic,
    Finding,
    InputError,
    Location,
    Origin,
    Prompt,
    Record,
    Violation,
)
from prefixlint.providers.base import ByIdentity, digest
from prefixlint.redact import redact
from prefixlint.rulebase import Pair, RequestContext, Rule
from prefixlint.sources import claude_code
from prefixlint.threads import NORMALIZED, Assignment, ThreadTracker

FAIL_ON = ("error", "warning", "info", "never")
MEMO_SIZE = 1024  # distinct (rule, section content) results kept for request rules


@dataclass(slots=True)
class Options:
    select: list[str] | None = None
    ignore: list[str] = field(default_factory=list)
    provider: str | None = None
    session_key: str | None = None
    fail_on: str = "error"
    tables: dict | None = None  # overrides of the cache model's data tables
    severity: dict[str, str] = field(default_factory=dict)  # code -> severity override
    rule_options: dict[str, dict] = field(default_factory=dict)  # code -> options (validated by config)
    exclude: list[str] = field(default_factory=list)  # globs of files not linted, relative to root
    per_path_ignores: dict[str, list[str]] = field(default_factory=dict)  # glob -> rule selectors
    root: str | None = None  # what the globs are relative to (default: the working directory)
    baseline: set[str] | None = None  # fingerprints of findings to suppress
    harness_only: bool = False  # lint only the harness configurations among the files (the pre-commit hook)
    timelines: bool = True  # keep each thread's turn-by-turn figures (ThreadStats.turns: the HTML report's timeline)


@dataclass(slots=True)
class Summary:
    files: int = 0
    records: int = 0
    requests: int = 0
    threads: int = 0
    skipped: Counter = field(default_factory=Counter)
    invalid: int = 0
    unreadable: int = 0  # lines, entries or documents that could not be read (each has a diagnostic)
    by_severity: Counter = field(default_factory=Counter)
    by_provider: Counter = field(default_factory=Counter)
    suppressed: Counter = field(default_factory=Counter)  # findings not reported, by reason

    def merge(self, other: Summary) -> None:
        """Add the counts of ``other`` (another file's summary) to these."""
        self.files += other.files
        self.records += other.records
        self.requests += other.requests
        self.threads += other.threads
        self.invalid += other.invalid
        self.unreadable += other.unreadable
        self.skipped.update(other.skipped)
        self.by_severity.update(other.by_severity)
        self.by_provider.update(other.by_provider)
        self.suppressed.update(other.suppressed)


@dataclass(slots=True)
class RunResult:
    findings: list[Finding]
    summary: Summary
    diagnostics: list[Diagnostic]
    input_error: bool = False
    threads: list[ThreadStats] = field(default_factory=list)

    def exit_code(self, fail_on: str) -> int:
        """2 when an input path could not be read, or nothing at all could be read from the input;
        otherwise findings decide. Malformed records are reported as diagnostics, and the rest of
        the input is linted and judged on its findings."""
        if self.input_error or (self.diagnostics and self.summary.records == 0):
            return 2
        if fail_on == "never":
            return 0
        threshold = SEVERITY_RANK[fail_on]
        return 1 if any(SEVERITY_RANK[f.severity] >= threshold for f in self.findings) else 0


def _matches(rule: Rule, selector: str) -> bool:
    s = selector.strip()
    return s == "ALL" or rule.code.startswith(s.upper()) or s.lower() in (rule.category, rule.name)


def select_rules(rules: Iterable[Rule], select: list[str] | None, ignore: list[str]) -> list[Rule]:
    chosen = [r for r in rules if not select or any(_matches(r, s) for s in select)]
    return [r for r in chosen if not any(_matches(r, s) for s in ignore)]


def unknown_selectors(rules: list[Rule], selectors: Iterable[str]) -> list[str]:
    return [s for s in selectors if s.strip() and not any(_matches(r, s) for r in rules)]


@dataclass(slots=True)
class _Turn:
    """One request being linted: what findings are stamped with."""

    record: Record
    prompt: Prompt
    thread: str
    signature: str
    number: int
    cache: TurnCache | None
    prev_cache: TurnCache | None
    lost: tuple[int, float | None] | None = None
    codes: list[str] = field(default_factory=list)  # codes of the findings stamped on this turn


class Linter:
    """Lints one file (one stream of records) at a time with its own thread tracker."""

    def __init__(self, rules: list[Rule], options: Options) -> None:
        self.request_rules = [r for r in rules if r.scope == "request"]
        self.pair_rules = [r for r in rules if r.scope == "pair"]
        self.usage_rules = [r for r in rules if r.scope == "usage"]  # Claude Code transcripts
        self.options = options
        self.summary = Summary()
        self.findings: list[Finding] = []
        self.diagnostics: list[Diagnostic] = []
        self._memo: dict[tuple[str, bytes], list[Violation]] = {}
        self.threads: list[ThreadStats] = []
        self.tables = load_tables(options.tables)
        self._path_ignored: frozenset[str] = frozenset()
        self._harness_seen: set[tuple[str, str, int]] = set()  # (code, file, line) of configuration findings
        self._reads: dict[tuple[str, ...], ByIdentity] = {}  # READS sections -> digests of recent blocks

    def _ignored_codes(self, path: str) -> frozenset[str]:
        """Codes whose findings in ``path`` the per-path ignores suppress."""
        globs = [g for g in self.options.per_path_ignores if path != sources.STDIN and
                 any_match([g], path, self.options.root or os.getcwd())]
        selectors = [s for g in globs for s in self.options.per_path_ignores[g]]
        if not selectors:
            return frozenset()
        rules = [*self.request_rules, *self.pair_rules, *self.usage_rules]
        return frozenset(r.code for r in rules if any(_matches(r, s) for s in selectors))

    def lint_path(self, path: str, on_bytes: Callable[[int], None] | None = None) -> None:
        self.summary.files += 1
        self._path_ignored = self._ignored_codes(path)
        if claude_code.is_transcript(path):  # usage only, no requests: see prefixlint.sources.claude_code
            return claude_code.lint(self, path, self.usage_rules, on_bytes)
        seen: set[tuple] = set()
        sim = CacheSimulator(path if path != sources.STDIN else "<stdin>", self.tables, self.options.timelines)
        for record, prompt, assignment in iter_turns(path, self.options, self.summary, self.diagnostics, on_bytes):
            thread = assignment.thread
            prev_cache = thread.cache if assignment.prev is not None else None
            cache = sim.observe(prompt, thread.number, thread.id, prev_cache, assignment.fork)
            if cache.blocks is prompt.blocks:
                # what the cache model found is what compare() and the breakpoint rules need
                if cache.estimates is not None:
                    prompt.derived.setdefault("running tokens", cache.estimates)
                if cache.marked is not None:
                    prompt.derived.setdefault("marked blocks", cache.marked)
            if not assignment.fork:
                thread.cache = cache
            turn = _Turn(record, prompt, thread.id, thread.signature, assignment.turn, cache, prev_cache)
            ctx = RequestContext(prompt, thread.id, assignment.turn, cache)
            for rule in self.request_rules:
                try:  # (written here, not through _guarded: a call less per rule and request)
                    found = self._read_violations(rule, ctx) if rule.reads else list(rule.check(ctx))
                except Exception as exc:  # noqa: BLE001 - reported, never a traceback
                    self._crashed(rule, record, exc)
                    continue
                for v in found:
                    if is_carried(v.pointer):
                        continue  # a block of an earlier request of the chain: reported on that turn
                    key = (thread.number, rule.code, v.pointer, v.key)
                    if key in seen:
                        continue
                    seen.add(key)
                    self._stamp(rule, v, turn)
            if assignment.prev is not None and self.pair_rules:
                known = prev_cache is not None and prev_cache.blocks is assignment.prev.blocks
                change = compare(assignment.prev, prompt, cache.shared if known else None)
                pair = Pair(
                    assignment.prev, prompt, change, thread.id, assignment.turn, assignment.fork,
                    cache=cache, prev_cache=prev_cache,
                )
                appended = _only_appends(pair)
                for rule in self.pair_rules:
                    if appended and rule.quiet_on_append:
                        continue
                    try:
                        found = list(rule.check(pair))
                    except Exception as exc:  # noqa: BLE001 - reported, never a traceback
                        self._crashed(rule, record, exc)
                        continue
                    for v in found:
                        if rule.once:
                            key = (thread.number, rule.code, v.pointer, v.key)
                            if key in seen:
                                continue
                            seen.add(key)
                        self._stamp(rule, v, turn)
            stats = sim.threads[thread.id]
            if turn.codes and stats.turns and stats.turns[-1].origin == str(record.origin):
                stats.turns[-1].codes.extend(turn.codes)
            if turn.lost:
                stats.lost_tokens += turn.lost[0]
                if turn.lost[1] is None:
                    stats.priced = False
                else:
                    stats.lost_usd += turn.lost[1]
        self.threads.extend(sim.summary())

    def _guarded(self, rule: Rule, record: Record, run_rule, arg) -> list[Violation]:
        """A rule that crashes on one record costs that record a diagnostic, not the whole run."""
        try:
            return list(run_rule(rule, arg))
        except Exception as exc:  # noqa: BLE001 - reported, never a traceback
            self._crashed(rule, record, exc)
            return []

    def _crashed(self, rule: Rule, record: Record, exc: Exception) -> None:
        self.diagnostics.append(
            Diagnostic(record.origin, f"internal error in rule {rule.code} ({rule.name}): {type(exc).__name__}: {exc}")
        )

    def _read_violations(self, rule: Rule, ctx: RequestContext) -> list[Violation]:
        """Run a request rule that declares READS, once per distinct content of the sections it
        reads (the list returned is then shared: read it, never change it)."""
        derived = ctx.prompt.derived  # the same sections' digest serves every rule of this request
        content = derived.get(("reads", rule.reads))
        if content is None:
            # (consecutive requests hold the same tool and system Block objects: found by identity)
            memo = self._reads.get(rule.reads)
            if memo is None:
                memo = self._reads[rule.reads] = ByIdentity()
            content = derived["reads", rule.reads] = memo.get(blocks_of(ctx.prompt, rule.reads), _reads_digest)
        key = (rule.code, content)
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = list(rule.check(ctx))
            if len(self._memo) > MEMO_SIZE:
                self._memo.pop(next(iter(self._memo)))
        return found

    def _stamp(self, rule: Rule, v: Violation, turn: _Turn) -> None:
        if rule.code in self._path_ignored:
            self.summary.suppressed["per-path-ignores"] += 1
            return
        severity = self.options.severity.get(rule.code) or v.severity or rule.severity
        origin = turn.record.origin
        file, line, message = origin.file, origin.line, v.message
        if turn.record.harness is not None:  # rendered from a configuration: report at its line, once
            if turn.record.harness.is_constant(rule, v.pointer):
                return  # a date the configuration writes literally: the same on every request
            place, note = turn.record.harness.locate(rule, v.pointer, v.key)
            if (rule.code, place.file, place.line) in self._harness_seen:
                return
            self._harness_seen.add((rule.code, place.file, place.line))
            file, line = place.file, place.line
            if note:
                message = f"{message.rstrip('.')}. In the configuration, {note}."
        fingerprint = digest(
            "\x00".join(
                (rule.code, origin.file, turn.signature, str(turn.number), v.pointer or "", v.key or "")
            ).encode()
        ).hex()
        excerpt = {k: redact(t) for k, t in v.excerpt.items()} if v.excerpt else None
        impact = v.impact
        if impact is None and turn.cache is not None and rule.category != "config":  # config: costs nothing itself
            impact = self._impact(turn, rule, v)
        if impact is not None:
            tokens, cost = impact.get("tokens", 0), impact.get("cost_usd")
            if tokens and (turn.lost is None or tokens > turn.lost[0]):
                turn.lost = (tokens, cost)  # one turn's loss counts once, at its largest
        turn.codes.append(rule.code)
        self.findings.append(
            Finding(
                code=rule.code,
                name=rule.name,
                category=rule.category,
                severity=severity,
                message=redact(message),
                fix=redact(v.fix),
                location=Location(file, line, origin.entry, v.pointer, turn.thread, turn.number),
                fingerprint=fingerprint,
                excerpt=excerpt,
                impact=impact,
            )
        )
        self.summary.by_severity[severity] += 1

    @staticmethod
    def _impact(turn: _Turn, rule: Rule, v: Violation) -> dict:
        """Tokens and money a finding costs: from the block it points at (everything for a model
        switch; from the lost level for a setting), as the cache model estimates them."""
        index = None
        whole = rule.category == "model"
        if v.pointer and not whole:
            for i, block in enumerate(turn.prompt.blocks):
                if block.pointer == v.pointer or block.pointer.startswith(v.pointer + "/"):
                    index = i
                    break
        if index is None and not whole and turn.prev_cache is not None and rule.scope == "pair":
            # a setting: the level it invalidates starts after the shared prefix
            shared = sum(1 for a, b in zip(turn.prev_cache.cum, turn.cache.cum) if a == b)
            index = shared
        return impact(turn.cache, turn.prev_cache, index, whole)


def _reads_digest(blocks: list[Block]) -> bytes:
    """The identity of the blocks a READS rule reads: their pointers and hashes."""
    return digest(b"".join(b.pointer.encode() + b.hash for b in blocks))


def _only_appends(pair: Pair) -> bool:
    """The new turn only appends messages to the previous one: the same blocks from the start, byte
    for byte, then blocks of new messages only; the same API, model and settings; not a fork. Rules
    that report changes to what was sent before (``QUIET_ON_APPEND``) have nothing to say then."""
    if pair.fork or pair.change.kind not in ("append", "identical"):  # (a model or setting change is another kind)
        return False
    prev, new = pair.prev, pair.new
    if (prev.provider, prev.api) != (new.provider, new.api):
        return False
    blocks = new.blocks
    for i in range(len(prev.blocks), len(blocks)):
        if blocks[i].section != "messages":
            return False
    return pair.section("messages").kind in ("same", "append")


def iter_turns(
    path: str,
    options: Options,
    summary: Summary | None = None,
    diagnostics: list[Diagnostic] | None = None,
    on_bytes: Callable[[int], None] | None = None,
) -> Iterator[tuple[Record, Prompt, Assignment]]:
    """Read one file and yield every request with the thread turn it was assigned to.

    Records that are no request are counted as skipped in ``summary``; malformed ones become
    ``diagnostics``. This is the pipeline shared by ``check`` and ``diff``.
    """
    summary = summary if summary is not None else Summary()
    diagnostics = diagnostics if diagnostics is not None else []
    tracker = ThreadTracker()
    sink = sources.Counted(diagnostics)  # what the sources report could not be read
    try:
        for record in sources.read(path, sink, options.session_key):
            if on_bytes is not None:
                on_bytes(record.size)
            summary.records += 1
            kind, reason = providers.detect(record.body, record, options.provider)
            if kind is None:
                summary.skipped[reason] += 1
                continue
            try:
                prompt = providers.normalize(kind, record.body, record)
            except BodyError as exc:
                summary.invalid += 1
                diagnostics.append(Diagnostic(record.origin, f"invalid {kind[0]} request: {exc.message}"))
                continue
            except Exception as exc:  # noqa: BLE001 - a shape no check foresaw: reported, never a traceback
                summary.invalid += 1
                diagnostics.append(
                    Diagnostic(record.origin, f"internal error reading the {kind[0]} request: {type(exc).__name__}: {exc}")
                )
                continue
            record.repeats = None  # (used by the normaliser; it would keep the earlier line's list alive)
            prompt.derived[NORMALIZED] = kind  # (so parking can keep the record alone: see threads.Parked)
            if record.session is not None:
                prompt.keys["session"] = record.session
            summary.requests += 1
            summary.by_provider[f"{kind[0]} {kind[1]}"] += 1
            assignment = tracker.assign(prompt)
            yield record, assignment.prompt or prompt, assignment  # a chained request: its effective prompt
    finally:
        summary.threads += tracker.count
        summary.unreadable += sink.count


def run(paths: list[str], rules: list[Rule], options: Options, tracker: Any = None, jobs: int = 1) -> RunResult:
    """Lint every path with the rules that ``options.select``/``options.ignore`` leave.

    ``tracker`` (see ``prefixlint.progress``) is told the bytes read and each file finished.
    ``jobs`` > 1 lints the files in that many processes, one file per task; the result is the
    same as the serial run's (merged in file order, findings sorted the same way). 0: one
    process per CPU. Standard input and a single file are always linted in this process."""
    rules = select_rules(rules, options.select, options.ignore)
    linter = Linter(rules, options)
    input_error = False
    plan: list[str | Diagnostic] = []  # files to lint and path errors, in input order
    for given in paths:
        try:
            files = list(sources.discover([given]))
        except InputError as exc:
            plan.append(Diagnostic(Origin(given), str(exc).split(": ", 1)[-1]))
            continue
        for path in files:
            if options.exclude and path != sources.STDIN and any_match(options.exclude, path, options.root or os.getcwd()):
                continue
            if options.harness_only and (path == sources.STDIN or harness.kind(path) is None):
                continue
            plan.append(path)
    files = [p for p in plan if isinstance(p, str)]
    if jobs == 0:
        jobs = os.cpu_count() or 1
    if jobs > 1 and len(files) > 1 and sources.STDIN not in files:
        outcomes = iter(_lint_parallel(files, rules, options, tracker, min(jobs, len(files))))
    else:
        outcomes = None
    for item in plan:
        if isinstance(item, Diagnostic):
            input_error = True
            linter.diagnostics.append(item)
            continue
        if outcomes is None:
            input_error |= _lint_file(linter, item, tracker)
            if tracker is not None:
                tracker.file_done(item)
        else:
            outcome = next(outcomes)
            linter.findings.extend(outcome.findings)
            linter.diagnostics.extend(outcome.diagnostics)
            linter.summary.merge(outcome.summary)
            linter.threads.extend(outcome.threads)
            input_error |= outcome.input_error
    if outcomes is not None:
        for _ in outcomes:  # none left: lets the pool shut down now
            pass
    for d in linter.diagnostics:
        d.message = redact(d.message)
    linter.findings.sort(key=lambda f: f.sort_key())
    result = RunResult(linter.findings, linter.summary, linter.diagnostics, input_error, linter.threads)
    if options.baseline is not None:
        apply_baseline(result, options.baseline)
    return result


def _lint_file(linter: Linter, path: str, tracker: Any = None) -> bool:
    """Lint one file into ``linter``; True when the path could not be read at all. A crash on a
    shape nothing foresaw costs the file one diagnostic, never the run."""
    try:
        linter.lint_path(path, tracker)
    except InputError as exc:
        linter.diagnostics.append(Diagnostic(Origin(path), str(exc).split(": ", 1)[-1]))
        return True
    except Exception as exc:  # noqa: BLE001 - reported, never a traceback
        linter.summary.unreadable += 1
        linter.diagnostics.append(
            Diagnostic(Origin(path), f"internal error reading the file: {type(exc).__name__}: {exc}")
        )
    return False


@dataclass(slots=True)
class _Outcome:
    """What a worker process sends back for one file (plain, picklable data)."""

    findings: list[Finding]
    diagnostics: list[Diagnostic]
    summary: Summary
    threads: list[ThreadStats]
    input_error: bool
    nbytes: int


_WORKER: tuple[list[Rule], Options] | None = None


def _init_worker(rules: list[Rule], options: Options) -> None:
    global _WORKER
    _WORKER = (rules, options)


def _lint_in_worker(path: str) -> _Outcome:
    assert _WORKER is not None
    rules, options = _WORKER
    linter = Linter(rules, options)
    nbytes = 0

    def count(n: int) -> None:
        nonlocal nbytes
        nbytes += n

    input_error = _lint_file(linter, path, count)
    return _Outcome(linter.findings, linter.diagnostics, linter.summary, linter.threads, input_error, nbytes)


def _lint_parallel(files: list[str], rules: list[Rule], options: Options, tracker: Any, jobs: int) -> Iterator[_Outcome]:
    """Each file's outcome, in the order of ``files``, linted by ``jobs`` processes."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("spawn")  # no fork of a process that may run threads (progress)
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_init_worker, initargs=(rules, options)) as pool:
        for path, outcome in zip(files, pool.map(_lint_in_worker, files)):
            if tracker is not None:
                tracker(outcome.nbytes)
                tracker.file_done(path)
            yield outcome


def apply_baseline(result: RunResult, fingerprints: set[str]) -> None:
    """Drop the findings recorded in a baseline; count them as suppressed."""
    kept = []
    for f in result.findings:
        if f.fingerprint in fingerprints:
            result.summary.suppressed["baseline"] += 1
            result.summary.by_severity[f.severity] -= 1
        else:
            kept.append(f)
    result.findings = kept
