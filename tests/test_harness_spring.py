"""Spring AI application.yml / application.properties -> prefixlint harness documents: the exact
documents and source lines for the bundled fixtures, relaxed binding, ignored keys, invalid values,
and the findings of `prefixlint check` on the fixtures."""

from __future__ import annotations

import orjson
import pytest
from typer.testing import CliRunner

from conftest import FIXTURES, check_harness_document
from prefixlint.cli import app
from prefixlint.harness import spring
from prefixlint.harness.loader import HarnessError, load_properties, load_yaml

SPRING = FIXTURES / "harness" / "spring"
ASSUME = {"system_tokens": 1500, "tools": 4}


def load(text: str, properties: bool = False):
    return (load_properties if properties else load_yaml)(text.encode())


def translate(text: str, properties: bool = False, path: str = "application.yml"):
    return spring.translate(load(text, properties), path)


def only(text: str, properties: bool = False):
    docs = translate(text, properties)
    assert len(docs) == 1
    check(docs[0])
    return docs[0]

check = check_harness_document


def fixture(name: str):
    path = SPRING / name
    loaded = (load_properties if path.suffix == ".properties" else load_yaml)(path.read_bytes())
    return loaded, spring.translate(loaded, str(path))


# -- the fixtures ---------------------------------------------------------------------------------


def test_system_only():
    loaded, docs = fixture("system-only/application.yml")
    assert spring.is_spring(loaded)
    [doc] = docs
    check(doc)
    assert doc.doc == {
        "prefixlint": "harness/v1",
        "name": "application.yml: spring.ai.anthropic",
        "provider": "anthropic",
        "model": "claude-sonnet-4-5",
        "cache": {"strategy": "breakpoints", "breakpoints": [{"at": "system", "ttl": "5m"}]},
        "settings": {"max_tokens": 2048, "temperature": 0.2},
        "assume": ASSUME,
    }
    assert doc.lines == {
        "": 9, "/prefixlint": 9, "/name": 9, "/provider": 9, "/model": 13,
        "/cache": 17, "/cache/strategy": 17, "/cache/breakpoints": 17,
        "/cache/breakpoints/0": 17, "/cache/breakpoints/0/at": 17, "/cache/breakpoints/0/ttl": 17,
        "/settings": 14, "/settings/max_tokens": 14, "/settings/temperature": 15,
        "/assume": 9, "/assume/system_tokens": 9, "/assume/tools": 9,
    }
    assert [(n.key, n.line) for n in spring.notes(loaded, "application.yml")] == [
        ("server.port", 4),
        ("spring.application.name", 7),
        ("spring.ai.anthropic.api-key", 10),
    ]


def test_conversation_history_2x_spelling():
    loaded, [doc] = fixture("conversation-history/application.yml")
    check(doc)
    assert doc.doc == {
        "prefixlint": "harness/v1",
        "name": "application.yml: spring.ai.anthropic",
        "provider": "anthropic",
        "model": "claude-sonnet-4-5",
        "cache": {
            "strategy": "breakpoints",
            "breakpoints": [
                {"at": "tools", "ttl": "1h"},
                {"at": "system", "ttl": "1h"},
                {"at": "last-user-message", "ttl": "5m"},
            ],
        },
        "settings": {"max_tokens": 4096, "thinking": {"type": "enabled", "budget_tokens": 2048}},
        "assume": ASSUME,
    }
    assert doc.lines == {
        "": 4, "/prefixlint": 4, "/name": 4, "/provider": 4, "/model": 7,
        "/cache": 12, "/cache/strategy": 12, "/cache/breakpoints": 12,
        "/cache/breakpoints/0": 12, "/cache/breakpoints/0/at": 12, "/cache/breakpoints/0/ttl": 15,
        "/cache/breakpoints/1": 12, "/cache/breakpoints/1/at": 12, "/cache/breakpoints/1/ttl": 15,
        "/cache/breakpoints/2": 12, "/cache/breakpoints/2/at": 12, "/cache/breakpoints/2/ttl": 16,
        "/settings": 8, "/settings/max_tokens": 8,
        "/settings/thinking": 10, "/settings/thinking/type": 10, "/settings/thinking/budget_tokens": 11,
        "/assume": 4, "/assume/system_tokens": 4, "/assume/tools": 4,
    }
    assert [(n.key, n.line) for n in spring.notes(loaded, "application.yml")] == [("spring.ai.anthropic.api-key", 5)]


