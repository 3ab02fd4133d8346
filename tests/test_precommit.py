"""The pre-commit hook (.pre-commit-hooks.yaml) and the progress bar for large inputs.

The end-to-end test runs ``pre-commit try-repo`` against a snapshot of this project (committed in
a temporary repository, so that uncommitted and untracked work, the hook file included, is what
gets installed) from another temporary repository holding request logs. It builds the hook's
virtualenv with pip, which takes about 20 s (two hook
environments); it skips when pre-commit or git is missing, or when no package index is reachable.
"""

from __future__ import annotations

import gzip
import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from prefixlint import engine
from prefixlint import progress as progress_mod
from prefixlint.progress import Tracker, input_size, progress, wanted
from prefixlint.rules import RULES

ROOT = Path(__file__).resolve().parent.parent
HOOKS_FILE = ROOT / ".pre-commit-hooks.yaml"
DEMO = ROOT / "fixtures" / "demo"


def _hook(hook_id: str = "prefixlint") -> dict:
    manifest = yaml.safe_load(HOOKS_FILE.read_text(encoding="utf-8"))
    assert isinstance(manifest, list) and [h["id"] for h in manifest] == ["prefixlint", "prefixlint-harness"]
    return next(h for h in manifest if h["id"] == hook_id)


def _selected(hook: dict, path: str) -> bool:
    """pre-commit's filename filter: ``re.search`` of ``files``, minus ``exclude``."""
    if not re.search(hook.get("files", ""), path):
        return False
    exclude = hook.get("exclude")
    return not (exclude and re.search(exclude, path))


# --- the hook definition -------------------------------------------------------------------------


def test_hook_manifest_has_the_required_keys():
    hook = _hook()
    for key in ("id", "name", "entry", "language"):
        assert isinstance(hook.get(key), str) and hook[key], key
    assert hook["id"] == "prefixlint"
    assert hook["entry"] == "prefixlint check"
    assert hook["language"] == "python"
    assert hook["require_serial"] is True
    assert hook["pass_filenames"] is True
    assert hook["entry"].split()[0] in _console_scripts()


def _console_scripts() -> set[str]:
    import tomllib

    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return set(data["project"]["scripts"])


@pytest.mark.parametrize(
    "path",
    [
        "logs/run.jsonl",
        "a.json.gz",
        "session.json",
        "traces/2026-01-02.ndjson",
        "traces/big.jsonl.gz",
        "package.json",  # not a log, but plain JSON: counted as a skipped record, exit 0
        "agents/coder.harness.yaml",
        "coder.harness.yml",
    ],
)
def test_hook_files_select_request_logs(path):
    assert _selected(_hook(), path)


@pytest.mark.parametrize(
    ("path", "selected"),
    [
        ("src/main/resources/application.yml", True),
        ("src/main/resources/application-prod.properties", True),
        ("proxy/config.yaml", True),
        ("agents/coder.harness.json", True),
        (".github/workflows/ci.yml", True),  # given to the hook, left alone by --harness-only
        ("README.md", False),
        ("logs/run.jsonl", False),
        ("node_modules/x/config.yaml", False),
    ],
)
def test_harness_hook_files(path, selected):
    assert _selected(_hook("prefixlint-harness"), path) is selected


def test_harness_only_lints_configurations_and_leaves_other_files_alone(tmp_path):
    """What the harness hook is given: every YAML/JSON/.properties file; only configurations are read."""
    workflow = tmp_path / "ci.yml"
    workflow.write_text("on: push\njobs: {}\n", encoding="utf-8")
    (tmp_path / "package.json").write_text('{"name": "demo"}\n', encoding="utf-8")
    spring = tmp_path / "application.yml"
    spring.write_text((ROOT / "fixtures" / "harness" / "spring" / "none" / "application.yml").read_text(encoding="utf-8"))
    files = [str(workflow), str(tmp_path / "package.json"), str(spring)]
    result = engine.run(files, RULES, engine.Options(harness_only=True))
    assert not result.diagnostics and result.summary.files == 1
    assert [(f.code, Path(f.location.file).name) for f in result.findings] == [("PL607", "application.yml")]
    nothing = engine.run(files[:2], RULES, engine.Options(harness_only=True))
    assert nothing.summary.files == 0 and nothing.exit_code("error") == 0


