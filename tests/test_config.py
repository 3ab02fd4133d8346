"""Configuration: discovery, every key's effect on the demo log, invalid configurations, the schema."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import orjson
import pytest
import yaml
from jsonschema import Draft202012Validator
from typer.testing import CliRunner

from conftest import FIXTURES
from prefixlint import config
from prefixlint import rules as catalogue
from prefixlint.cli import app
from prefixlint.rulebase import Rule

DEMO = FIXTURES / "demo" / "broken-agent-session.jsonl"
ALL = [("PL202", 1, "warning"), ("PL101", 4, "error"), ("PL305", 8, "error"), ("PL401", 9, "error")]
CLEAN_ENV = {"FORCE_COLOR": None, "NO_COLOR": None, "COLUMNS": None, "PREFIXLINT_DEBUG": None, "GITHUB_ACTIONS": None}


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project directory holding logs/demo.jsonl, as the working directory."""
    (tmp_path / "logs").mkdir()
    shutil.copy(DEMO, tmp_path / "logs" / "demo.jsonl")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def cli(*args: str):
    return CliRunner().invoke(app, list(args), env=CLEAN_ENV)


def findings(result) -> list[tuple]:
    data = orjson.loads(result.stdout)
    return [(f["code"], f["location"]["line"], f["severity"]) for f in data["findings"]]


def yaml_config(directory: Path, values: dict) -> Path:
    path = directory / ".prefixlint.yaml"
    path.write_text(yaml.safe_dump(values), encoding="utf-8")
    return path


def pyproject(directory: Path, table: str) -> Path:
    path = directory / "pyproject.toml"
    path.write_text(f'[project]\nname = "x"\n\n[tool.prefixlint]\n{table}\n', encoding="utf-8")
    return path


# -- discovery ------------------------------------------------------------------------------------
def test_no_configuration_uses_defaults(project):
    result = cli("check", "-f", "json", "logs/demo.jsonl")
    assert result.exit_code == 1
    assert findings(result) == ALL


def test_walks_up_from_the_working_directory(project, monkeypatch):
    pyproject(project, 'select = ["PL4"]')
    (project / "a" / "b").mkdir(parents=True)
    monkeypatch.chdir(project / "a" / "b")
    result = cli("check", "-f", "json", "../../logs/demo.jsonl")
    assert findings(result) == [("PL401", 9, "error")]


def test_pyproject_without_the_table_is_passed_over(project, monkeypatch):
    yaml_config(project, {"select": ["PL4"]})
    (project / "sub").mkdir()
    (project / "sub" / "pyproject.toml").write_text('[project]\nname = "x"\n', encoding="utf-8")
    monkeypatch.chdir(project / "sub")
    assert config.find() == str(project / ".prefixlint.yaml")


def test_the_nearest_configuration_wins(project, monkeypatch):
    yaml_config(project, {"select": ["PL4"]})
    (project / "sub").mkdir()
    yaml_config(project / "sub", {"select": ["PL1"]})
    monkeypatch.chdir(project / "sub")
    assert findings(cli("check", "-f", "json", "../logs/demo.jsonl")) == [("PL101", 4, "error")]


def test_yaml_wins_over_pyproject_in_one_directory(project):
    pyproject(project, 'select = ["PL4"]')
    yaml_config(project, {"select": ["PL1"]})
    assert config.find() == str(project / ".prefixlint.yaml")
    assert findings(cli("check", "-f", "json", "logs/demo.jsonl")) == [("PL101", 4, "error")]


def test_config_flag_names_the_file(project):
    yaml_config(project, {"select": ["PL1"]})
    other = project / "ci.toml"
    other.write_text('[tool.prefixlint]\nselect = ["PL3"]\n', encoding="utf-8")
    assert findings(cli("check", "-f", "json", "--config", "ci.toml", "logs/demo.jsonl")) == [("PL305", 8, "error")]


def test_isolated_ignores_configuration(project):
    yaml_config(project, {"select": ["PL1"], "paths": ["logs"]})
    assert findings(cli("check", "-f", "json", "--isolated", "logs/demo.jsonl")) == ALL
    result = cli("check", "--isolated")
    assert result.exit_code == 2
    assert "no input given" in result.stderr


