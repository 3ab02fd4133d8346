"""The HTML report: one self-contained page, its elements, escaping, and a real browser render."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import ROOT
from prefixlint import engine
from prefixlint.cli import app
from prefixlint.engine import RunResult, Summary
from prefixlint.model import Finding, Location
from prefixlint.report import html as html_report
from prefixlint.rules import RULES
from typer.testing import CliRunner

DEMO = "fixtures/demo/broken-agent-session.jsonl"
ARTIFACTS = ROOT / "tests" / "artifacts"
CLEAN_ENV = {"FORCE_COLOR": None, "NO_COLOR": None, "COLUMNS": None, "GITHUB_ACTIONS": None, "PREFIXLINT_DEBUG": None}


class Element:
    def __init__(self, tag: str, attrs: dict[str, str | None], parent: Element | None) -> None:
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Element] = []
        self.text = ""

    @property
    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()

    def find(self, cls: str | None = None, tag: str | None = None) -> list[Element]:
        return [el for el in self.walk() if (cls is None or cls in el.classes) and (tag is None or el.tag == tag)]

    def all_text(self) -> str:
        return self.text + "".join(c.all_text() for c in self.children)


_VOID = {"meta", "link", "br", "img", "input", "hr", "source", "area", "base", "col", "embed", "wbr"}


class Tree(HTMLParser):
    """A small DOM built with the standard library parser."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#root", {}, None)
        self.node = self.root
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        el = Element(tag, dict(attrs), self.node)
        self.node.children.append(el)
        if tag not in _VOID:
            self.node = el

    def handle_endtag(self, tag):
        node = self.node
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.node = node.parent

    def handle_data(self, data):
        self.node.text += data


@pytest.fixture(scope="module")
def demo() -> RunResult:
    cwd = Path.cwd()
    try:
        import os

        os.chdir(ROOT)
        return engine.run([DEMO], RULES, engine.Options())
    finally:
        os.chdir(cwd)


@pytest.fixture(scope="module")
def page(demo) -> str:
    return html_report.render(demo).decode("utf-8")