def test_none():
    _, [doc] = fixture("none/application.yml")
    check(doc)
    assert doc.doc == {
        "prefixlint": "harness/v1",
        "name": "application.yml: spring.ai.anthropic",
        "provider": "anthropic",
        "model": "claude-haiku-4-5",
        "cache": {"strategy": "none"},
        "settings": {"max_tokens": 1024},
        "assume": ASSUME,
    }
    assert doc.lines == {
        "": 4, "/prefixlint": 4, "/name": 4, "/provider": 4, "/model": 5,
        "/cache": 8, "/cache/strategy": 8, "/settings": 6, "/settings/max_tokens": 6,
        "/assume": 4, "/assume/system_tokens": 4, "/assume/tools": 4,
    }


def test_properties():
    loaded, [doc] = fixture("properties/application.properties")
    check(doc)
    assert doc.doc == {
        "prefixlint": "harness/v1",
        "name": "application.properties: spring.ai.anthropic",
        "provider": "anthropic",
        "model": "claude-opus-4-5",
        "cache": {"strategy": "breakpoints", "breakpoints": [{"at": "tools", "ttl": "1h"}, {"at": "system", "ttl": "1h"}]},
        "settings": {"max_tokens": 8192, "tool_choice": {"type": "auto"}},
        "assume": ASSUME,
    }
    assert doc.lines == {
        "": 3, "/prefixlint": 3, "/name": 3, "/provider": 3, "/model": 4,
        "/cache": 6, "/cache/strategy": 6, "/cache/breakpoints": 6,
        "/cache/breakpoints/0": 6, "/cache/breakpoints/0/at": 6, "/cache/breakpoints/0/ttl": 7,
        "/cache/breakpoints/1": 6, "/cache/breakpoints/1/at": 6, "/cache/breakpoints/1/ttl": 7,
        "/settings": 5, "/settings/max_tokens": 5, "/settings/tool_choice": 8, "/settings/tool_choice/type": 8,
        "/assume": 3, "/assume/system_tokens": 3, "/assume/tools": 3,
    }
    assert [(n.key, n.line) for n in spring.notes(loaded, "application.properties")] == [
        ("spring.application.name", 2),
        ("spring.ai.anthropic.api-key", 3),
    ]


def test_ttl_order():
    _, [doc] = fixture("ttl-order/application.yml")
    check(doc)
    assert doc.doc["cache"] == {
        "strategy": "breakpoints",
        "breakpoints": [{"at": "tools", "ttl": "5m"}, {"at": "system", "ttl": "5m"}, {"at": "last-user-message", "ttl": "1h"}],
    }
    assert "settings" not in doc.doc
    assert doc.lines["/model"] == 9
    assert doc.lines["/cache/breakpoints/0"] == doc.lines["/cache/breakpoints/2"] == 11
    assert [doc.lines[f"/cache/breakpoints/{i}/ttl"] for i in range(3)] == [11, 11, 13]
    assert doc.lines[""] == 6


# -- every strategy -------------------------------------------------------------------------------

STRATEGY_BREAKPOINTS = {
    "NONE": None,
    "SYSTEM_ONLY": ["system"],
    "TOOLS_ONLY": ["tools"],
    "SYSTEM_AND_TOOLS": ["tools", "system"],
    "CONVERSATION_HISTORY": ["tools", "system", "last-user-message"],
}