def test_missing_config_file_is_a_usage_error(project):
    result = cli("check", "--config", "nope.yaml", "logs/demo.jsonl")
    assert result.exit_code == 2
    assert "nope.yaml: configuration file not found" in result.stderr


# -- every key ------------------------------------------------------------------------------------
def test_paths_are_relative_to_the_config_file(project, monkeypatch):
    yaml_config(project, {"paths": ["logs"]})
    (project / "elsewhere").mkdir()
    monkeypatch.chdir(project / "elsewhere")
    result = cli("check", "-f", "json")
    assert result.exit_code == 1
    assert findings(result) == ALL
    assert orjson.loads(result.stdout)["findings"][0]["location"]["file"] == str(project / "logs" / "demo.jsonl")


def test_paths_under_the_working_directory_stay_relative(project):
    yaml_config(project, {"paths": ["logs/demo.jsonl"]})
    data = orjson.loads(cli("check", "-f", "json").stdout)
    assert data["findings"][0]["location"]["file"] == "logs/demo.jsonl"


def test_arguments_replace_paths(project):
    yaml_config(project, {"paths": ["nowhere"]})
    assert findings(cli("check", "-f", "json", "logs/demo.jsonl")) == ALL


def test_exclude(project):
    shutil.copy(DEMO, project / "logs" / "old.jsonl")
    yaml_config(project, {"paths": ["logs"], "exclude": ["old.jsonl"]})
    data = orjson.loads(cli("check", "-f", "json").stdout)
    assert data["summary"]["files"] == 1
    assert {f["location"]["file"] for f in data["findings"]} == {"logs/demo.jsonl"}


def test_select_ignore_extend_select(project):
    yaml_config(project, {"select": ["history"], "extend-select": ["model-switched"], "ignore": ["PL1"]})
    assert findings(cli("check", "-f", "json", "logs/demo.jsonl")) == [("PL305", 8, "error"), ("PL401", 9, "error")]


def test_ignore(project):
    yaml_config(project, {"ignore": ["PL101", "tool-results-elided"]})
    assert findings(cli("check", "-f", "json", "logs/demo.jsonl")) == [("PL202", 1, "warning"), ("PL401", 9, "error")]


def test_command_line_flags_override_the_file(project):
    yaml_config(project, {"select": ["PL1"], "ignore": ["PL4"], "fail-on": "never"})
    result = cli("check", "-f", "json", "--select", "PL4,PL2", "--ignore", "PL2", "--fail-on", "error", "logs/demo.jsonl")
    assert findings(result) == [("PL401", 9, "error")]
    assert result.exit_code == 1


def test_fail_on(project):
    yaml_config(project, {"fail-on": "never"})
    assert cli("check", "logs/demo.jsonl").exit_code == 0
    yaml_config(project, {"fail-on": "warning", "select": ["PL202"]})
    assert cli("check", "logs/demo.jsonl").exit_code == 1
    yaml_config(project, {"fail-on": "error", "select": ["PL202"]})
    assert cli("check", "logs/demo.jsonl").exit_code == 0


def test_severity_overrides(project):
    yaml_config(project, {"severity": {"PL101": "info", "PL202": "error"}})
    assert findings(cli("check", "-f", "json", "logs/demo.jsonl")) == [
        ("PL202", 1, "error"), ("PL101", 4, "info"), ("PL305", 8, "error"), ("PL401", 9, "error"),
    ]
    yaml_config(project, {"severity": {"PL101": "info", "PL305": "warning", "PL401": "info"}})
    assert cli("check", "logs/demo.jsonl").exit_code == 0


def test_per_path_ignores_are_counted_as_suppressed(project):
    shutil.copy(DEMO, project / "logs" / "other.jsonl")
    yaml_config(project, {"paths": ["logs"], "per-path-ignores": {"logs/other.jsonl": ["PL1", "PL401"]}})
    result = cli("check", "-f", "json")
    data = orjson.loads(result.stdout)
    assert [(f["location"]["file"], f["code"]) for f in data["findings"]] == [
        ("logs/demo.jsonl", "PL202"), ("logs/demo.jsonl", "PL101"), ("logs/demo.jsonl", "PL305"),
        ("logs/demo.jsonl", "PL401"), ("logs/other.jsonl", "PL202"), ("logs/other.jsonl", "PL305"),
    ]
    assert data["summary"]["suppressed"] == {"per-path-ignores": 2}
    assert data["summary"]["findings"] == {"error": 4, "warning": 2, "info": 0}
    text = cli("check")
    assert "Suppressed: 2 (per-path-ignores 2)." in text.stdout


