"""Harness configurations in prefixlint's own format: exact findings at exact configuration lines,
clear errors for invalid files, template variables and their lifetimes, discovery by content."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from conftest import FIXTURES
from typer.testing import CliRunner

from prefixlint import engine, harness
from prefixlint.cli import app
from prefixlint.harness.loader import HarnessError, load_yaml
from prefixlint.harness.own import build
from prefixlint.harness.render import TURNS, render
from prefixlint.harness.template import compile_template, detect_syntax, lifetime_by_name
from prefixlint.rules import RULES

OWN = FIXTURES / "harness" / "own"


def check(path: Path | str, *args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(app, ["check", str(path), "--format", "json", "--fail-on", "never", *args])
    return result.exit_code, orjson.loads(result.stdout)


def found(report: dict) -> list[tuple]:
    return [
        (f["code"], f["location"]["line"], f["location"]["turn"], f["location"]["pointer"], f["severity"])
        for f in report["findings"]
    ]


# (code, line, turn, pointer, severity) of every finding, in report order
CASES = {
    "good.harness.yaml": [],
    "clock-in-system.harness.yaml": [
        ("PL201", 7, 2, "/system/0", "error"),
        ("PL202", 7, 1, "/system/0", "error"),
    ],
    "unordered-tools.harness.yaml": [("PL102", 8, 2, "/tools/0", "error")],
    "system-only.harness.yaml": [("PL606", 12, 2, "/system/0", "warning")],
    "no-cache.harness.yaml": [("PL607", 2, 1, "/cache_control", "warning")],
    "ttl-order.harness.yaml": [
        ("PL603", 12, 1, "/tools/0", "info"),
        ("PL602", 15, 1, "/system/0", "error"),
    ],
    "every-user-message.harness.yaml": [("PL601", 12, 4, "/messages/6/content/0", "error")],
    "sliding-window.harness.yaml": [("PL302", 10, 2, "/messages/1", "error")],
    "openai.harness.json": [
        ("PL201", 6, 2, "/messages/0", "error"),
        ("PL202", 6, 1, "/messages/0", "warning"),
        ("PL501", 10, 2, "/prompt_cache_key", "error"),
    ],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_own_format_fixture(name):
    code, report = check(OWN / name)
    assert code == 0
    assert report["diagnostics"] == []
    assert found(report) == CASES[name]
    assert all(f["location"]["file"] == str(OWN / name) for f in report["findings"])
    assert report["summary"]["records"] == 2 * TURNS
    assert report["summary"]["threads"] == (4 if "window" in name else 2)  # a sliding window loses the thread once


def test_variable_note_names_the_cause():
    _, report = check(OWN / "clock-in-system.harness.yaml")
    assert report["findings"][0]["message"].endswith(
        "In the configuration, the template variable `now` is per-request (by its name)."
    )


def test_exit_code_follows_fail_on():
    result = CliRunner().invoke(app, ["check", str(OWN / "no-cache.harness.yaml")])
    assert result.exit_code == 0  # a warning: the default --fail-on is error
    result = CliRunner().invoke(app, ["check", str(OWN / "no-cache.harness.yaml"), "--fail-on", "warning"])
    assert result.exit_code == 1
    result = CliRunner().invoke(app, ["check", str(OWN / "good.harness.yaml")])
    assert result.exit_code == 0


def test_template_in_a_file_is_reported_at_that_file(tmp_path):
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "system.j2").write_text(
        "You are the release assistant.\nBe brief.\nIt is {{ now }} now.\n"
    )
    config = tmp_path / "agent.yaml"
    config.write_text(
        "prefixlint: harness/v1\nmodel: claude-sonnet-4-5\nsystem:\n  file: prompts/system.j2\ncache:\n  strategy: automatic\n"
    )
    _, report = check(config)
    assert [(f["code"], Path(f["location"]["file"]).name, f["location"]["line"]) for f in report["findings"]] == [
        ("PL201", "system.j2", 3),
        ("PL202", "system.j2", 3),
    ]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("prefixlint: harness/v1\nmodel: claude-sonnet-4-5\ncache:\n  stratgy: none\n", 4,
         "cache.stratgy: unknown key (did you mean 'strategy'?)"),
        ("prefixlint: harness/v1\nmodel: claude-sonnet-4-5\ncache:\n  strategy: breakpoints\n  breakpoints:\n"
         "    - at: the-end\n", 6, "cache.breakpoints[0].at: 'the-end' is not one of 'tools', 'system'"),
        ("prefixlint: harness/v1\nmodel: 4\n", 2, "model: expected string, got an integer"),
        ("prefixlint: harness/v1\nsystem: hi\n", 1, "(top level): 'model' is a required property"),
        ("prefixlint: harness/v1\nmodel: a\nmodel: b\n", 3, "duplicate key 'model'"),
        ("prefixlint: harness/v1\nmodel: [a\n", 3, "invalid YAML"),
        ("prefixlint: harness/v1\nmodel: claude-sonnet-4-5\nsystem:\n  template: |\n    Hello\n    {{ user_name \n",
         6, "invalid Jinja2 template"),
        ("prefixlint: harness/v1\nmodel: claude-sonnet-4-5\ntools:\n  - file: missing.json\n", 4,
         "tools: cannot read missing.json"),
        ("prefixlint: harness/v1\nmodel: claude-sonnet-4-5\ntools:\n  - glob: none/*.json\n", 4,
         "tools: the glob 'none/*.json' matches no file"),
        ("prefixlint: harness/v1\nmodel: gpt-5\ncache:\n  breakpoints:\n    - at: system\n", 4,
         "cache.breakpoints: OpenAI caches prefixes automatically"),
        ("prefixlint: harness/v1\nmodel: claude-sonnet-4-5\nsettings:\n  messages: []\n", 4,
         "settings.messages: set by the harness itself"),
        ("prefixlint: harness/v1\nmodel: claude-sonnet-4-5\ncache:\n  breakpoints:\n    - at: messages\n", 5,
         "'at: messages' needs a 'role' or an 'index'"),
        ("prefixlint: harness/v1\nmodel: claude-sonnet-4-5\nsystem:\n  template: 'Hi {0}'\n  syntax: format\n", 3,
         "a format template needs named fields"),
        ("prefixlint: harness/v1\nmodel: claude-sonnet-4-5\nsystem: '{{ 1 / 0 }}'\n", None,
         "the template cannot be rendered: ZeroDivisionError"),
        ('prefixlint: harness/v1\nmodel: claude-sonnet-4-5\nsystem: "a \\ud800 b"\n', 3,
         "a string holds a lone surrogate escape"),
    ],
)
def test_invalid_configuration_is_one_diagnostic_with_its_line(tmp_path, text, line, message):
    config = tmp_path / "agent.yaml"
    config.write_text(text)
    code, report = check(config)
    assert code == 2  # nothing could be read
    assert report["findings"] == []
    [diagnostic] = report["diagnostics"]
    assert diagnostic["line"] == line
    assert diagnostic["message"].startswith("invalid harness configuration: ")
    assert message in diagnostic["message"]


def test_a_json_escaped_character_beyond_the_bmp_is_one_character(tmp_path):
    """JSON writes U+1F600 as a surrogate pair escape; YAML reads it as two surrogates: the loader
    makes them the character again."""
    config = tmp_path / "agent.harness.json"
    config.write_text('{"prefixlint": "harness/v1", "model": "claude-sonnet-4-5", "system": "Be \\ud83d\\ude00."}')
    loaded = load_yaml(config.read_bytes())
    assert loaded.doc["system"] == "Be \U0001F600."
    code, report = check(config)
    assert report["diagnostics"] == [] and report["summary"]["requests"] > 0


def test_one_bad_file_does_not_stop_the_others(tmp_path):
    (tmp_path / "bad.harness.yaml").write_text("prefixlint: harness/v1\nmodel: 4\n")
    code, report = check(tmp_path / "bad.harness.yaml", str(OWN / "no-cache.harness.yaml"))
    assert code == 0
    assert [f["code"] for f in report["findings"]] == ["PL607"]
    assert [d["line"] for d in report["diagnostics"]] == [2]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"prefixlint: harness/v1\na: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
         b"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
         b"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n", "alias bomb"),
        (b"prefixlint: harness/v1\nx: &x\n  y: *x\n", "recursive YAML alias"),
        (b"prefixlint: harness/v1\nx: " + b"[" * 5000 + b"]" * 5000 + b"\n", "nested deeper than"),
        (b"prefixlint: harness/v1\nmodel: caf\xe9\n", "invalid UTF-8"),
        (b"prefixlint: harness/v1\nx: !!python/object:os.system echo\n", "invalid YAML"),
    ],
)
def test_hostile_configuration_is_refused_without_a_traceback(tmp_path, data, message):
    config = tmp_path / "agent.yaml"
    config.write_bytes(data)
    code, report = check(config)
    assert code == 2
    assert message in report["diagnostics"][0]["message"]


def test_loader_lines_point_at_keys():
    loaded = load_yaml(b"a: 1\nb:\n  - x\n  - {y: 2}\nc: |\n  hello\n  world\n")
    assert loaded.doc == {"a": 1, "b": ["x", {"y": 2}], "c": "hello\nworld\n"}
    assert loaded.lines == {"": 1, "/a": 1, "/b": 2, "/b/0": 3, "/b/1": 4, "/b/1/y": 4, "/c": 5}
    assert loaded.text_lines == {"/c": 6}
    assert loaded.line("/b/1/y/z") == 4
    with pytest.raises(HarnessError):
        load_yaml(b"a: [")


@pytest.mark.parametrize(
    ("text", "syntax", "names"),
    [
        ("Hi {{ user }}, it is {{ now().strftime('%H:%M') }}.", "jinja", ["user", "now"]),
        ("{% if beta %}Beta {{ plan }}{% endif %}", "jinja", ["beta", "plan"]),
        ("Hi {user.name}, it is {now:%H:%M}.", "format", ["user", "now"]),
        ("Day %(date)s for %(team)s", "percent", ["date", "team"]),
        ("Run ${run_id} in $repo", "dollar", ["run_id", "repo"]),
        ("A plain prompt with {{ no }} end", "jinja", ["no"]),
        ("A plain prompt, JSON like {\"a\": 1} is no field.", "plain", []),
    ],
)
def test_template_syntax_and_variables(text, syntax, names):
    assert detect_syntax(text) == syntax
    assert compile_template(text).names == names


@pytest.mark.parametrize(
    ("name", "lifetime"),
    [("now", "per-request"), ("created_at", "per-request"), ("request_id", "per-request"), ("today", "per-request"),
     ("user_name", "per-session"), ("session_id", "per-session"), ("repo", "per-session"),
     ("context", None), ("product", None)],
)
def test_lifetime_by_name(name, lifetime):
    assert lifetime_by_name(name) == lifetime


def _rendered(text: str, tmp_path: Path) -> list:
    path = tmp_path / "agent.yaml"
    path.write_text(text)
    loaded = load_yaml(path.read_bytes())
    return list(render(build(loaded, str(path))))


def test_rendering_follows_lifetimes(tmp_path):
    records = _rendered(
        "prefixlint: harness/v1\nmodel: claude-sonnet-4-5\nsystem: 'A {{ a }} S {{ s }} R {{ r }}'\nvariables:\n"
        "  a: {lifetime: static, example: fixed}\n  s: {lifetime: per-session, example: sess}\n"
        "  r: {lifetime: per-request, example: req}\n",
        tmp_path,
    )
    systems = [r.body["system"][0]["text"] for r in records]
    assert len(records) == 2 * TURNS and len(set(r.session for r in records)) == 2
    assert systems[0] == "A fixed S sess (s1) R req (s1r1)"
    assert systems[1] == "A fixed S sess (s1) R req (s1r2)"
    assert systems[TURNS] == "A fixed S sess (s2) R req (s2r1)"
    # each request resends the conversation so far and appends one exchange
    assert [len(r.body["messages"]) for r in records[:TURNS]] == [2 * k - 1 for k in range(1, TURNS + 1)]
    for a, b in zip(records[:TURNS - 1], records[1:TURNS]):
        assert b.body["messages"][: len(a.body["messages"])] == a.body["messages"]
    assert _rendered(Path(tmp_path / "agent.yaml").read_text(), tmp_path)[3].body == records[3].body  # deterministic


def test_rendering_twice_finds_volatility_the_names_do_not_show(tmp_path):
    """A Jinja2 `random` filter changes the rendered text although no variable is per-request."""
    config = tmp_path / "agent.yaml"
    config.write_text(
        "prefixlint: harness/v1\nmodel: claude-sonnet-4-5\nsystem: 'Greeting number {{ range(1000) | random }}.'\n"
        "cache:\n  strategy: automatic\n"
    )
    _, report = check(config)
    assert [(f["code"], f["location"]["line"]) for f in report["findings"]] == [("PL201", 3)]


def test_discovery_by_content(tmp_path):
    (tmp_path / "notes.yaml").write_text("title: not a harness\n")
    (tmp_path / "agent.yml").write_text((OWN / "no-cache.harness.yaml").read_text().replace("prompts/", str(OWN / "prompts") + "/").replace("tools/", str(OWN / "tools") + "/"))
    assert harness.kind(str(tmp_path / "agent.yml")) == "own"
    assert harness.kind(str(tmp_path / "notes.yaml")) is None
    assert harness.kind(str(OWN / "openai.harness.json")) == "own"
    assert harness.kind(str(FIXTURES / "harness" / "spring" / "none" / "application.yml")) == "spring"
    assert harness.kind(str(FIXTURES / "harness" / "litellm" / "good" / "config.yaml")) == "litellm"
    assert harness.kind(str(FIXTURES / "rules" / "PL901.yaml")) is None  # a harness in a block of text is not one
    code, report = check(tmp_path)
    assert report["summary"]["files"] == 1 and [f["code"] for f in report["findings"]] == ["PL607"]


def test_whole_harness_tree_without_flags():
    code, report = check(FIXTURES / "harness")
    assert report["diagnostics"] == []
    files = {Path(f["location"]["file"]).parent.name for f in report["findings"]}
    assert {"own", "system-only", "none", "every-user-message"} <= files


def test_rule_catalogue_includes_pl901():
    assert "PL901" in {r.code for r in RULES}
    result = engine.run([str(OWN / "good.harness.yaml")], RULES, engine.Options())
    assert result.findings == [] and result.summary.requests == 2 * TURNS


def test_readme_harness_example_is_valid_and_lints(tmp_path):
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("### prefixlint's own format", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    config = tmp_path / "coding-agent.harness.yaml"
    config.write_text(example)
    code, report = check(config)
    assert code == 0 and report["diagnostics"] == []
    assert report["summary"]["requests"] == 2 * TURNS


def test_harness_schema_is_printed_and_valid():
    from jsonschema import Draft202012Validator

    result = CliRunner().invoke(app, ["config", "--harness-schema"])
    assert result.exit_code == 0
    schema = orjson.loads(result.stdout)
    Draft202012Validator.check_schema(schema)
    assert schema["properties"]["prefixlint"] == {
        "description": schema["properties"]["prefixlint"]["description"], "const": "harness/v1"
    }
    for path in sorted(OWN.glob("*.harness.*")):
        doc = load_yaml(path.read_bytes()).doc
        assert not list(Draft202012Validator(schema).iter_errors(doc)), path.name


def test_findings_point_at_the_template_line_that_changes(tmp_path):
    config = tmp_path / "agent.yaml"
    config.write_text(
        "prefixlint: harness/v1\n"
        "model: claude-sonnet-4-5\n"
        "system:\n"
        "  template: |\n"
        "    You are the release assistant. Knowledge of releases up to 2025-06-30.\n"  # 5: literal, constant
        "    {% if beta %}Beta features are on.{% endif %}\n"  # 6
        "    Greeting number {{ range(1000) | random }}.\n"  # 7: changes on every render
        "    Work for {{ customer }} only.\n"  # 8
        "variables:\n"
        "  beta: {lifetime: static, example: true}\n"
        "  customer: {lifetime: per-session, example: Acme}\n"
        "cache:\n  strategy: automatic\n"
    )
    _, report = check(config)
    assert [(f["code"], f["location"]["line"]) for f in report["findings"]] == [("PL201", 7)]
    assert report["findings"][0]["message"].endswith(
        "In the configuration, this line of the template renders differently on every request."
    )


def test_a_literal_date_in_a_template_is_no_volatile_value(tmp_path):
    """A date written in the configuration is the same on every request: not reported; a date
    variable is."""
    config = tmp_path / "agent.yaml"
    config.write_text(
        "prefixlint: harness/v1\nmodel: claude-sonnet-4-5\nsystem:\n  template: |\n"
        "    Policies as of 2026-01-05.\n    You help {{ team }}.\n    Today is {{ today }}.\n"
        "variables:\n  team: {lifetime: static, example: ops}\n  today: {lifetime: per-session}\n"
        "cache:\n  strategy: automatic\n"
    )
    _, report = check(config)
    assert [(f["code"], f["location"]["line"], f["severity"]) for f in report["findings"]] == [("PL202", 7, "warning")]
    assert "the template variable `today` is per-session (declared)" in report["findings"][0]["message"]


def test_size_findings_on_assumed_parts_say_so():
    _, report = check(FIXTURES / "harness" / "spring" / "properties" / "application.properties")
    [pl603] = [f for f in report["findings"] if f["code"] == "PL603"]
    assert pl603["message"].endswith(
        "In the configuration, the sizes are assumed (a 1,500-token system prompt and 4 tools of 300 tokens, "
        "which the configuration does not hold): with a larger prompt this may not apply."
    )


def test_huge_file_with_the_marker_is_refused_unread(tmp_path):
    from prefixlint.harness.loader import MAX_BYTES

    config = tmp_path / "agent.harness.yaml"
    config.write_bytes(b"prefixlint: harness/v1\nmodel: claude-sonnet-4-5\n# " + b"x" * MAX_BYTES + b"\n")
    code, report = check(config)
    assert code == 2
    assert report["diagnostics"][0]["message"] == "invalid harness configuration: larger than 4 MiB: not a harness configuration"
