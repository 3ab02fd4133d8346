"""LiteLLM proxy config.yaml -> prefixlint harness documents: the exact documents and source lines
for the bundled fixtures, provider mapping, injection points, ignored keys, invalid entries, and
the findings of `prefixlint check` on the fixtures."""

from __future__ import annotations

import orjson
import pytest
from typer.testing import CliRunner

from conftest import FIXTURES, check_harness_document
from prefixlint.cli import app
from prefixlint.harness import litellm
from prefixlint.harness.loader import HarnessError, load_yaml

LITELLM = FIXTURES / "harness" / "litellm"
ASSUME = {"system_tokens": 1500, "tools": 4}

check = check_harness_document


def translate(text: str):
    docs = litellm.translate(load_yaml(text.encode()), "config.yaml")
    for doc in docs:
        check(doc)
    return docs


def entry(model: str, points: str = "", extra: str = "") -> str:
    text = f"model_list:\n  - model_name: m\n    litellm_params:\n      model: {model}\n{extra}"
    if points:
        text += "      cache_control_injection_points:\n" + points
    return text


def fixture(name: str):
    path = LITELLM / name / "config.yaml"
    loaded = load_yaml(path.read_bytes())
    docs = litellm.translate(loaded, str(path))
    for doc in docs:
        check(doc)
    return loaded, docs


# -- the fixtures ---------------------------------------------------------------------------------


def test_good():
    loaded, [doc] = fixture("good")
    assert litellm.is_litellm(loaded)
    assert doc.doc == {
        "prefixlint": "harness/v1",
        "name": "claude-sonnet",
        "provider": "anthropic",
        "model": "claude-sonnet-4-5",
        "cache": {"strategy": "breakpoints", "breakpoints": [{"at": "system"}, {"at": "messages", "index": -1}]},
        "settings": {"max_tokens": 4096},
        "assume": ASSUME,
    }
    assert doc.lines == {
        "": 4, "/prefixlint": 4, "/name": 4, "/provider": 6, "/model": 6,
        "/cache": 9, "/cache/strategy": 9, "/cache/breakpoints": 9,
        "/cache/breakpoints/0": 10, "/cache/breakpoints/0/at": 11,
        "/cache/breakpoints/1": 12, "/cache/breakpoints/1/at": 13, "/cache/breakpoints/1/index": 13,
        "/settings": 5, "/settings/max_tokens": 8,
        "/assume": 4, "/assume/system_tokens": 4, "/assume/tools": 4,
    }
    assert [(n.key, n.line) for n in litellm.notes(loaded, "config.yaml")] == [("model_list[0].litellm_params.api_key", 7)]


def test_every_user_message():
    loaded, [doc] = fixture("every-user-message")
    assert doc.doc["cache"] == {"strategy": "breakpoints", "breakpoints": [{"at": "messages", "role": "user"}]}
    assert "settings" not in doc.doc
    assert doc.lines == {
        "": 4, "/prefixlint": 4, "/name": 4, "/provider": 6, "/model": 6,
        "/cache": 8, "/cache/strategy": 8, "/cache/breakpoints": 8,
        "/cache/breakpoints/0": 9, "/cache/breakpoints/0/at": 10, "/cache/breakpoints/0/role": 10,
        "/assume": 4, "/assume/system_tokens": 4, "/assume/tools": 4,
    }


def test_openai_injection_points_have_no_effect():
    loaded, [doc] = fixture("openai")
    assert doc.doc == {
        "prefixlint": "harness/v1",
        "name": "gpt",
        "provider": "openai",
        "model": "gpt-4o",
        "cache": {"strategy": "automatic", "prompt_cache_key": "support-chat"},
        "assume": ASSUME,
    }
    assert doc.lines == {
        "": 3, "/prefixlint": 3, "/name": 3, "/provider": 5, "/model": 5,
        "/cache": 5, "/cache/strategy": 5, "/cache/prompt_cache_key": 7,
        "/assume": 3, "/assume/system_tokens": 3, "/assume/tools": 3,
    }
    notes = [(n.key, n.line, n.message) for n in litellm.notes(loaded, "config.yaml")]
    assert notes == [
        ("model_list[0].litellm_params.api_key", 6, "ignored: does not change the prompt"),
        ("model_list[0].litellm_params.cache_control_injection_points", 8,
         "no effect on an OpenAI model: OpenAI caches automatically (automatic caching assumed)"),
        ("litellm_settings", 11, "ignored: does not change the prompt"),
    ]