def test_per_path_ignores_decide_the_exit_code(project):
    yaml_config(project, {"per-path-ignores": {"**/*.jsonl": ["ALL"]}})
    result = cli("check", "logs/demo.jsonl")
    assert result.exit_code == 0
    assert "Findings: none. Suppressed: 4 (per-path-ignores 4)." in result.stdout


def test_session_key_and_provider(project):
    yaml_config(project, {"session-key": "/session", "provider": "anthropic"})
    cfg = config.load()
    assert (cfg.session_key, cfg.provider) == ("/session", "anthropic")
    assert findings(cli("check", "-f", "json", "logs/demo.jsonl")) == ALL
    yaml_config(project, {"provider": "openai-chat"})
    data = orjson.loads(cli("check", "-f", "json", "logs/demo.jsonl").stdout)
    assert [(f["code"], f["location"]["line"]) for f in data["findings"]] == [  # read as Chat Completions
        ("PL101", 4), ("PL301", 4), ("PL301", 7), ("PL301", 8), ("PL301", 9), ("PL401", 9),
    ]


def test_cache_tables_inline_and_from_a_file(project):
    overrides = {"providers": {"anthropic": {"min_tokens": 1}}}
    yaml_config(project, {"cache-tables": overrides})
    try:
        from prefixlint.cache.tables import load_tables

        load_tables(overrides)
    except ValueError:
        pytest.skip("the cache tables take another override shape")
    assert config.load().cache_tables == overrides
    (project / "conf").mkdir()
    (project / "conf" / "tables.yaml").write_text(yaml.safe_dump(overrides), encoding="utf-8")
    yaml_config(project / "conf", {"cache-tables": "tables.yaml"})
    assert config.load(str(project / "conf" / ".prefixlint.yaml")).cache_tables == overrides


def test_invalid_cache_tables_name_the_key_and_file(project):
    path = yaml_config(project, {"cache-tables": {"providers": {"anthropic": {"min_tokens": "many"}}}})
    result = cli("check", "logs/demo.jsonl")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"prefixlint: error: {path}: cache-tables")
    assert len(result.stderr.strip().splitlines()) == 1


def test_baseline_key_is_relative_to_the_config(project, monkeypatch):
    (project / "ci").mkdir()
    assert cli("check", "--write-baseline", "ci/baseline.json", "logs/demo.jsonl").exit_code == 0
    yaml_config(project / "ci", {"baseline": "baseline.json", "paths": ["../logs/demo.jsonl"]})
    result = cli("check", "-f", "json", "--config", "ci/.prefixlint.yaml")
    assert result.exit_code == 0
    assert orjson.loads(result.stdout)["summary"]["suppressed"] == {"baseline": 4}


# -- per-rule options ------------------------------------------------------------------------------
FAKE_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"max-gap": {"type": "integer", "minimum": 1}},
}


def fake_rule(schema=FAKE_SCHEMA) -> Rule:
    base = catalogue.RULES[0]
    return Rule(
        code="PL999", name="fake-rule", category="tools", severity="error", scope="request",
        check=lambda ctx: [], doc=base.doc, module="fake", options_schema=schema,
    )


def test_rule_options_are_validated_against_the_rule_schema(project):
    rules = [*catalogue.RULES, fake_rule()]
    yaml_config(project, {"options": {"PL999": {"max-gap": 5}}})
    assert config.load(rules=rules).options == {"PL999": {"max-gap": 5}}
    path = yaml_config(project, {"options": {"PL999": {"max-gap": 0}}})
    with pytest.raises(config.ConfigError, match=r"options\.PL999\.max-gap: 0 is less than the minimum of 1"):
        config.load(rules=rules)
    yaml_config(project, {"options": {"PL999": {"gap": 1}}})
    with pytest.raises(config.ConfigError, match=rf"^{path}: options\.PL999\.gap: unknown option of PL999$"):
        config.load(rules=rules)


