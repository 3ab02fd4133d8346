"""The real mini-swe-agent / DeepSeek log from ../shared/corpus (skipped when it is absent).

Its request bodies are append-only by construction, so a correct linter reports no tools, system,
history or model break, and reconstructs exactly one thread per recorded session, with or without
the envelope's session ids.
"""

from __future__ import annotations

from collections import defaultdict

import orjson
import pytest

from conftest import CORPUS
from prefixlint import engine
from prefixlint.rules import RULES

LOG = CORPUS / "agent-loops" / "mini-swe-agent-deepseek.jsonl.zst"
BREAK_CATEGORIES = {"tools", "system", "history", "model"}

pytestmark = pytest.mark.skipif(not LOG.exists(), reason="../shared/corpus is not present")


def _lines(limit: int | None):
    zstandard = pytest.importorskip("zstandard")
    with LOG.open("rb") as raw:
        reader = zstandard.ZstdDecompressor(max_window_size=2**31).stream_reader(raw)
        pending = b""
        count = 0
        while limit is None or count < limit:
            chunk = reader.read(1 << 22)
            if not chunk:
                break
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                yield line + b"\n"
                count += 1
                if limit is not None and count >= limit:
                    return
        if pending.strip():
            yield pending


def _slice(tmp_path_factory, limit: int | None, keep_sessions: bool):
    path = tmp_path_factory.mktemp("corpus") / f"deepseek-{limit}-{keep_sessions}.jsonl"
    with path.open("wb") as out:
        for line in _lines(limit):
            if not keep_sessions:
                record = orjson.loads(line)
                record.pop("session", None)
                line = orjson.dumps(record) + b"\n"
            out.write(line)
    return path


def _check(path, sessions_from=None):
    result = engine.run([str(path)], RULES, engine.Options())
    assert not result.diagnostics
    breaks = [f for f in result.findings if f.category in BREAK_CATEGORIES]
    assert breaks == [], [(f.code, f.location.line, f.message) for f in breaks[:5]]
    return result


def _threads_by_session(path, session_source):
    sessions = [orjson.loads(line)["session"] for line in _lines(None if session_source is None else session_source)]
    by_thread = defaultdict(set)
    for (record, _prompt, assignment) in engine.iter_turns(str(path), engine.Options()):
        by_thread[assignment.thread.id].add(sessions[record.origin.line - 1])
    return by_thread, sessions


@pytest.fixture(scope="module")
def head_with_sessions(tmp_path_factory):
    return _slice(tmp_path_factory, 2000, True)


@pytest.fixture(scope="module")
def head_without_sessions(tmp_path_factory):
    return _slice(tmp_path_factory, 2000, False)


def test_first_2000_lines_report_no_break(head_with_sessions):
    result = _check(head_with_sessions)
    assert result.summary.requests == 2000
    assert result.summary.skipped == {}


def test_threads_follow_sessions_without_session_ids(head_without_sessions):
    """Content matching alone puts each trajectory into its own thread."""
    result = _check(head_without_sessions)
    by_thread, sessions = _threads_by_session(head_without_sessions, 2000)
    assert all(len(s) == 1 for s in by_thread.values()), {t: s for t, s in by_thread.items() if len(s) > 1}
    assert result.summary.threads == len(set(sessions))


@pytest.mark.slow
def test_whole_log_reports_no_break(tmp_path_factory):
    _check(_slice(tmp_path_factory, None, False))