def test_mixed_model_list():
    loaded, docs = fixture("mixed")
    assert [(d.doc["name"], d.doc["provider"], d.doc["model"]) for d in docs] == [
        ("claude-bedrock", "anthropic", "us.anthropic.claude-sonnet-4-5-20250929-v1:0"),
        ("claude-vertex", "anthropic", "claude-haiku-4-5@20251001"),
        ("gpt-azure", "openai", "gpt-4o-deployment"),
        ("claude-direct", "anthropic", "claude-haiku-4-5"),
    ]
    bedrock, vertex, azure, direct = docs
    assert bedrock.doc["cache"] == {"strategy": "breakpoints", "breakpoints": [
        {"at": "tools", "ttl": "1h"}, {"at": "system", "ttl": "1h"}, {"at": "messages", "index": -2},
    ]}
    assert bedrock.lines == {
        "": 2, "/prefixlint": 2, "/name": 2, "/provider": 4, "/model": 4,
        "/cache": 6, "/cache/strategy": 6, "/cache/breakpoints": 6,
        "/cache/breakpoints/0": 7, "/cache/breakpoints/0/at": 7, "/cache/breakpoints/0/ttl": 8,
        "/cache/breakpoints/1": 9, "/cache/breakpoints/1/at": 10, "/cache/breakpoints/1/ttl": 11,
        "/cache/breakpoints/2": 12, "/cache/breakpoints/2/at": 13, "/cache/breakpoints/2/index": 13,
        "/assume": 2, "/assume/system_tokens": 2, "/assume/tools": 2,
    }
    assert vertex.doc["cache"] == {"strategy": "none"}
    assert (vertex.lines[""], vertex.lines["/model"], vertex.lines["/cache"]) == (14, 16, 15)
    assert azure.doc["cache"] == {"strategy": "automatic"}
    assert azure.doc["settings"] == {"temperature": 0.3}
    assert (azure.lines[""], azure.lines["/settings/temperature"]) == (18, 22)
    assert direct.doc["cache"] == {"strategy": "breakpoints", "breakpoints": [
        {"at": "system", "ttl": "5m"}, {"at": "messages", "role": "assistant"},
    ]}
    assert direct.doc["settings"] == {"thinking": {"type": "enabled", "budget_tokens": 1024}}
    assert {k: v for k, v in direct.lines.items() if k.startswith(("/cache/breakpoints/", "/settings"))} == {
        "/cache/breakpoints/0": 31, "/cache/breakpoints/0/at": 32, "/cache/breakpoints/0/ttl": 35,
        "/cache/breakpoints/1": 36, "/cache/breakpoints/1/at": 37, "/cache/breakpoints/1/role": 37,
        "/settings": 27, "/settings/thinking": 29, "/settings/thinking/type": 29, "/settings/thinking/budget_tokens": 29,
    }
    assert [(n.key, n.line) for n in litellm.notes(loaded, "config.yaml")] == [
        ("model_list[0].litellm_params.aws_region_name", 5),
        ("model_list[1].litellm_params.vertex_project", 17),
        ("model_list[2].litellm_params.api_base", 21),
        ("model_list[3].litellm_params.model", 25),
        ("model_list[4].model_info", 38),
        ("litellm_settings", 40),
        ("general_settings", 44),
    ]
    notes = {n.key: n.message for n in litellm.notes(loaded, "config.yaml")}
    assert notes["model_list[3].litellm_params.model"] == "gemini/gemini-2.5-pro: a provider prefixlint does not lint; gemini is not linted"
    assert "response cache" in notes["litellm_settings"]


# -- providers --------------------------------------------------------------------------------------

PROVIDERS = [
    ("anthropic/claude-sonnet-4-5", "anthropic", "claude-sonnet-4-5"),
    ("claude-3-5-haiku-20241022", "anthropic", "claude-3-5-haiku-20241022"),
    ("bedrock/anthropic.claude-3-7-sonnet-20250219-v1:0", "anthropic", "anthropic.claude-3-7-sonnet-20250219-v1:0"),
    ("bedrock/converse/us.anthropic.claude-opus-4-1-20250805-v1:0", "anthropic", "us.anthropic.claude-opus-4-1-20250805-v1:0"),
    ("vertex_ai/claude-sonnet-4@20250514", "anthropic", "claude-sonnet-4@20250514"),
    ("openrouter/anthropic/claude-sonnet-4.5", "anthropic", "anthropic/claude-sonnet-4.5"),
    ("openai/gpt-4o", "openai", "gpt-4o"),
    ("azure/my-deployment", "openai", "my-deployment"),
    ("gpt-4.1-mini", "openai", "gpt-4.1-mini"),
    ("o3", "openai", "o3"),
    ("openrouter/openai/gpt-4o", "openai", "openai/gpt-4o"),
    ("bedrock/amazon.nova-pro-v1:0", None, "amazon.nova-pro-v1:0"),
    ("vertex_ai/gemini-2.5-pro", None, "gemini-2.5-pro"),
    ("gemini/gemini-2.5-flash", None, "gemini/gemini-2.5-flash"),
    ("ollama/llama3", None, "ollama/llama3"),
    ("anthropic/*", None, "anthropic/*"),
    ("mistral-large", None, "mistral-large"),
]