def test_rule_without_options_rejects_them(project):
    path = yaml_config(project, {"options": {"PL101": {"x": 1}}})
    result = cli("check", "logs/demo.jsonl")
    assert result.exit_code == 2
    assert f"{path}: options.PL101: rule PL101 (tool-set-changed) takes no options" in result.stderr


def test_options_reach_the_engine(project, monkeypatch):
    from prefixlint import engine

    seen = {}
    real = engine.run

    def spy(paths, rules, options, **kwargs):
        seen["options"] = options
        return real(paths, rules, options, **kwargs)

    monkeypatch.setattr(engine, "run", spy)
    monkeypatch.setattr(catalogue, "RULES", [*catalogue.RULES, fake_rule()])
    yaml_config(project, {"options": {"PL999": {"max-gap": 3}}, "severity": {"PL101": "info"}})
    cli("check", "logs/demo.jsonl")
    assert seen["options"].rule_options == {"PL999": {"max-gap": 3}}
    assert seen["options"].severity == {"PL101": "info"}


def test_rule_from_module_reads_options_schema():
    import types

    module = types.ModuleType("fake")
    module.__doc__ = catalogue.RULES[0].doc
    module.CODE, module.NAME, module.CATEGORY, module.SEVERITY, module.SCOPE = (
        "PL998", "fake-thing", "tools", "error", "request",
    )
    module.check = lambda ctx: []
    assert Rule.from_module(module).options_schema is None
    module.OPTIONS_SCHEMA = FAKE_SCHEMA
    assert Rule.from_module(module).options_schema == FAKE_SCHEMA


# -- invalid configurations ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({"selects": ["PL1"]}, "selects: unknown key (did you mean 'select'?)"),
        ({"select": "PL1"}, "select: expected array, got a string"),
        ({"select": ["PL1", 3]}, "select[1]: expected string, got an integer"),
        ({"select": ["PL0"]}, "select[0]: unknown rule selector 'PL0'"),
        ({"extend-select": ["nope"]}, "extend-select[0]: unknown rule selector 'nope'"),
        ({"ignore": ["PL1", "bogus"]}, "ignore[1]: unknown rule selector 'bogus'"),
        ({"fail-on": "fatal"}, "fail-on: 'fatal' is not one of 'error', 'warning', 'info', 'never'"),
        ({"severity": {"PL101": "fatal"}}, "severity.PL101: 'fatal' is not one of 'error', 'warning', 'info'"),
        ({"severity": {"PL999": "info"}}, "severity.PL999: unknown rule code 'PL999'"),
        ({"severity": {"tool-set-changed": "info"}}, "severity: 'tool-set-changed' is not a rule code (like PL101)"),
        ({"exclude": "logs/*"}, "exclude: expected array, got a string"),
        ({"exclude": [["a"]]}, "exclude[0]: expected string, got a list"),
        ({"per-path-ignores": {"logs/*": "PL1"}}, 'per-path-ignores."logs/*": expected array, got a string'),
        ({"per-path-ignores": ["logs/*"]}, "per-path-ignores: expected object, got a list"),
        ({"per-path-ignores": {"logs/*": ["PL0"]}}, "per-path-ignores.\"logs/*\"[0]: unknown rule selector 'PL0'"),
        ({"options": {"PL101": 3}}, "options.PL101: expected object, got an integer"),
        ({"session-key": "session"}, "session-key: must be a JSON pointer starting with '/', got 'session'"),
        ({"provider": "cohere"}, "provider: 'cohere' is not one of"),
        ({"paths": "logs"}, "paths: expected array, got a string"),
    ],
)
def test_invalid_yaml_configuration(project, values, problem):
    path = yaml_config(project, values)
    result = cli("check", "logs/demo.jsonl")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"prefixlint: error: {path}: {problem}")


def test_invalid_pyproject_names_the_table_key(project):
    path = pyproject(project, 'fail_on = "warning"')
    result = cli("check", "logs/demo.jsonl")
    assert result.exit_code == 2
    assert result.stderr == f"prefixlint: error: {path}: tool.prefixlint.fail_on: unknown key (did you mean 'fail-on'?)\n"
    pyproject(project, "select = 3")
    assert "tool.prefixlint.select: expected array, got an integer" in cli("check", "logs/demo.jsonl").stderr