def test_cli_writes_the_page(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "report.html"
    result = CliRunner().invoke(app, ["check", DEMO, "--format", "html", "--output", str(out)], env=CLEAN_ENV)
    assert result.exit_code == 1, result.output
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert text.rstrip().endswith("</html>")
    again = CliRunner().invoke(app, ["check", DEMO, "--format", "html"], env=CLEAN_ENV)
    assert again.stdout == text  # deterministic, same page on stdout


def test_timelines_are_kept_only_for_the_html_report(monkeypatch):
    """Per-turn figures (ThreadStats.turns) grow with the log: kept only when a page shows them."""
    monkeypatch.chdir(ROOT)
    asked = []
    run = engine.run
    monkeypatch.setattr(engine, "run", lambda paths, rules, options, **kw: asked.append(options.timelines) or run(paths, rules, options, **kw))
    for fmt in ("html", "json", "text", "sarif"):
        CliRunner().invoke(app, ["check", DEMO, "--format", fmt], env=CLEAN_ENV)
    assert asked == [True, False, False, False]
    with_turns = run([DEMO], RULES, engine.Options())
    without = run([DEMO], RULES, engine.Options(timelines=False))
    assert all(t.turns for t in with_turns.threads) and not any(t.turns for t in without.threads)
    assert [(t.thread, t.requests, t.total, t.predicted_read) for t in without.threads] == [
        (t.thread, t.requests, t.total, t.predicted_read) for t in with_turns.threads]


def test_elements(demo, page):
    root = Tree(page).root
    summary = [el for el in root.walk() if el.attrs.get("id") == "summary"]
    assert len(summary) == 1
    stats = {el.attrs.get("data-severity"): el.all_text() for el in summary[0].find("stat")}
    assert stats["error"].startswith("3") and stats["warning"].startswith("1") and stats["info"].startswith("0")
    assert "48%" in summary[0].all_text() and "74%" in summary[0].all_text() and "6,800" in summary[0].all_text()

    threads = root.find("thread")
    assert [t.attrs["data-thread"] for t in threads] == ["T1", "T2", "T3"]
    for section, stats in zip(threads, demo.threads):
        turns = section.find("turn")
        assert len(turns) == stats.requests
        assert [int(t.attrs["data-turn"]) for t in turns] == [p.turn for p in stats.turns]

    findings = root.find("finding")
    assert [f.attrs["data-code"] for f in findings] == ["PL202", "PL101", "PL305", "PL401"]
    assert all(f.attrs["data-severity"] in ("error", "warning") for f in findings)
    assert findings[3].attrs["data-turn"] == "6"
    t1 = threads[0]
    assert len(t1.find("finding")) == 4 and not threads[1].find("finding")
    for f in findings:
        text = f.all_text()
        assert f.attrs["data-code"] in text and "Fix:" in text and "Impact:" in text
    assert "claude-opus-4-1" in findings[3].all_text()  # the excerpt: before / after


def test_breaks_are_marked_on_their_turn(page):
    root = Tree(page).root
    t1 = root.find("thread")[0]
    broken = {int(t.attrs["data-turn"]): t for t in t1.find("turn") if "break" in t.classes}
    assert sorted(broken) == [1, 3, 5, 6]
    anchors = {f.attrs["id"]: f.attrs["data-code"] for f in t1.find("finding")}
    for turn, code in ((1, "PL202"), (3, "PL101"), (5, "PL305"), (6, "PL401")):
        markers = broken[turn].find("marker")
        assert [m.attrs["data-code"] for m in markers] == [code]
        assert anchors[markers[0].attrs["href"].lstrip("#")] == code
    # cached vs re-processed: turn 2 reads the whole of turn 1 from the cache
    bar = next(t for t in t1.find("turn") if t.attrs["data-turn"] == "2")
    assert "2,219 cached · 57 re-processed" in bar.all_text()
    assert bar.find("read") and bar.find("re")


def test_self_contained(page):
    root = Tree(page).root
    assert not root.find(tag="link")
    assert not [s for s in root.find(tag="script") if "src" in s.attrs]
    for el in root.walk():
        for name in ("src", "href", "srcset", "action", "data", "poster"):
            value = el.attrs.get(name) or ""
            assert not value.startswith(("http:", "https:", "//")), (el.tag, name, value)
        assert "url(" not in (el.attrs.get("style") or "")
    style = "".join(s.all_text() for s in root.find(tag="style"))
    assert "@import" not in style and "url(" not in style and "@font-face" not in style
    assert "http://" not in page and "https://" not in page


def _result(finding: Finding) -> RunResult:
    summary = Summary(files=1, records=1, requests=1)
    summary.by_severity[finding.severity] += 1
    return RunResult(findings=[finding], summary=summary, diagnostics=[])


def test_everything_is_escaped():
    evil = '<script>alert("x")</script>'
    loc = Location(file='a"><zz>.jsonl', line=1, entry=None, pointer="/x<y>", thread=None, turn=None)
    f = Finding("PL999", "x-y", "tools", "error", f"msg {evil} `a<b`", f"fix {evil}", loc, "fp",
                excerpt={"before": evil, "after": "</pre><qq>"})
    page = html_report.render(_result(f)).decode("utf-8")
    assert "<script" not in page and "<zz>" not in page and "<qq>" not in page and "</pre><" not in page
    assert "&lt;script&gt;" in page and "<code>a&lt;b</code>" in page
    root = Tree(page).root
    other = [el for el in root.walk() if el.attrs.get("id") == "other-findings"]
    assert len(other) == 1 and other[0].find("finding")[0].attrs["data-code"] == "PL999"


def test_rich_keeps_unpaired_backticks():
    assert html_report.rich("a `b` c") == "a <code>b</code> c"
    assert html_report.rich("a `b c") == "a `b c"


def _chromium() -> str | None:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if shutil.which("apt-get") is None or not hasattr(__import__("os"), "geteuid") or __import__("os").geteuid():
        return None
    try:
        subprocess.run(["apt-get", "install", "-y", "chromium"], capture_output=True, timeout=300, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return shutil.which("chromium")


BROWSER_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def test_renders_in_headless_chromium(page):
    browser = _chromium()
    if browser is None:
        pytest.skip("chromium is not installed and could not be installed (no apt-get or no root)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    report = ARTIFACTS / "report.html"
    report.write_text(page, encoding="utf-8")
    shot = ARTIFACTS / "report.png"
    shot.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        flags = [browser, *BROWSER_FLAGS, f"--user-data-dir={profile}"]
        try:
            subprocess.run([*flags, f"--screenshot={shot}", "--window-size=1280,2000", report.as_uri()],
                           capture_output=True, timeout=90, check=False)
            dom = subprocess.run([*flags, "--dump-dom", report.as_uri()], capture_output=True, text=True,
                                 timeout=90, check=False).stdout
        except subprocess.TimeoutExpired:
            pytest.skip("chromium did not finish within 90 s")
    assert shot.exists() and shot.stat().st_size > 10_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    root = Tree(dom).root
    assert [el for el in root.walk() if el.attrs.get("id") == "summary"]
    assert len(root.find("thread")) == 3
    assert len(root.find("turn")) == 9
    assert [f.attrs["data-code"] for f in root.find("finding")] == ["PL202", "PL101", "PL305", "PL401"]