@pytest.mark.parametrize("strategy", sorted(STRATEGY_BREAKPOINTS))
def test_strategy_mapping(strategy):
    doc = only(f"spring.ai.anthropic.chat.options.model=claude-sonnet-4-5\n"
               f"spring.ai.anthropic.chat.options.cache-options.strategy={strategy}\n", properties=True)
    places = STRATEGY_BREAKPOINTS[strategy]
    if places is None:
        assert doc.doc["cache"] == {"strategy": "none"}
    else:
        assert doc.doc["cache"] == {"strategy": "breakpoints", "breakpoints": [{"at": p, "ttl": "5m"} for p in places]}
    assert doc.lines["/cache"] == 2
    assert doc.doc["assume"] == ASSUME


def test_no_strategy_is_none_at_the_block_line():
    doc = only("spring:\n  ai:\n    anthropic:\n      chat:\n        model: claude-sonnet-4-5\n")
    assert doc.doc["cache"] == {"strategy": "none"}
    assert doc.lines["/cache"] == doc.lines[""] == 3


# -- relaxed binding --------------------------------------------------------------------------------

EXPECTED_RELAXED = {
    "model": "claude-sonnet-4-5",
    "cache": {"strategy": "breakpoints", "breakpoints": [{"at": "system", "ttl": "1h"}]},
    "settings": {"max_tokens": 512},
}

RELAXED = {
    "kebab": ("spring.ai.anthropic.chat.options.model=claude-sonnet-4-5\n"
              "spring.ai.anthropic.chat.options.max-tokens=512\n"
              "spring.ai.anthropic.chat.options.cache-options.strategy=SYSTEM_ONLY\n"
              "spring.ai.anthropic.chat.options.cache-options.message-type-ttl.SYSTEM=ONE_HOUR\n", True),
    "camel": ("spring.ai.anthropic.chat.options.model=claude-sonnet-4-5\n"
              "spring.ai.anthropic.chat.options.maxTokens=512\n"
              "spring.ai.anthropic.chat.options.cacheOptions.strategy=systemOnly\n"
              "spring.ai.anthropic.chat.options.cacheOptions.messageTypeTtl.system=oneHour\n", True),
    "underscore": ("spring.ai.anthropic.chat.options.model=claude-sonnet-4-5\n"
                   "spring.ai.anthropic.chat.options.max_tokens=512\n"
                   "spring.ai.anthropic.chat.options.cache_options.strategy=system_only\n"
                   "spring.ai.anthropic.chat.options.cache_options.message_type_ttl[system]=one_hour\n", True),
    "upper-and-brackets": ("SPRING.AI.ANTHROPIC.CHAT.OPTIONS.MODEL=claude-sonnet-4-5\n"
                           "spring.ai.anthropic.chat.options.MAX-TOKENS=512\n"
                           "spring.ai.anthropic.chat.options.cache-options.STRATEGY=system-only\n"
                           "spring.ai.anthropic.chat.options.cache-options.message-type-ttl[SYSTEM]=ONE-HOUR\n", True),
    "properties-colon-and-space": ("spring.ai.anthropic.chat.model: claude-sonnet-4-5\n"
                                   "spring.ai.anthropic.chat.max-tokens 512\n"
                                   "spring.ai.anthropic.chat.cache-options.strategy = SYSTEM_ONLY\n"
                                   "spring.ai.anthropic.chat.cache-options.message-type-ttl.system=ONE_HOUR\n", True),
    "yaml-nested": ("spring:\n  ai:\n    anthropic:\n      chat:\n        options:\n          model: claude-sonnet-4-5\n"
                    "          maxTokens: 512\n          cacheOptions:\n            strategy: system_only\n"
                    "            messageTypeTtl:\n              SYSTEM: one_hour\n", False),
    "yaml-dotted": ("spring.ai.anthropic.chat.options.model: claude-sonnet-4-5\n"
                    "spring.ai.anthropic.chat.options.max-tokens: 512\n"
                    "spring.ai.anthropic.chat.options.cache-options.strategy: SYSTEM_ONLY\n"
                    "spring.ai.anthropic.chat.options.cache-options.message-type-ttl.SYSTEM: ONE_HOUR\n", False),
    "yaml-mixed": ("spring.ai:\n  anthropic.chat:\n    model: claude-sonnet-4-5\n    max-tokens: '512'\n"
                   "    cache-options.strategy: SYSTEM_ONLY\n    cache-options:\n      message-type-ttl[SYSTEM]: ONE_HOUR\n", False),
    "yaml-placeholders": ("spring:\n  ai:\n    anthropic:\n      chat:\n        model: ${ANTHROPIC_MODEL:claude-sonnet-4-5}\n"
                          "        max-tokens: ${MAX_TOKENS:512}\n        cache-options:\n          strategy: SYSTEM_ONLY\n"
                          "          message-type-ttl: {system: ONE_HOUR}\n", False),
}


