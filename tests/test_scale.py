"""Production scale: thread state stays bounded however many conversations a log interleaves.

The thread tracker keeps the last turn of at most ``MAX_THREADS`` live conversations (and at most
``MAX_BYTES`` of them); older ones are forgotten, least recently continued first, together with
everything indexed about them. These tests drive many more conversations than that through the
tracker (fast, with a small bound) and through the whole command line in a child process (100,000
conversations; ``slow``), whose peak memory must stay under the issue's 250 MB.

A request that continues a conversation the tracker has forgotten is compared with every live
thread of the same tools and system prompt (an edited first message, see ``_edited_first``), so
these logs keep fewer conversations waiting than the tracker holds.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from prefixlint.model import Origin, Record
from prefixlint.providers import anthropic
from prefixlint.threads import MAX_THREADS, ThreadTracker

SYSTEM = "You are a careful coding agent. Answer briefly."
PEAK_LIMIT_MIB = 250  # the bound for a day of traffic

# Runs the command line in this child process and reports the child's own peak RSS (VmHWM: unlike
# ru_maxrss, it does not include the parent's memory that a vfork+exec child inherits).
CHILD = """
import sys
from prefixlint.cli import run
code = run(sys.argv[1:])
peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(code, peak, file=sys.stderr)
"""


def _body(conversation: int, turns: int) -> dict:
    """Request ``turns`` (1-based) of one conversation: its opening, then a reply and a follow-up
    per turn after the first."""
    messages = [{"role": "user", "content": f"Task {conversation}: rename the helper in module m{conversation % 97}."}]
    for t in range(1, turns):
        messages.append({"role": "assistant", "content": f"Step {t} of task {conversation} done."})
        messages.append({"role": "user", "content": f"Continue with step {t + 1} of task {conversation}."})
    return {
        "model": "claude-sonnet-4-5",
        "max_tokens": 256,
        "system": [{"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral"}}],
        "messages": messages,
    }


def _interleaved(conversations: int, window: int, turns: int = 2):
    """(conversation, turn) in log order: conversation c sends turn t at step c + (t - 1) * window,
    so about ``window`` conversations are waiting for their next turn at any time."""
    order = sorted(
        ((c + (t - 1) * window, c, t) for c in range(conversations) for t in range(1, turns + 1))
    )
    for _, c, t in order:
        yield c, t


def test_tracker_forgets_idle_threads_and_everything_indexed_about_them():
    tracker = ThreadTracker(max_threads=50)
    heads: list[int] = []
    for n, (c, t) in enumerate(_interleaved(3000, window=15, turns=3)):
        record = Record(body={}, origin=Origin("log.jsonl", line=n + 1))
        a = tracker.assign(anthropic.normalize(_body(c, t), record))
        if t > 1:
            assert a.prev is not None and a.turn == t  # within the bound: continued, not restarted
        assert len(tracker.live) <= 50
        heads.append(len(tracker.live))
    assert tracker.count == 3000  # one thread per conversation
    assert tracker.forgotten == 3000 - len(tracker.live)
    # Nothing about a forgotten thread stays indexed.
    indexed = {number for index in tracker.by_message.values() for bucket in index.values()
               for number in ([bucket] if isinstance(bucket, int) else bucket)}
    assert indexed <= set(tracker.live)
    assert {n for bucket in tracker.by_shape.values() for n in bucket.numbers} <= set(tracker.live)
    assert all(sum(bucket.lengths.values()) == len(bucket.numbers) for bucket in tracker.by_shape.values())
    assert sum(len(index) for index in tracker.by_message.values()) <= 5 * 50  # 5 messages a head


def test_tracker_bound_on_bytes():
    tracker = ThreadTracker(max_bytes=20_000)
    for n, (c, t) in enumerate(_interleaved(400, window=200)):
        tracker.assign(anthropic.normalize(_body(c, t), Record(body={}, origin=Origin("x", line=n))))
        assert tracker.bytes <= 20_000 or len(tracker.live) == 1
    assert tracker.forgotten > 0


def _write_log(path: Path, conversations: int, window: int) -> int:
    n = 0
    with path.open("wb") as out:
        for c, t in _interleaved(conversations, window):
            out.write(json.dumps({"request": _body(c, t)}).encode() + b"\n")
            n += 1
    return n


def _lint_in_child(path: Path, tmp_path: Path, fmt: str = "json") -> tuple[int, int, dict]:
    report = tmp_path / f"report.{fmt}"
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, "check", str(path), "--format", fmt, "--fail-on", "never",
         "--output", str(report)],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )
    code, peak_kib = (int(x) for x in proc.stderr.strip().splitlines()[-1].split())
    return code, peak_kib, json.loads(report.read_text())


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmHWM from /proc")
def test_many_interleaved_conversations_lint_in_bounded_memory(tmp_path):
    # Twice as many conversations as the tracker keeps, 500 of them waiting for their next turn at
    # any time: the finished ones are forgotten, the waiting ones continued.
    records = _write_log(tmp_path / "log.jsonl", 4000, window=500)
    code, peak_kib, report = _lint_in_child(tmp_path / "log.jsonl", tmp_path)
    assert code == 0
    assert report["summary"]["records"] == records == report["summary"]["requests"]
    assert report["summary"]["threads"] == 4000 and not report["findings"]
    assert peak_kib / 1024 < PEAK_LIMIT_MIB


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmHWM from /proc")
def test_100k_interleaved_conversations_lint_in_bounded_memory(tmp_path):
    # Between two turns of a conversation, `window` others start and `window` others continue.
    records = _write_log(tmp_path / "log.jsonl", 100_000, window=MAX_THREADS // 4)
    assert records == 200_000
    # SARIF: the JSON report lists every thread's figures, so its size (and the memory to write
    # it, about 1 KB a conversation) grows with the number of conversations by design.
    code, peak_kib, report = _lint_in_child(tmp_path / "log.jsonl", tmp_path, "sarif")
    assert code == 0
    assert report["runs"][0]["results"] == []
    assert peak_kib / 1024 < PEAK_LIMIT_MIB
