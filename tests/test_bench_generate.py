"""The benchmark log generator (tests/bench/generate.py) writes a correct, append-only log."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent / "bench"


def _load_generate():
    spec = importlib.util.spec_from_file_location("bench_generate", BENCH / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.generate


generate = _load_generate()


def _strip_cache_control(obj):
    if isinstance(obj, dict):
        return {k: _strip_cache_control(v) for k, v in obj.items() if k != "cache_control"}
    if isinstance(obj, list):
        return [_strip_cache_control(v) for v in obj]
    return obj


def _canon(message) -> str:
    # json.dumps keeps key order, so equal strings mean same content in the same key order.
    return json.dumps(_strip_cache_control(message), ensure_ascii=False)


def _count_cache_control(obj) -> int:
    if isinstance(obj, dict):
        return ("cache_control" in obj) + sum(_count_cache_control(v) for v in obj.values())
    if isinstance(obj, list):
        return sum(_count_cache_control(v) for v in obj)
    return 0


@pytest.fixture(scope="module")
def log(tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / "log.jsonl"
    stats = generate(path, 2, seed=7)
    return path, stats


def test_log_is_valid_and_append_only(log):
    path, stats = log
    raw = path.read_bytes()
    assert 1_900_000 <= len(raw) <= 3_000_000
    lines = raw.splitlines()
    assert len(lines) == stats["records"]

    previous: dict[str, list[str]] = {}
    last_ts = None
    multi_turn = 0
    providers = set()
    statics = set()
    for line in lines:
        record = json.loads(line)
        assert list(record) == ["timestamp", "session", "request", "response"]
        assert list(record["response"]) == ["usage"]
        assert record["timestamp"].endswith("Z")
        ts = datetime.fromisoformat(record["timestamp"].replace("Z", "+00:00"))
        assert last_ts is None or ts > last_ts
        last_ts = ts

        body = record["request"]
        usage = record["response"]["usage"]
        messages = body["messages"]
        if body["model"].startswith("claude"):
            providers.add("anthropic")
            assert set(usage) == {"input_tokens", "cache_creation_input_tokens",
                                  "cache_read_input_tokens", "output_tokens"}
            assert all(isinstance(v, int) and v >= 0 for v in usage.values())
            statics.add(body["system"][0]["text"])
            statics.update(t["description"] for t in body.get("tools", []))
            if "tools" in body:  # agent request: one rolling breakpoint, on the last message
                assert _count_cache_control(messages) == 1
                assert "cache_control" in messages[-1]["content"][-1]
            else:  # side call (title / summary): one message, no breakpoint
                assert len(messages) == 1
                assert _count_cache_control(messages) == 0
        else:
            providers.add("openai")
            assert messages[0]["role"] == "system"
            assert usage["prompt_tokens_details"]["cached_tokens"] <= usage["prompt_tokens"]
            statics.add(messages[0]["content"])
            statics.update(t["function"]["description"] for t in body["tools"])

        current = [_canon(m) for m in messages]
        before = previous.get(record["session"])
        if before is not None:
            multi_turn += 1
            assert len(current) > len(before)
            assert current[: len(before)] == before, record["session"]
        previous[record["session"]] = current

    assert providers == {"anthropic", "openai"}
    assert multi_turn >= 20
    # Nothing dynamic in system prompts or tool descriptions: no digits at all, so no dates,
    # uuids or hex ids (those would be legitimate findings).
    for text in statics:
        assert not re.search(r"\d", text)


def test_same_seed_same_bytes(log, tmp_path):
    path, _ = log
    again = tmp_path / "again.jsonl"
    generate(again, 2, seed=7)
    assert again.read_bytes() == path.read_bytes()
    other = tmp_path / "other.jsonl"
    generate(other, 0.5, seed=8)
    assert not path.read_bytes().startswith(other.read_bytes()[:1000])


@pytest.mark.slow
def test_benchmark_runs(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(BENCH / "run.py"), "--size-mb", "40", "--small-mb", "10"],
        capture_output=True, text=True, timeout=1800, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "bare parse" in proc.stdout