@pytest.mark.parametrize("model, provider, model_id", PROVIDERS)
def test_provider_of(model, provider, model_id):
    assert litellm.provider_of(model)[:2] == (provider, model_id)
    docs = translate(entry(model))
    if provider is None:
        assert docs == []
    else:
        assert [(d.doc["provider"], d.doc["model"]) for d in docs] == [(provider, model_id)]
        assert docs[0].doc["cache"] == ({"strategy": "none"} if provider == "anthropic" else {"strategy": "automatic"})


# -- injection points --------------------------------------------------------------------------------

POINTS = [
    ("        - {location: message, role: system}\n", {"at": "system"}),
    ("        - {location: message, role: user}\n", {"at": "messages", "role": "user"}),
    ("        - {location: message, role: assistant}\n", {"at": "messages", "role": "assistant"}),
    ("        - {location: message, index: 0}\n", {"at": "system"}),
    ("        - {location: message, index: 3}\n", {"at": "messages", "index": 2}),
    ("        - {location: message, index: '-1'}\n", {"at": "messages", "index": -1}),
    ("        - {location: message, index: -3, role: user}\n", {"at": "messages", "index": -3}),
    ("        - {location: message, role: user, control: {type: ephemeral, ttl: 1h}}\n", {"at": "messages", "role": "user", "ttl": "1h"}),
    ("        - {location: message, role: system, control: {type: ephemeral}}\n", {"at": "system"}),
]


@pytest.mark.parametrize("point, expected", POINTS)
def test_injection_point(point, expected):
    [doc] = translate(entry("anthropic/claude-sonnet-4-5", point))
    assert doc.doc["cache"] == {"strategy": "breakpoints", "breakpoints": [expected]}
    assert doc.lines["/cache/breakpoints/0"] == 6


@pytest.mark.parametrize("point, message", [
    ("        - {location: message}\n", "neither role nor index"),
    ("        - {location: message, role: tool}\n", "role: tool marks tool results"),
    ("        - {location: tool_config}\n", "only honoured for Bedrock"),
    ("        - {location: messages, role: user}\n", "LiteLLM injects only at location: message"),
    ("        - {role: user}\n", "LiteLLM injects only at location: message"),
])
def test_injection_points_without_effect(point, message):
    text = entry("anthropic/claude-sonnet-4-5", point)
    loaded = load_yaml(text.encode())
    [doc] = litellm.translate(loaded, "config.yaml")
    assert doc.doc["cache"] == {"strategy": "none"}
    assert doc.lines["/cache"] == 5
    [note] = litellm.notes(loaded, "config.yaml")
    assert message in note.message
    assert note.line == 6


def test_index_that_is_no_integer_falls_back_to_role():
    text = entry("anthropic/claude-sonnet-4-5", "        - {location: message, index: last, role: user}\n")
    loaded = load_yaml(text.encode())
    [doc] = litellm.translate(loaded, "config.yaml")
    assert doc.doc["cache"]["breakpoints"] == [{"at": "messages", "role": "user"}]
    assert "is not an integer" in litellm.notes(loaded, "config.yaml")[0].message


def test_empty_and_null_model_lists():
    assert translate("model_list: []\n") == []
    assert translate(entry("anthropic/claude-sonnet-4-5", "", "      cache_control_injection_points:\n"))[0].doc["cache"] == {"strategy": "none"}


@pytest.mark.parametrize("text, expected", [
    ("model_list:\n  - model_name: a\n    litellm_params: {model: x}\n", True),
    ("model_list: []\n", True),
    ("model_list: {a: 1}\n", False),
    ("model_list:\n  - 1\n", False),
    ("spring:\n  ai: {}\n", False),
    ("- a\n", False),
    ("", False),
])
def test_is_litellm(text, expected):
    assert litellm.is_litellm(load_yaml(text.encode())) is expected


def test_keys_read_and_ignored_are_documented():
    assert "model_list[].litellm_params.cache_control_injection_points" in litellm.KEYS_READ
    assert "general_settings" in litellm.KEYS_IGNORED