@pytest.mark.parametrize(
    "path",
    [
        "README.md",
        "src/agent.py",
        "logs/run.jsonl.bak",
        ".github/workflows/ci.yml",
        "docker-compose.yaml",
        "tests/cassettes/test_chat.yaml",  # cassettes: opt in with `files:` (see the README)
        "tsconfig.json",
        "web/tsconfig.build.json",
        ".vscode/settings.json",
        ".devcontainer/devcontainer.json",
        "node_modules/x/data.json",
        ".eslintrc.json",
    ],
)
def test_hook_files_leave_other_files_alone(path):
    assert not _selected(_hook(), path)


def test_hook_manifest_passes_pre_commit_validation():
    clientlib = pytest.importorskip("pre_commit.clientlib")
    hooks = clientlib.load_manifest(str(HOOKS_FILE))
    assert [h["id"] for h in hooks] == ["prefixlint", "prefixlint-harness"]


def test_non_cassette_yaml_given_by_name_is_an_input_problem(tmp_path):
    """Why the default ``files`` leaves YAML out: a workflow file passed by name exits 2."""
    workflow = tmp_path / "ci.yml"
    workflow.write_text("on: push\njobs: {}\n", encoding="utf-8")
    result = engine.run([str(workflow)], RULES, engine.Options())
    assert result.exit_code("error") == 2
    assert any("cassette" in d.message for d in result.diagnostics)


def test_readme_documents_pre_commit_and_ci():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "## pre-commit and CI" in text
    section = text.split("## pre-commit and CI", 1)[1].split("\n## ", 1)[0]
    for needle in (
        "https://github.com/OWNER/prefixlint",
        "rev:",
        "id: prefixlint",
        "--format sarif --output prefixlint.sarif",
        "github/codeql-action/upload-sarif@v3",
        "sarif_file",
    ):
        assert needle in section, needle


# --- end to end with pre-commit try-repo ---------------------------------------------------------


def _pre_commit() -> list[str] | None:
    try:
        import pre_commit  # noqa: F401
    except ImportError:
        exe = shutil.which("pre-commit")
        return [exe] if exe else None
    return [sys.executable, "-m", "pre_commit"]


def _git(cwd: Path, *args: str, env: dict[str, str]) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def _clean_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.pop("GITHUB_ACTIONS", None)  # keep prefixlint's default text format
    env["PRE_COMMIT_HOME"] = str(tmp_path / "pre-commit-home")
    env["PRE_COMMIT_COLOR"] = "never"
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    env["GIT_AUTHOR_NAME"] = env["GIT_COMMITTER_NAME"] = "prefixlint tests"
    env["GIT_AUTHOR_EMAIL"] = env["GIT_COMMITTER_EMAIL"] = "tests@prefixlint.invalid"
    return env


def _init_repo(path: Path, env: dict[str, str]) -> None:
    path.mkdir(parents=True)
    _git(path, "init", "-q", env=env)
    _git(path, "config", "user.email", "tests@prefixlint.invalid", env=env)
    _git(path, "config", "user.name", "prefixlint tests", env=env)
    _git(path, "config", "commit.gpgsign", "false", env=env)