def test_unparsable_files(project):
    (project / ".prefixlint.yaml").write_text("select: [PL1\n", encoding="utf-8")
    result = cli("check", "logs/demo.jsonl")
    assert result.exit_code == 2 and ".prefixlint.yaml: not valid YAML" in result.stderr
    (project / ".prefixlint.yaml").write_text("- PL1\n", encoding="utf-8")
    assert "must be a mapping" in cli("check", "logs/demo.jsonl").stderr
    (project / ".prefixlint.yaml").unlink()
    (project / "pyproject.toml").write_text("[tool.prefixlint\n", encoding="utf-8")
    result = cli("check", "logs/demo.jsonl")
    assert result.exit_code == 2 and "pyproject.toml: not valid TOML" in result.stderr


def test_empty_yaml_is_the_defaults(project):
    (project / ".prefixlint.yaml").write_text("", encoding="utf-8")
    assert findings(cli("check", "-f", "json", "logs/demo.jsonl")) == ALL


# -- prefixlint config ----------------------------------------------------------------------------
EXAMPLES = [
    {},
    {"paths": ["logs"], "exclude": ["**/old/*.jsonl"], "select": ["tools", "PL2"], "extend-select": ["PL401"],
     "ignore": ["PL104"], "fail-on": "warning", "per-path-ignores": {"logs/legacy/**": ["history"]},
     "severity": {"PL202": "error"}, "options": {}, "cache-tables": "tables.yaml", "session-key": "/session",
     "provider": "anthropic", "baseline": "prefixlint-baseline.json"},
    {"cache-tables": {"providers": {}}},
]


def test_config_schema_is_valid_json_and_accepts_the_examples():
    result = cli("config", "--schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    for example in EXAMPLES:
        assert list(validator.iter_errors(example)) == []
    assert list(validator.iter_errors({"unknown": 1}))
    assert set(schema["properties"]) == set(config.KEYS)


def test_readme_examples_validate():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    validator = Draft202012Validator(config.schema())
    blocks = section.split("```yaml\n")[1:]
    assert blocks, "the Configuration section shows a .prefixlint.yaml"
    for block in blocks:
        data = yaml.safe_load(block.split("```", 1)[0])
        assert list(validator.iter_errors(data)) == []
        assert config.check_values(data, "", catalogue.RULES) is None


def test_config_shows_the_effective_configuration(project):
    path = yaml_config(project, {"select": ["PL1"], "fail-on": "warning"})
    result = cli("config")
    assert result.exit_code == 0
    assert f"# configuration: {path}" in result.stdout
    assert 'select = ["PL1"]  # from the file' in result.stdout
    assert 'ignore = []\n' in result.stdout
    shown = json.loads(cli("config", "--format", "json").stdout)
    assert shown["source"] == str(path)
    assert shown["keys"]["fail-on"] == {"value": "warning", "from": str(path)}
    assert shown["keys"]["provider"] == {"value": None, "from": "default"}
    isolated = cli("config", "--isolated")
    assert "# configuration: none found (defaults)" in isolated.stdout


def test_config_command_reports_invalid_files(project):
    path = yaml_config(project, {"select": 1})
    result = cli("config")
    assert result.exit_code == 2
    assert f"{path}: select: expected array, got an integer" in result.stderr


# -- globs ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("*.jsonl", "logs/a.jsonl", True),
        ("logs/*.jsonl", "logs/a.jsonl", True),
        ("logs/*.jsonl", "logs/sub/a.jsonl", False),
        ("logs/**/*.jsonl", "logs/sub/a.jsonl", True),
        ("logs/**/*.jsonl", "logs/a.jsonl", True),
        ("logs", "logs/sub/a.jsonl", True),
        ("/a.jsonl", "logs/a.jsonl", False),
        ("a.json?", "x/a.jsonl", True),
        ("[ab].jsonl", "b.jsonl", True),
        ("[!ab].jsonl", "b.jsonl", False),
        ("./logs/a.jsonl", "logs/a.jsonl", True),
    ],
)
def test_glob_match(tmp_path, pattern, path, matches):
    assert config.glob_match(pattern, str(tmp_path / path), str(tmp_path)) is matches
