"""Planted credentials never reach any report, whatever the input format.

Every long text of each per-format fixture gets a key appended (different on every record, so the
texts change between turns and the keys land in excerpts), and the headers and URLs of captures
carry keys too; no report format may show any of them. claude-trace and HAR captures are covered
by tests/test_trace_har.py the same way; harness configurations (own format, LiteLLM) are planted here
too.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
import yaml
from typer.testing import CliRunner

from conftest import FIXTURES
from prefixlint.cli import app

KEYS = [
    "sk-ant-api03-Pl4ntedK3yXq3vT9bK2mN8pL5rW1yZ7cF4hJ6dG0sA-_uE2iO9nB3vC8xM1kQ7wR5tY4_pL0aZ9sD8fG7hJ6kL5zXc",
    "sk-proj-Pl4nted12Cd34Ef56Gh78Ij90Kl12Mn34Op56Qr78St90Uv12Wx34Yz56_-Ab12Cd34",
    "AIzaSyPl4ntedhJ9kL2mN5pQ8rS1tU3vW6xY0zA2",
]


def _plant(value, n: int):
    """Append a key (which one depends on the record) to every long text."""
    if isinstance(value, dict):
        return {k: _plant(v, n) for k, v in value.items()}
    if isinstance(value, list):
        return [_plant(v, n) for v in value]
    if isinstance(value, str) and len(value) > 24 and not value.lstrip().startswith(("{", "[")):
        return f"{value} api_key={KEYS[n % len(KEYS)]} (record {n})"
    return value


def _planted_jsonl(src: Path, dst: Path) -> Path:
    lines = [orjson.loads(raw) for raw in src.read_bytes().splitlines() if raw.strip()]
    dst.write_bytes(b"".join(orjson.dumps(_plant(r, n)) + b"\n" for n, r in enumerate(lines)))
    return dst


def _planted_cassette(src: Path, dst: Path) -> Path:
    doc = yaml.safe_load(src.read_text())
    for n, interaction in enumerate(doc["interactions"]):
        request = interaction["request"]
        request.setdefault("headers", {})["x-api-key"] = [KEYS[0]]
        request["headers"]["authorization"] = [f"Bearer {KEYS[1]}"]
        body = request.get("body")
        raw = body.get("string") if isinstance(body, dict) else body
        if isinstance(raw, str) and raw.strip().startswith("{"):
            planted = orjson.dumps(_plant(orjson.loads(raw), n)).decode()
            request["body"] = {"string": planted} if isinstance(body, dict) else planted
    dst.write_text(yaml.safe_dump(doc))
    return dst


FIXTURE_FILES = [
    "formats/gemini-tool-added.jsonl",
    "formats/bedrock-tool-removed.jsonl",
    "formats/claude-code-transcript.jsonl",
    "formats/responses-chain.jsonl",
    "demo/broken-agent-session.jsonl",
    "cassettes/anthropic-tool-removed.yaml",
]


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> list[str]:
    out = tmp_path_factory.mktemp("planted")
    paths = []
    for name in FIXTURE_FILES:
        src = FIXTURES / name
        dst = out / src.name
        (_planted_cassette if src.suffix == ".yaml" else _planted_jsonl)(src, dst)
        assert any(k in dst.read_text() for k in KEYS)  # the keys are really in the input
        paths.append(str(dst))
    # harness configurations: a key in the system prompt next to a changing value (so it reaches the
    # excerpts), in settings, in a variable's example, and LiteLLM's api_key
    own = out / "agent.harness.yaml"
    own.write_text(
        "prefixlint: harness/v1\nmodel: claude-sonnet-4-5\nsystem:\n  template: |\n"
        f"    Time {{{{ now }}}} key {KEYS[0]} for {{{{ team }}}}.\n"
        f"variables:\n  team: {{lifetime: per-request, example: '{KEYS[1]}'}}\n"
        f"settings:\n  metadata: {{user_id: '{KEYS[2]}'}}\ncache:\n  strategy: automatic\n"
    )
    litellm = out / "config.yaml"
    litellm.write_text(
        "model_list:\n  - model_name: claude\n    litellm_params:\n      model: anthropic/claude-sonnet-4-5\n"
        f"      api_key: {KEYS[0]}\n  - model_name: broken\n    litellm_params: '{KEYS[1]}'\n"
    )
    return [*paths, str(own), str(litellm)]


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github", "markdown", "html"])
def test_no_planted_key_in_any_report(planted, fmt):
    result = CliRunner().invoke(app, ["check", *planted, "--format", fmt, "--fail-on", "never"])
    assert result.exit_code == 0, result.output
    # the changed texts (and so the keys) reach findings: PL201 with an excerpt around the change
    assert "PL201" in result.output
    if fmt in ("text", "json"):
        assert "[REDACTED]" in result.output
    for key in KEYS:
        for piece in (key, key[:24], key[-24:]):
            assert piece not in result.output, (fmt, piece)