@pytest.mark.parametrize("name", sorted(RELAXED))
def test_relaxed_binding(name):
    text, properties = RELAXED[name]
    doc = only(text, properties)
    assert {k: doc.doc[k] for k in EXPECTED_RELAXED} == EXPECTED_RELAXED


def test_relaxed_binding_lines_follow_the_keys():
    text = ("spring.ai:\n"                                     # 1
            "  anthropic.chat:\n"                               # 2
            "    model: claude-sonnet-4-5\n"                    # 3
            "    max-tokens: 512\n"                             # 4
            "    cache-options.strategy: SYSTEM_ONLY\n"         # 5
            "    cache-options:\n"                              # 6
            "      message-type-ttl[SYSTEM]: ONE_HOUR\n")       # 7
    doc = only(text)
    assert doc.lines[""] == 2
    assert doc.lines["/model"] == 3
    assert doc.lines["/settings/max_tokens"] == 4
    assert doc.lines["/cache/breakpoints/0"] == 5
    assert doc.lines["/cache/breakpoints/0/ttl"] == 7


def test_2x_spelling_wins_over_1x():
    text = ("spring.ai.anthropic.chat.options.model=claude-haiku-4-5\n"
            "spring.ai.anthropic.chat.model=claude-sonnet-4-5\n")
    loaded = load(text, True)
    [doc] = spring.translate(loaded, "application.properties")
    assert doc.doc["model"] == "claude-sonnet-4-5"
    assert doc.lines["/model"] == 2
    [note] = spring.notes(loaded, "application.properties")
    assert (note.key, note.line) == ("spring.ai.anthropic.chat.options.model", 1)
    assert "wins" in note.message


def test_last_duplicate_wins():
    text = ("spring.ai.anthropic.chat.model=claude-haiku-4-5\n"
            "spring.ai.anthropic.chat.model=claude-sonnet-4-5\n")
    loaded = load(text, True)
    [doc] = spring.translate(loaded, "application.properties")
    assert (doc.doc["model"], doc.lines["/model"]) == ("claude-sonnet-4-5", 2)
    # the properties loader keeps the last value: the line is the last one
    yaml_text = "spring.ai.anthropic.chat.max-tokens: 10\nspring.ai.anthropic.chat.maxTokens: 20\n"
    yloaded = load(yaml_text)
    [ydoc] = spring.translate(yloaded, "application.yml")
    assert (ydoc.doc["settings"]["max_tokens"], ydoc.lines["/settings/max_tokens"]) == (20, 2)
    assert ("spring.ai.anthropic.chat.max-tokens", 1) in [(n.key, n.line) for n in spring.notes(yloaded, "application.yml")]