def _snapshot_of_this_project(dest: Path, env: dict[str, str]) -> str:
    """Commit the working tree's hook, package and metadata in a fresh repository; its HEAD."""
    _init_repo(dest, env)
    for name in (".pre-commit-hooks.yaml", "pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, dest / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for package in ("lint", "rules"):
        shutil.copytree(ROOT / package, dest / package, ignore=ignore)
    _git(dest, "add", "-A", env=env)
    _git(dest, "commit", "-q", "-m", "snapshot", env=env)
    return _git(dest, "rev-parse", "HEAD", env=env)


def test_pre_commit_try_repo_fails_on_a_broken_log_and_passes_a_clean_one(tmp_path):
    command = _pre_commit()
    if command is None:
        pytest.skip("pre-commit is not installed")
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    env = _clean_env(tmp_path)
    hook_repo = tmp_path / "prefixlint"
    rev = _snapshot_of_this_project(hook_repo, env)

    work = tmp_path / "work"
    _init_repo(work, env)
    (work / "logs").mkdir()
    shutil.copy2(DEMO / "broken-agent-session.jsonl", work / "logs" / "broken.jsonl")
    shutil.copy2(DEMO / "clean-agent-session.jsonl", work / "logs" / "clean.jsonl")
    # Files the hook must not be given: a workflow (YAML, not a cassette), JSON with comments.
    (work / ".github" / "workflows").mkdir(parents=True)
    (work / ".github" / "workflows" / "ci.yml").write_text("on: push\njobs: {}\n", encoding="utf-8")
    (work / "tsconfig.json").write_text('{\n  // comments\n  "compilerOptions": {}\n}\n', encoding="utf-8")
    (work / "package.json").write_text('{"name": "demo", "version": "1.0.0"}\n', encoding="utf-8")
    (work / "README.md").write_text("# demo\n", encoding="utf-8")
    _git(work, "add", "-A", env=env)

    def try_repo(*files: str, hook: str = "prefixlint") -> subprocess.CompletedProcess[str]:
        args = ["--files", *files] if files else ["--all-files"]
        return subprocess.run(
            [*command, "try-repo", str(hook_repo), hook, "--ref", rev, "--verbose", *args],
            check=False, cwd=work, env=env, capture_output=True, text=True, timeout=900,
        )

    def skip_if_no_environment(done: subprocess.CompletedProcess[str]) -> None:
        # pre-commit exits 3 on its own errors; failing to build the hook's virtualenv (no package
        # index reachable) is the environment's problem, not the hook's.
        out = done.stdout + done.stderr
        if done.returncode == 3 and "An unexpected error has occurred" in out and "Installing environment" in out:
            pytest.skip(f"pre-commit could not install the hook environment: {out[-500:]}")

    broken = try_repo("logs/broken.jsonl")
    skip_if_no_environment(broken)
    out = broken.stdout + broken.stderr
    assert broken.returncode == 1, out
    assert "prefixlint" in out and "Failed" in out, out
    assert "PL101" in out and "tool-set-changed" in out, out
    assert "logs/broken.jsonl" in out, out

    # Everything but the broken log: the clean log, and files the filter keeps away from the hook.
    (work / "logs" / "broken.jsonl").unlink()
    _git(work, "add", "-A", env=env)
    clean = try_repo()
    out = clean.stdout + clean.stderr
    assert clean.returncode == 0, out
    assert "Passed" in out, out
    # The clean log and package.json (a skipped record); not the workflow, tsconfig.json, README.
    assert "Checked 2 files" in out and "Skipped 1 record" in out, out

    # The harness hook: given every YAML file, it lints the configuration and leaves the workflow alone.
    (work / "agent.yaml").write_text(
        "prefixlint: harness/v1\nmodel: claude-sonnet-4-5\nsystem: 'Now: {{ now }}. You review code.'\n"
        "cache:\n  strategy: automatic\n", encoding="utf-8")
    _git(work, "add", "-A", env=env)
    harness = try_repo("agent.yaml", ".github/workflows/ci.yml", hook="prefixlint-harness")
    out = harness.stdout + harness.stderr
    assert harness.returncode == 1, out
    assert "agent.yaml:3" in out and "PL202" in out and "Checked 1 file" in out, out


# --- progress bar --------------------------------------------------------------------------------


def _terminal() -> tuple[object, io.StringIO]:
    from rich.console import Console

    buffer = io.StringIO()
    return Console(file=buffer, force_terminal=True, width=100, color_system=None), buffer


def _log(tmp_path: Path, name: str = "big.jsonl", lines: int = 200) -> Path:
    path = tmp_path / name
    path.write_bytes(b"".join(b'{"model": "m", "messages": []}\n' for _ in range(lines)))
    return path


def test_progress_disabled_writes_nothing(tmp_path, capsys):
    log = _log(tmp_path)
    console, buffer = _terminal()
    with progress([str(log)], enabled=False, console=console, min_bytes=0) as tracker:
        tracker(100)
        tracker.file_done(str(log))
    assert not tracker.enabled
    assert buffer.getvalue() == ""
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_progress_below_the_threshold_writes_nothing(tmp_path):
    log = _log(tmp_path)
    console, buffer = _terminal()
    with progress([str(log)], enabled=True, console=console) as tracker:
        tracker(log.stat().st_size)
    assert not tracker.enabled
    assert buffer.getvalue() == ""


def test_progress_enabled_draws_on_a_terminal(tmp_path, monkeypatch):
    monkeypatch.setattr(progress_mod, "_FLUSH_BYTES", 1)
    log = _log(tmp_path)
    size = log.stat().st_size
    console, buffer = _terminal()
    with progress([str(log)], enabled=True, console=console, min_bytes=0) as tracker:
        assert tracker.enabled
        tracker(size // 2)
        assert tracker.completed == size // 2
        console.print("(drawn)")  # rich redraws the live bar around printed output
        tracker.file_done(str(log))
        assert tracker.completed == size
    drawn = buffer.getvalue()
    assert "Reading 1 file" in drawn
    assert "\x1b[" in drawn  # cursor control: a live display, erased at the end (transient)


def test_progress_expands_directories_and_counts_gzip_uncompressed(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    plain = _log(logs, "a.jsonl", lines=10)
    raw = b"".join(b'{"model": "m", "messages": [], "pad": "' + b"x" * 200 + b'"}\n' for _ in range(50))
    packed = logs / "b.jsonl.gz"
    packed.write_bytes(gzip.compress(raw))
    (logs / "notes.txt").write_text("not a log", encoding="utf-8")
    assert input_size(str(packed)) == len(raw)
    assert input_size(str(tmp_path / "missing.jsonl")) == 0
    assert input_size("-") == 0
    console, buffer = _terminal()
    with progress([str(logs), str(tmp_path / "missing")], enabled=True, console=console, min_bytes=0) as tracker:
        tracker.file_done(str(plain))
        tracker.file_done(str(packed))
        assert tracker.completed == plain.stat().st_size + len(raw)
    assert "Reading 2 files" in buffer.getvalue()


def test_progress_tracker_flushes_in_batches():
    class Bar:
        def __init__(self) -> None:
            self.updates: list[int] = []

        def update(self, task, completed):
            self.updates.append(completed)

    bar = Bar()
    tracker = Tracker(bar, 0, {"a.jsonl": 10_000_000})
    tracker._last = float("inf")  # only the byte threshold can flush
    for _ in range(1000):
        tracker(100)
    assert bar.updates == []  # 100 kB pending: below the batch size
    tracker(progress_mod._FLUSH_BYTES)
    assert bar.updates == [100_000 + progress_mod._FLUSH_BYTES]
    tracker.file_done("a.jsonl")
    assert bar.updates[-1] == 10_000_000


class _Stream:
    def __init__(self, tty: bool) -> None:
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_wanted_only_for_text_on_a_terminal(monkeypatch):
    for name in ("CI", "GITHUB_ACTIONS", "TERM"):
        monkeypatch.delenv(name, raising=False)
    tty, pipe = _Stream(True), _Stream(False)
    assert wanted("text", stderr=tty, stdout=tty)
    assert wanted("text", to_file=True, stderr=tty, stdout=pipe)  # --output FILE
    assert not wanted("text", stderr=pipe, stdout=tty)  # stderr piped or redirected
    assert not wanted("text", stderr=tty, stdout=pipe)  # report piped (into a pager, a program)
    for fmt in ("json", "sarif", "github", "markdown", "html"):
        assert not wanted(fmt, stderr=tty, stdout=tty)
        assert not wanted(fmt, to_file=True, stderr=tty, stdout=tty)
    assert not wanted("text", stderr=object(), stdout=tty)  # no isatty at all
    monkeypatch.setenv("TERM", "dumb")
    assert not wanted("text", stderr=tty, stdout=tty)
    monkeypatch.delenv("TERM")
    monkeypatch.setenv("CI", "true")
    assert not wanted("text", stderr=tty, stdout=tty)


def test_progress_bar_is_driven_by_the_engine(tmp_path):
    """engine.run reports the bytes it reads and each finished file to the tracker."""
    from prefixlint import engine
    from prefixlint.rules import RULES

    log = ROOT / "fixtures" / "demo" / "clean-agent-session.jsonl"

    class Spy:
        def __init__(self):
            self.bytes, self.files = 0, []

        def __call__(self, n):
            self.bytes += n

        def file_done(self, path):
            self.files.append(path)

    spy = Spy()
    engine.run([str(log)], RULES, engine.Options(), tracker=spy)
    assert spy.bytes == log.stat().st_size
    assert spy.files == [str(log)]
