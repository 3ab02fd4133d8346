"""Gemini generateContent and Bedrock Converse: detection, normalisation, findings, cache model."""

from __future__ import annotations

import copy

from conftest import brief
from prefixlint import providers
from prefixlint.model import Origin, Record

GEMINI_URL = "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent"
VERTEX_URL = (
    "https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/us-central1/"
    "publishers/google/models/gemini-2.5-pro:streamGenerateContent?alt=sse"
)
BEDROCK_URL = "https://bedrock-runtime.us-east-1.amazonaws.com/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse"

LONG = "You are a careful travel assistant. Answer briefly and cite the booking rules. " * 120

WEATHER = {
    "name": "get_weather",
    "description": "Weather for a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
FLIGHTS = {
    "name": "find_flights",
    "description": "Flights between two airports.",
    "parameters": {"type": "object", "properties": {"from": {"type": "string"}, "to": {"type": "string"}}},
}


def normalize(body: dict, url: str | None = None):
    record = Record(body=body, origin=Origin("x"), url=url)
    kind, reason = providers.detect(body, record)
    assert kind is not None, reason
    return providers.normalize(kind, body, record)


# -- Gemini ------------------------------------------------------------------------------------


def gemini(turns: int = 1, model: str | None = "gemini-2.5-flash", tools=(WEATHER, FLIGHTS)) -> dict:
    contents = [{"role": "user", "parts": [{"text": "Weather in Paris?"}]}]
    for i in range(turns - 1):
        contents += [
            {"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Paris", "unit": "c"}}}]},
            {"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": {"temp": 20 + i}}}]},
            {"role": "model", "parts": [{"text": f"It is {20 + i} degrees."}]},
            {"role": "user", "parts": [{"text": f"And tomorrow ({i})?"}]},
        ]
    body = {
        "systemInstruction": {"parts": [{"text": LONG}]},
        "tools": [{"functionDeclarations": list(tools)}],
        "toolConfig": {"functionCallingConfig": {"mode": "AUTO"}},
        "generationConfig": {"responseMimeType": "application/json", "responseSchema": {"type": "OBJECT"}},
        "contents": contents,
    }
    if model:
        body["model"] = model
    return body


def test_gemini_blocks_in_prefix_order_with_pointers():
    p = normalize(gemini(2))
    assert (p.provider, p.api, p.model) == ("gemini", "generate", "gemini-2.5-flash")
    assert [(b.section, b.pointer, b.kind) for b in p.blocks] == [
        ("tools", "/tools/0/functionDeclarations/0", "tool"),
        ("tools", "/tools/0/functionDeclarations/1", "tool"),
        ("schema", "/generationConfig/responseSchema", "schema"),
        ("system", "/systemInstruction/parts/0", "text"),
        ("messages", "/contents/0/parts/0", "text"),
        ("messages", "/contents/1/parts/0", "tool_use"),
        ("messages", "/contents/2/parts/0", "tool_result"),
        ("messages", "/contents/3/parts/0", "text"),
        ("messages", "/contents/4/parts/0", "text"),
    ]
    assert [b.name for b in p.section("tools")] == ["get_weather", "find_flights"]
    assert [m.role for m in p.messages] == ["user", "assistant", "user", "assistant", "user"]
    assert set(p.settings) == {"toolConfig"}


def test_gemini_text_part_renders_like_text_and_args_keep_key_order():
    a = normalize(gemini(2))
    b = gemini(2)
    b["contents"][0]["parts"] = ["Weather in Paris?"]  # a bare string part
    b["contents"][1]["parts"][0]["functionCall"]["args"] = {"unit": "c", "city": "Paris"}
    b = normalize(b)
    assert a.blocks[4].hash == b.blocks[4].hash
    call_a, call_b = a.blocks[5], b.blocks[5]
    assert call_a.hash != call_b.hash and call_a.canon == call_b.canon