def test_portable_prompt_cache_keys():
    text = ("spring:\n  ai:\n    prompt-cache:\n      strategy: conversation-history\n      ttl: 1h\n"
            "      min-content-length: 2048\n    anthropic:\n      chat:\n        model: claude-sonnet-4-5\n"
            "        cache-options:\n          message-type-ttl:\n            user: five-minutes\n")
    loaded = load(text)
    doc = only(text)
    assert doc.doc["cache"]["breakpoints"] == [
        {"at": "tools", "ttl": "1h"}, {"at": "system", "ttl": "1h"}, {"at": "last-user-message", "ttl": "5m"},
    ]
    assert doc.lines["/cache"] == 4
    assert [doc.lines[f"/cache/breakpoints/{i}/ttl"] for i in range(3)] == [5, 5, 12]
    assert [(n.key, n.line) for n in spring.notes(loaded, "application.yml")] == [("spring.ai.prompt-cache.min-content-length", 6)]


@pytest.mark.parametrize("ttl, expected", [("5m", "5m"), ("300s", "5m"), ("PT1H", "1h"), ("3600000", "1h"), ("10m", "1h"), ("1d", "1h")])
def test_portable_ttl_durations(ttl, expected):
    doc = only(f"spring.ai.prompt-cache.strategy=SYSTEM_ONLY\nspring.ai.prompt-cache.ttl={ttl}\n"
               "spring.ai.anthropic.chat.model=claude-sonnet-4-5\n", properties=True)
    assert doc.doc["cache"]["breakpoints"] == [{"at": "system", "ttl": expected}]


def test_anthropic_strategy_wins_over_portable_one():
    text = ("spring.ai.prompt-cache.strategy=SYSTEM_ONLY\n"
            "spring.ai.anthropic.chat.cache-options.strategy=TOOLS_ONLY\n")
    loaded = load(text, True)
    [doc] = spring.translate(loaded, "application.properties")
    assert doc.doc["cache"]["breakpoints"] == [{"at": "tools", "ttl": "5m"}]
    assert doc.lines["/cache"] == 2
    assert [(n.line, n.key) for n in spring.notes(loaded, "x") if "wins" in n.message] == [(1, "spring.ai.prompt-cache.strategy")]


def test_missing_model_is_generic_with_a_note():
    loaded = load("spring:\n  ai:\n    anthropic:\n      api-key: x\n")
    [doc] = spring.translate(loaded, "application.yml")
    check(doc)
    assert doc.doc["model"] == "claude"
    assert doc.lines["/model"] == 3
    assert any("no model set" in n.message for n in spring.notes(loaded, "application.yml"))


def test_placeholder_without_default_is_unset():
    loaded = load("spring.ai.anthropic.chat.model=${MODEL}\nspring.ai.anthropic.chat.cache-options.strategy=${STRATEGY}\n", True)
    [doc] = spring.translate(loaded, "application.properties")
    assert doc.doc["model"] == "claude"
    assert doc.doc["cache"] == {"strategy": "none"}
    messages = [(n.line, n.message) for n in spring.notes(loaded, "application.properties")]
    assert (1, "placeholder ${MODEL} has no default: the key is treated as unset") in messages
    assert (2, "placeholder ${STRATEGY} has no default: the key is treated as unset") in messages


def test_thinking_tool_choice_and_parallel_tool_use():
    doc = only("spring.ai.anthropic.chat.options.thinking.type=ENABLED\n"
               "spring.ai.anthropic.chat.options.thinking.budgetTokens=1024\n"
               "spring.ai.anthropic.chat.options.tool-choice={\"type\":\"any\"}\n"
               "spring.ai.anthropic.chat.options.disable-parallel-tool-use=true\n"
               "spring.ai.anthropic.chat.options.top-k=5\n"
               "spring.ai.anthropic.chat.options.top-p=0.9\n", properties=True)
    assert doc.doc["settings"] == {
        "top_p": 0.9, "top_k": 5,
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        "tool_choice": {"type": "any", "disable_parallel_tool_use": True},
    }
    assert doc.lines["/settings/tool_choice/disable_parallel_tool_use"] == 4
    assert doc.lines["/settings/thinking"] == 1


