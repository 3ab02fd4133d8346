"""The CLI never touches the network, and ``--jobs N`` gives the serial run's report."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
FORMATS = ["text", "json", "sarif", "github", "markdown", "html"]

SITECUSTOMIZE = '''
import os, socket

_LOG = os.environ["PREFIXLINT_NET_LOG"]


def _refuse(*args, **kwargs):
    with open(_LOG, "a") as log:
        log.write(repr(args)[:200] + "\\n")
    raise OSError("network access attempted in an offline test")


socket.socket.connect = _refuse
socket.socket.connect_ex = _refuse
socket.socket.sendto = _refuse
socket.create_connection = _refuse
socket.getaddrinfo = _refuse
'''


def _inputs() -> list[Path]:
    found = [FIXTURES / "demo"]
    found += sorted((FIXTURES / "cassettes").rglob("*.yaml"))[:1]
    found += sorted((FIXTURES / "har").rglob("*.har"))[:1]
    return [p for p in found if p.exists()]


@pytest.mark.parametrize("fmt", FORMATS)
def test_cli_runs_offline(tmp_path, fmt):
    (tmp_path / "sitecustomize.py").write_text(SITECUSTOMIZE)
    log = tmp_path / "net.log"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]),
           "PREFIXLINT_NET_LOG": str(log), "GITHUB_ACTIONS": ""}
    probe = subprocess.run([sys.executable, "-c", "import socket; socket.create_connection(('127.0.0.1', 9))"],
                           env=env, capture_output=True, text=True)
    assert probe.returncode != 0 and log.exists(), "the socket stub is not installed"
    log.unlink()
    out = subprocess.run(
        [sys.executable, "-m", "prefixlint", "check", *map(str, _inputs()), "--format", fmt, "--fail-on", "never",
         "--isolated", "--jobs", "2"],
        env=env, capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout
    assert not log.exists(), log.read_text()


def _json_report(jobs: int) -> bytes:
    out = subprocess.run(
        [sys.executable, "-m", "prefixlint", "check", str(FIXTURES), "--format", "json", "--isolated",
         "--jobs", str(jobs)],
        capture_output=True, cwd=ROOT, timeout=120,
    )
    assert out.returncode in (0, 1), out.stderr
    return out.stdout


def test_jobs_gives_the_serial_report_byte_for_byte():
    serial = _json_report(1)
    assert serial == _json_report(2)
    assert serial == _json_report(0)


def test_jobs_in_process(tmp_path):
    from prefixlint import engine
    from prefixlint.report import json as json_report
    from prefixlint.rules import RULES

    (tmp_path / "bad.jsonl").write_bytes(b'{"model": "gpt-4o", "messages": []}\nnot json\n')
    paths = [str(FIXTURES / "demo"), str(tmp_path / "missing.jsonl"), str(tmp_path / "bad.jsonl"), str(FIXTURES / "har")]
    serial = engine.run(paths, RULES, engine.Options())
    parallel = engine.run(paths, RULES, engine.Options(), jobs=2)
    assert json_report.render(serial) == json_report.render(parallel)
    assert parallel.input_error and parallel.summary.unreadable == 1


def test_negative_jobs_is_a_usage_error():
    out = subprocess.run([sys.executable, "-m", "prefixlint", "check", str(FIXTURES / "demo"), "--jobs", "-1"],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 2 and "--jobs" in out.stderr