# -- invalid entries: a HarnessError with the line ------------------------------------------------------

INVALID = [
    ("model_list: 3\n", 1, "model_list: expected a list"),
    ("model_list:\n  - just-a-name\n", 2, "model_list[0]: expected a mapping"),
    ("model_list:\n  - litellm_params: {model: anthropic/claude}\n", 2, "model_name is missing"),
    ("model_list:\n  - model_name: a\n    litellm_params: anthropic/claude\n", 3, "litellm_params: expected a mapping"),
    ("model_list:\n  - model_name: a\n", 2, "litellm_params: expected a mapping"),
    ("model_list:\n  - model_name: a\n    litellm_params:\n      model: [x]\n", 4, "litellm_params.model: expected a model name"),
    (entry("anthropic/claude-sonnet-4-5", "", "      cache_control_injection_points: {location: message}\n"), 5,
     "cache_control_injection_points: expected a list"),
    (entry("anthropic/claude-sonnet-4-5", "        - message\n"), 6, "cache_control_injection_points[0]: expected a mapping"),
    (entry("anthropic/claude-sonnet-4-5", "        - {location: message, role: bot}\n"), 6, "role: expected system, user or assistant"),
    (entry("anthropic/claude-sonnet-4-5", "        - {location: message, index: 1.5}\n"), 6, "index: expected an integer"),
    (entry("anthropic/claude-sonnet-4-5", "        - {location: message, role: user, control: ephemeral}\n"), 6, "control: expected a mapping"),
    (entry("anthropic/claude-sonnet-4-5", "        - location: message\n          role: user\n          control:\n            type: persistent\n"),
     9, "control.type: expected ephemeral"),
    (entry("anthropic/claude-sonnet-4-5", "        - location: message\n          role: user\n          control:\n            ttl: 30m\n"),
     9, "control.ttl: expected 5m or 1h"),
    (entry("anthropic/claude-sonnet-4-5", "", "      max_tokens: lots\n"), 5, "max_tokens: expected an integer"),
    (entry("anthropic/claude-sonnet-4-5", "", "      temperature: true\n"), 5, "temperature: expected a number"),
    (entry("anthropic/claude-sonnet-4-5", "", "      thinking: {when: 2024-01-01}\n"), 5, "thinking: expected JSON values"),
    (entry("openai/gpt-4o", "", "      prompt_cache_retention: forever\n"), 5, "prompt_cache_retention: expected in_memory or 24h"),
    (entry("openai/gpt-4o", "", "      prompt_cache_key: {a: b}\n"), 5, "prompt_cache_key: expected a string"),
]


@pytest.mark.parametrize("text, line, message", INVALID)
def test_invalid(text, line, message):
    with pytest.raises(HarnessError) as info:
        litellm.translate(load_yaml(text.encode()), "config.yaml")
    assert info.value.line == line
    assert message in info.value.message


def test_not_a_mapping():
    with pytest.raises(HarnessError) as info:
        litellm.translate(load_yaml(b"- model_list\n"), "config.yaml")
    assert info.value.line == 1


def test_translate_each_keeps_the_valid_entries():
    text = ("model_list:\n"
            "  - model_name: bad\n"
            "    litellm_params: {model: anthropic/claude-sonnet-4-5, max_tokens: lots}\n"
            "  - model_name: good\n"
            "    litellm_params: {model: anthropic/claude-sonnet-4-5}\n")
    items = litellm.translate_each(load_yaml(text.encode()), "config.yaml")
    assert isinstance(items[0], HarnessError) and items[0].line == 3
    assert items[1].doc["name"] == "good"


# -- through the CLI --------------------------------------------------------------------------------

CHECKS = {
    "good": [],
    # role: user marks every user message: five in the longest rendered request
    "every-user-message": [("PL601", 9)],
    "openai": [],
    # vertex: no injection point, the conversation is re-sent uncached; claude-direct: the 4,096-token
    # minimum of Haiku 4.5 is above the assumed system prompt, and role: assistant marks every
    # assistant message (five breakpoints with the system one)
    "mixed": [("PL607", 15), ("PL603", 31), ("PL601", 36)],
}


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_check_findings(name):
    result = CliRunner().invoke(app, ["check", str(LITELLM / name / "config.yaml"), "--format", "json", "--fail-on", "never"])
    assert result.exit_code == 0, result.output
    report = orjson.loads(result.stdout)
    assert report["diagnostics"] == []
    assert [(f["code"], f["location"]["line"]) for f in report["findings"]] == CHECKS[name]