def test_cache_option_extras_are_read_with_notes():
    text = ("spring.ai.anthropic.chat.cache-options.strategy=CONVERSATION_HISTORY\n"
            "spring.ai.anthropic.chat.cache-options.message-type-min-content-lengths.USER=4000\n"
            "spring.ai.anthropic.chat.cache-options.multi-block-system-caching=true\n"
            "spring.ai.anthropic.chat.cache-options.cache-tool-results=true\n"
            "spring.ai.anthropic.chat.stop-sequences=END\n")
    loaded = load(text, True)
    only(text, True)
    notes = [(n.key, n.line, n.message.split(":")[0]) for n in spring.notes(loaded, "application.properties")]
    assert notes[0][1] == 1  # the generic model
    assert notes[1:] == [
        ("spring.ai.anthropic.chat.cache-options.message-type-min-content-lengths.USER", 2, "minimum content length"),
        ("spring.ai.anthropic.chat.cache-options.multi-block-system-caching", 3, "multi-block system caching"),
        ("spring.ai.anthropic.chat.cache-options.cache-tool-results", 4, "tool-result caching"),
        ("spring.ai.anthropic.chat.stop-sequences", 5, "ignored"),
    ]


# -- OpenAI, selection, detection ------------------------------------------------------------------


def test_openai_chat_is_automatic_caching():
    loaded = load("spring:\n  ai:\n    openai:\n      api-key: x\n      chat:\n        options:\n"
                  "          model: gpt-4o\n          temperature: 0.5\n")
    assert spring.is_spring(loaded)
    [doc] = spring.translate(loaded, "config/application.yml")
    check(doc)
    assert doc.doc == {
        "prefixlint": "harness/v1", "name": "application.yml: spring.ai.openai", "provider": "openai", "model": "gpt-4o",
        "cache": {"strategy": "automatic"}, "settings": {"temperature": 0.5}, "assume": ASSUME,
    }
    assert (doc.lines[""], doc.lines["/model"], doc.lines["/cache"], doc.lines["/settings/temperature"]) == (5, 7, 7, 8)


def test_model_chat_selects_the_provider():
    text = ("spring.ai.model.chat=openai\n"
            "spring.ai.anthropic.chat.model=claude-sonnet-4-5\n"
            "spring.ai.openai.chat.model=gpt-4o\n")
    loaded = load(text, True)
    assert [d.doc["provider"] for d in spring.translate(loaded, "application.properties")] == ["openai"]
    assert [d.doc["provider"] for d in spring.translate(load(text.replace("=openai", "=none", 1), True), "a")] == []
    both = load(text.split("\n", 1)[1], True)
    assert [d.doc["provider"] for d in spring.translate(both, "a")] == ["anthropic", "openai"]


@pytest.mark.parametrize("text, properties, expected", [
    ("spring:\n  ai:\n    anthropic:\n      api-key: x\n", False, True),
    ("spring.ai.anthropic.chat.options.model: claude\n", False, True),
    ("spring.ai.openai.chat.model=gpt-4o\n", True, True),
    ("spring.ai.openai.api-key=x\n", True, False),
    ("spring:\n  application:\n    name: x\n", False, False),
    ("server.port=8080\n", True, False),
    ("- a\n- b\n", False, False),
    ("", False, False),
    ("model_list: []\n", False, False),
])
def test_is_spring(text, properties, expected):
    assert spring.is_spring(load(text, properties)) is expected


def test_no_spring_ai_keys_translate_to_nothing():
    assert translate("server:\n  port: 8080\n") == []


def test_keys_read_and_ignored_are_documented():
    assert "cache-options.strategy" in spring.KEYS_READ
    assert "cache-options.message-type-ttl.<TYPE>" in spring.KEYS_READ
    assert "api-key" in spring.KEYS_IGNORED