def test_gemini_model_from_url_and_settings():
    body = gemini(1, model=None)
    body["generationConfig"]["thinkingConfig"] = {"thinkingBudget": 1024}
    assert normalize(body, GEMINI_URL).model == "gemini-2.5-flash"
    p = normalize(body, VERTEX_URL)
    assert p.model == "gemini-2.5-pro"
    assert p.settings["thinkingConfig"].pointer == "/generationConfig/thinkingConfig"
    cached = {"cachedContent": "cachedContents/abc123", "contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    p = normalize(cached, GEMINI_URL)
    assert p.settings["cachedContent"].value == "cachedContents/abc123"
    assert [b.pointer for b in p.blocks] == ["/contents/0/parts/0"]


def test_gemini_snake_case_single_tool_object():
    body = {
        "system_instruction": {"parts": [{"text": "Be brief."}]},
        "tools": {"function_declarations": [WEATHER]},
        "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
    }
    p = normalize(body, GEMINI_URL)
    assert [b.pointer for b in p.blocks] == [
        "/tools/function_declarations/0",
        "/system_instruction/parts/0",
        "/contents/0/parts/0",
    ]


def test_gemini_responses_and_count_tokens_are_skipped():
    response = {"candidates": [{"content": {"parts": [{"text": "hi"}]}}], "usageMetadata": {"promptTokenCount": 3}}
    assert providers.detect(response, Record(body=response, origin=Origin("x")))[0] is None
    count = GEMINI_URL.replace(":generateContent", ":countTokens")
    body = gemini()
    assert providers.detect(body, Record(body=body, origin=Origin("x"), url=count)) == (None, "token-counting call")


# -- Bedrock Converse --------------------------------------------------------------------------


def spec(tool: dict) -> dict:
    return {"toolSpec": {"name": tool["name"], "description": tool["description"], "inputSchema": {"json": tool["parameters"]}}}


def converse(turns: int = 1, system: str = LONG, tools=(WEATHER, FLIGHTS), cache_at: str = "system") -> dict:
    messages = [{"role": "user", "content": [{"text": "Weather in Paris?"}]}]
    for i in range(turns - 1):
        messages += [
            {"role": "assistant", "content": [{"toolUse": {"toolUseId": f"t{i}", "name": "get_weather", "input": {"city": "Paris"}}}]},
            {"role": "user", "content": [{"toolResult": {"toolUseId": f"t{i}", "content": [{"json": {"temp": 20 + i}}], "status": "success"}}]},
            {"role": "assistant", "content": [{"text": f"It is {20 + i} degrees."}]},
            {"role": "user", "content": [{"text": f"And tomorrow ({i})?"}]},
        ]
    body: dict = {
        "system": [{"text": system}],
        "messages": messages,
        "toolConfig": {"tools": [spec(t) for t in tools]},
        "inferenceConfig": {"maxTokens": 512},
    }
    if cache_at == "system":
        body["system"].append({"cachePoint": {"type": "default"}})
    elif cache_at == "tools":
        body["toolConfig"]["tools"].append({"cachePoint": {"type": "default"}})
    return body


def test_bedrock_blocks_pointers_and_cache_points():
    body = converse(2)
    body["messages"][-1]["content"].append({"cachePoint": {"type": "default", "ttl": "1h"}})
    p = normalize(body, BEDROCK_URL)
    assert (p.provider, p.api, p.model) == ("bedrock", "converse", "us.anthropic.claude-sonnet-4-5-20250929-v1:0")
    assert [(b.section, b.pointer, b.kind) for b in p.blocks] == [
        ("tools", "/toolConfig/tools/0", "tool"),
        ("tools", "/toolConfig/tools/1", "tool"),
        ("system", "/system/0", "text"),
        ("messages", "/messages/0/content/0", "text"),
        ("messages", "/messages/1/content/0", "tool_use"),
        ("messages", "/messages/2/content/0", "tool_result"),
        ("messages", "/messages/3/content/0", "text"),
        ("messages", "/messages/4/content/0", "text"),
    ]
    assert [b.pointer for b in p.blocks if b.cache_control] == ["/system/0", "/messages/4/content/0"]
    assert p.blocks[2].cache_control == {"type": "ephemeral"}
    assert p.blocks[-1].cache_control == {"type": "ephemeral", "ttl": "1h"}
    assert [b.name for b in p.section("tools")] == ["get_weather", "find_flights"]


def test_bedrock_cache_point_is_no_content():
    a, b = normalize(converse(2, cache_at="system")), normalize(converse(2, cache_at="tools"))
    assert [x.hash for x in a.blocks] == [x.hash for x in b.blocks]
    assert [m.hash for m in a.messages] == [m.hash for m in b.messages]


def test_bedrock_detection_does_not_steal_anthropic_or_openai():
    anthropic = {"model": "claude-sonnet-4-5", "max_tokens": 10, "system": "x", "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]}
    chat = {"model": "gpt-5", "messages": [{"role": "user", "content": "hi"}]}
    for body, kind in ((anthropic, ("anthropic", "messages")), (chat, ("openai", "chat"))):
        assert providers.detect(body, Record(body=body, origin=Origin("x")))[0] == kind
    bare = {"messages": [{"role": "user", "content": [{"text": "hi"}]}]}  # no model, no URL
    assert providers.detect(bare, Record(body=bare, origin=Origin("x")))[0] == ("bedrock", "converse")


# -- findings ----------------------------------------------------------------------------------


def env(body: dict, url: str, t: int) -> dict:
    return {"request": {"url": url, "body": body, "timestamp": f"2026-11-24T10:0{t}:00Z"}}


def test_gemini_model_swap(lint):
    second = gemini(2, model=None)
    result = lint([env(gemini(1, model=None), GEMINI_URL, 0), env(second, GEMINI_URL.replace("flash", "pro"), 1)])
    assert [(f.code, f.location.turn) for f in result.findings] == [("PL401", 2)]


def test_gemini_tool_set_changed(lint):
    result = lint([gemini(1, tools=(WEATHER,)), gemini(2)])
    assert [(f.code, f.location.turn) for f in result.findings] == [("PL101", 2)]


def test_gemini_tool_definition_changed(lint):
    changed = copy.deepcopy(WEATHER)
    changed["description"] = "Current weather for a city, in Celsius."
    result = lint([gemini(1), gemini(2, tools=(changed, FLIGHTS))])
    assert [(f.code, f.location.turn, f.location.pointer) for f in result.findings] == [
        ("PL103", 2, "/tools/0/functionDeclarations/0")
    ]


def test_gemini_append_only_conversation_has_no_finding(lint):
    result = lint([env(gemini(n, model=None), GEMINI_URL, n) for n in (1, 2, 3)])
    assert brief(result) == []
    assert result.summary.threads == 1


def test_bedrock_tool_removed(lint):
    result = lint([env(converse(1), BEDROCK_URL, 0), env(converse(2, tools=(WEATHER,)), BEDROCK_URL, 1)])
    assert [(f.code, f.location.turn) for f in result.findings] == [("PL101", 2)]


def test_bedrock_system_prompt_changed(lint):
    result = lint([env(converse(1), BEDROCK_URL, 0), env(converse(2, system=LONG + " Be formal."), BEDROCK_URL, 1)])
    assert [(f.code, f.location.turn, f.location.pointer) for f in result.findings] == [("PL201", 2, "/system/0")]


def test_bedrock_append_only_conversation_reads_the_cache(lint):
    result = lint([env(converse(n), BEDROCK_URL, n) for n in (1, 2, 3)])
    assert brief(result) == []
    (stats,) = result.threads
    assert stats.predicted_read > 0


def test_bedrock_cache_point_moved_forward_gives_no_finding(lint):
    first, second = converse(2, cache_at="tools"), converse(3, cache_at="tools")
    second["messages"][-1]["content"].append({"cachePoint": {"type": "default"}})
    result = lint([env(first, BEDROCK_URL, 0), env(second, BEDROCK_URL, 1)])
    # the tool definitions alone are below Claude's minimum: that breakpoint is reported, nothing else
    assert {f.code for f in result.findings} == {"PL603"}


def test_provider_override_for_gemini_and_bedrock(tmp_path):
    from prefixlint import engine
    from prefixlint.rules import RULES

    from conftest import write_log

    ambiguous = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}], "model": "gemini-2.5-flash"}
    log = write_log(tmp_path / "g.jsonl", [ambiguous])
    assert engine.run([str(log)], RULES, engine.Options(provider="gemini")).summary.by_provider == {"gemini generate": 1}
    converse_body = {"messages": [{"role": "user", "content": [{"text": "hi"}]}], "modelId": "anthropic.claude-sonnet-4-5"}
    log = write_log(tmp_path / "b.jsonl", [converse_body])
    assert engine.run([str(log)], RULES, engine.Options(provider="bedrock")).summary.by_provider == {"bedrock converse": 1}


def test_a_setting_change_invalidates_the_conversation_in_the_cache_model():
    """Bedrock toolChoice is folded into the prefix hash of the messages section."""
    from prefixlint.cache.simulator import prefix_chain

    a = normalize(converse(2))
    changed = converse(2)
    changed["toolConfig"]["toolChoice"] = {"any": {}}
    b = normalize(changed)
    first_message = next(i for i, blk in enumerate(a.blocks) if blk.section == "messages")
    assert prefix_chain(a)[: first_message] == prefix_chain(b)[: first_message]
    assert prefix_chain(a)[first_message] != prefix_chain(b)[first_message]