# -- invalid values: a HarnessError with the line ------------------------------------------------------

INVALID = [
    ("spring.ai.anthropic.chat.cache-options.strategy=EVERYTHING\n", True, 1, "unknown cache strategy 'EVERYTHING'"),
    ("spring.ai.anthropic.chat.model=x\nspring.ai.anthropic.chat.max-tokens=lots\n", True, 2, "expected an integer, found 'lots'"),
    ("spring.ai.anthropic.chat.temperature=warm\n", True, 1, "expected a number"),
    ("spring.ai.anthropic.chat.cache-options.message-type-ttl.SYSTEM=FOREVER\n", True, 1, "unknown TTL 'FOREVER'"),
    ("spring.ai.anthropic.chat.cache-options.message-type-ttl.BOT=ONE_HOUR\n", True, 1, "unknown message type 'bot'"),
    ("spring.ai.anthropic.chat.cache-options.message-type-min-content-lengths.USER=long\n", True, 1, "expected an integer"),
    ("spring.ai.anthropic.chat.tool-choice=auto\n", True, 1, "expected a JSON object"),
    ("spring.ai.anthropic.chat.disable-parallel-tool-use=maybe\n", True, 1, "expected true or false"),
    ("spring.ai.anthropic.chat.thinking.type=SOMETIMES\n", True, 1, "unknown thinking type"),
    ("spring.ai.prompt-cache.ttl=soon\nspring.ai.anthropic.chat.model=x\n", True, 1, "expected a duration"),
    ("spring:\n  ai:\n    anthropic:\n      chat:\n        model: [a, b]\n", False, 5, "expected a single value, found a list"),
    ("spring:\n  ai:\n    anthropic:\n      chat:\n        cache-options:\n          strategy:\n            name: NONE\n",
     False, 6, "spring.ai.anthropic.chat.cache-options.strategy: expected a value, found a mapping"),
    ("spring:\n  ai:\n    anthropic:\n      chat:\n        tool-choice:\n          type: auto\n", False, 6, "tool-choice is a JSON string"),
]


@pytest.mark.parametrize("text, properties, line, message", INVALID)
def test_invalid_values(text, properties, line, message):
    with pytest.raises(HarnessError) as info:
        translate(text, properties)
    assert info.value.line == line
    assert message in info.value.message


def test_not_a_mapping():
    with pytest.raises(HarnessError) as info:
        spring.translate(load_yaml(b"- spring\n"), "application.yml")
    assert info.value.line == 1


def test_strategy_as_a_mapping_needs_the_mapping_check():
    # "model" with children (model.name) is refused rather than read as unset
    with pytest.raises(HarnessError) as info:
        translate("spring.ai.anthropic.chat.model=a\nspring.ai.anthropic.chat.model.name=b\n", True)
    assert info.value.line == 2


# -- through the CLI --------------------------------------------------------------------------------

CHECKS = {
    # the breakpoint never moves: the conversation after the system prompt is never cached
    "system-only/application.yml": [("PL606", 17)],
    "conversation-history/application.yml": [],
    "none/application.yml": [("PL607", 8)],
    # Opus 4.5's 4,096-token minimum is above the assumed tools; the conversation is never cached
    "properties/application.properties": [("PL603", 6), ("PL606", 6)],
    # a 1h breakpoint on the last user message after 5m ones on the tools and system prompt
    "ttl-order/application.yml": [("PL602", 13)],
}


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_check_findings(name):
    result = CliRunner().invoke(app, ["check", str(SPRING / name), "--format", "json", "--fail-on", "never"])
    assert result.exit_code == 0, result.output
    report = orjson.loads(result.stdout)
    assert report["diagnostics"] == []
    assert [(f["code"], f["location"]["line"]) for f in report["findings"]] == CHECKS[name]
