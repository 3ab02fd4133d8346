"""The cache model's data tables: the shipped file, model matching, routing and overrides."""

from __future__ import annotations

import json
import re
from importlib import resources

import pytest
from jsonschema import Draft202012Validator

from prefixlint.cache.tables import PROVIDERS, TABLES_SCHEMA, ModelPricing, Tables, load_tables


@pytest.fixture(scope="module")
def shipped() -> dict:
    return json.loads(resources.files("prefixlint").joinpath("data/cache-tables.json").read_text("utf-8"))


@pytest.fixture(scope="module")
def tables() -> Tables:
    return load_tables()


# -- the shipped file -------------------------------------------------------------------------


def test_schema_is_valid_draft_2020_12():
    Draft202012Validator.check_schema(TABLES_SCHEMA)


def test_shipped_file_validates(shipped):
    Draft202012Validator(TABLES_SCHEMA).validate(shipped)
    assert shipped["version"] == 1
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", shipped["as_of"])
    assert set(shipped["providers"]) == set(PROVIDERS)
    assert set(shipped["sources"]) == set(PROVIDERS)


def test_every_model_entry_is_dated(shipped):
    for name, section in shipped["providers"].items():
        for entry in [section["default_model"], *section["models"]]:
            assert re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", entry.get("as_of", "")), (name, entry)


def test_every_entry_resolves(tables, shipped):
    for name, section in shipped["providers"].items():
        for entry in section["models"]:
            pricing = tables.model(name, entry["match"])
            assert pricing.matched == entry["match"]
            assert pricing.default_ttl in pricing.ttl_seconds
            assert pricing.input_usd_per_mtok is None or pricing.input_usd_per_mtok > 0
            assert pricing.source


def test_loaded_once(tables):
    assert load_tables() is tables
    assert (tables.version, tables.as_of) == (1, "2026-11-24")


# -- Anthropic minimums (reference/caching-rules.md, docs of 2026-08) --------------------------

ANTHROPIC_MINIMUMS = [
    ("claude-opus-5", 512),
    ("claude-fable-5", 512),
    ("claude-mythos-5", 512),
    ("claude-opus-4-8", 1024),
    ("claude-sonnet-5", 1024),
    ("claude-sonnet-4-6", 1024),
    ("claude-sonnet-4-5", 1024),
    ("claude-opus-4-1", 1024),
    ("claude-opus-4-20250514", 1024),
    ("claude-sonnet-4-20250514", 1024),
    ("claude-3-7-sonnet-20250219", 1024),
    ("claude-mythos-preview", 2048),
    ("claude-opus-4-7", 2048),
    ("claude-3-5-haiku-20241022", 2048),
    ("claude-3-haiku-20240307", 2048),
    ("claude-opus-4-6", 4096),
    ("claude-opus-4-5", 4096),
    ("claude-haiku-4-5", 4096),
    # dated, aliased, prefixed and dotted spellings
    ("claude-sonnet-4-5-20250929", 1024),
    ("claude-opus-4-5-20251101", 4096),
    ("claude-haiku-4-5-20251001", 4096),
    ("claude-opus-4-1-20250805", 1024),
    ("claude-sonnet-4-0", 1024),
    ("claude-opus-4-0", 1024),
    ("anthropic/claude-sonnet-4-5", 1024),
    ("anthropic/claude-sonnet-4.5", 1024),
    ("anthropic/claude-opus-4.6:thinking", 4096),
    ("us.anthropic.claude-sonnet-4-5-v1:0", 1024),
    ("global.anthropic.claude-opus-4-7", 2048),
    ("claude-haiku-4-5@20251001", 4096),
    ("Claude-Opus-4-5", 4096),
    ("claude-opus-4-6[1m]", 4096),
]


@pytest.mark.parametrize(("model", "minimum"), ANTHROPIC_MINIMUMS)
def test_anthropic_minimum(tables, model, minimum):
    pricing = tables.model("anthropic", model)
    assert pricing.matched is not None
    assert pricing.min_tokens == minimum


@pytest.mark.parametrize(
    ("model", "minimum"),
    [("us.anthropic.claude-sonnet-4-5-v1:0", 1024), ("anthropic.claude-3-5-haiku-20241022-v1:0", 2048),
     ("eu.anthropic.claude-haiku-4-5-20251001-v1:0", 4096), ("global.anthropic.claude-opus-5", 512)],
)
def test_bedrock_uses_the_anthropic_entries(tables, model, minimum):
    pricing = tables.model("bedrock", model)
    assert (pricing.provider, pricing.min_tokens) == ("bedrock", minimum)
    assert pricing.max_breakpoints == 4


def test_longest_prefix_wins(tables):
    assert tables.model("anthropic", "claude-opus-4-5").matched == "claude-opus-4-5"
    assert tables.model("anthropic", "claude-opus-4-20250514").matched == "claude-opus-4"
    # a point release is not priced as its predecessor
    opus55 = tables.model("anthropic", "claude-opus-5-5")
    assert (opus55.matched, opus55.input_usd_per_mtok, opus55.read_multiplier) == ("claude-opus-5-5", 4.0, 0.05)
    assert tables.model("anthropic", "claude-opus-5").input_usd_per_mtok == 5.0


def test_anthropic_prices_and_multipliers(tables):
    sonnet = tables.model("anthropic", "claude-sonnet-4-5-20250929")
    assert sonnet.input_usd_per_mtok == 3.0
    assert (sonnet.write_multiplier_5m, sonnet.write_multiplier_1h, sonnet.read_multiplier) == (1.25, 2.0, 0.1)
    assert sonnet.ttl_seconds == {"5m": 300, "1h": 3600} and sonnet.default_ttl == "5m"
    assert sonnet.ttl() == 300 and sonnet.ttl("1h") == 3600
    assert tables.lookback_blocks("anthropic") == 20
    assert tables.max_breakpoints("anthropic") == 4
    assert tables.model("anthropic", "claude-3-haiku-20240307").read_multiplier == 0.12


# -- defaults ---------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("model", [None, "", "totally-unknown-model-7"])
def test_unknown_model_gets_the_provider_default(tables, provider, model):
    pricing = tables.model(provider, model)
    assert isinstance(pricing, ModelPricing)
    assert pricing.matched is None
    assert pricing.provider == provider
    assert pricing.model == model
    assert pricing.input_usd_per_mtok is None
    assert pricing.min_tokens > 0


def test_defaults_per_provider(tables):
    assert tables.model("anthropic", "claude-future-9").min_tokens == 1024
    openai = tables.model("openai", "some-new-model")
    assert (openai.min_tokens, openai.increment_tokens, openai.default_ttl) == (1024, 128, "in_memory")
    assert openai.ttl_seconds == {"in_memory": 600, "24h": 86400}
    assert tables.max_breakpoints("openai") is None


def test_unknown_provider_is_an_error(tables):
    with pytest.raises(ValueError, match="unknown provider"):
        tables.model("mistral", "mistral-large")


# -- OpenAI -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "read"),
    [("gpt-5", 0.1), ("gpt-5-2025-08-07", 0.1), ("gpt-5-mini", 0.1), ("gpt-5.1-codex", 0.1),
     ("gpt-4o", 0.5), ("gpt-4o-2024-08-06", 0.5), ("gpt-4o-mini-2024-07-18", 0.5), ("openai/gpt-4o-mini", 0.5),
     ("gpt-4.1", 0.25), ("gpt-4.1-2025-04-14", 0.25), ("gpt-4.1-mini-2025-04-14", 0.25), ("gpt-4.1-nano", 0.25),
     ("openai/o3", 0.25), ("o4-mini", 0.25)],
)
def test_openai_read_multiplier(tables, model, read):
    pricing = tables.model("openai", model)
    assert pricing.matched is not None
    assert pricing.read_multiplier == read
    assert pricing.write_multiplier_5m == 1.0
    assert pricing.min_tokens == 1024


def test_openai_families_are_distinct(tables):
    assert tables.model("openai", "gpt-4.1-mini").matched == "gpt-4.1-mini"
    assert tables.model("openai", "gpt-4o-mini").matched == "gpt-4o-mini"
    assert tables.model("openai", "gpt-5").input_usd_per_mtok == 1.25
    assert tables.model("openai", "gpt-4.1").input_usd_per_mtok == 2.0
    assert tables.model("openai", "gpt-4o").input_usd_per_mtok == 2.5


def test_openai_increments(tables):
    assert tables.model("openai", "gpt-4o").increment_tokens == 128
    explicit = tables.model("openai", "gpt-5.6")
    assert explicit.increment_tokens is None
    assert (explicit.write_multiplier_5m, explicit.read_multiplier, explicit.ttl()) == (1.25, 0.1, 1800)
    assert explicit.max_breakpoints == 4


# -- routing ----------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["deepseek-chat", "deepseek-reasoner", "deepseek/deepseek-chat", "DeepSeek-Chat"])
def test_deepseek_through_the_openai_format(tables, model):
    pricing = tables.model("openai", model)
    assert pricing.provider == "deepseek"
    assert (pricing.min_tokens, pricing.increment_tokens) == (64, 64)
    assert pricing.matched in {"deepseek-chat", "deepseek-reasoner"}
    assert pricing.read_multiplier == 0.1


def test_deepseek_direct_and_unknown(tables):
    assert tables.model("deepseek", "deepseek-reasoner").input_usd_per_mtok == 0.28
    other = tables.model("openai", "deepseek-r1-distill-llama-70b")
    assert (other.provider, other.matched, other.min_tokens) == ("deepseek", None, 64)


def test_gateway_models_route_to_their_vendor(tables):
    assert tables.model("openai", "anthropic/claude-sonnet-4.5").provider == "anthropic"
    assert tables.model("openai", "anthropic/claude-sonnet-4.5").min_tokens == 1024
    assert tables.model("openai", "gemini-2.5-pro").provider == "gemini"


# -- Gemini and Bedrock -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "minimum"),
    [("gemini-2.5-pro", 2048), ("models/gemini-2.5-flash", 2048), ("gemini-2.5-flash-lite", 2048),
     ("gemini-2.5-flash-preview-05-20", 2048), ("gemini-3-pro-preview", 4096), ("gemini-3.5-flash", 4096)],
)
def test_gemini_minimums(tables, model, minimum):
    pricing = tables.model("gemini", model)
    assert pricing.matched is not None
    assert pricing.min_tokens == minimum


def test_bedrock_nova(tables):
    nova = tables.model("bedrock", "us.amazon.nova-pro-v1:0")
    assert (nova.matched, nova.read_multiplier, nova.write_multiplier_5m) == ("nova-pro", 0.25, 1.0)
    assert nova.ttl_seconds == {"5m": 300}


# -- overrides --------------------------------------------------------------------------------


def test_override_changes_a_minimum(tables):
    custom = load_tables({"providers": {"anthropic": {"models": [{"match": "claude-opus-4-5", "min_tokens": 1024}]}}})
    pricing = custom.model("anthropic", "claude-opus-4-5-20251101")
    assert pricing.min_tokens == 1024
    assert pricing.input_usd_per_mtok == 5.0  # the rest of the entry is kept
    assert pricing.source == "configuration"
    # the shipped, cached tables are untouched
    assert load_tables() is tables
    assert tables.model("anthropic", "claude-opus-4-5").min_tokens == 4096


def test_override_match_is_case_and_dot_insensitive():
    custom = load_tables({"providers": {"openai": {"models": [{"match": "GPT-4.1", "input_usd_per_mtok": 1.5}]}}})
    assert custom.model("openai", "gpt-4.1-2025-04-14").input_usd_per_mtok == 1.5


def test_override_adds_a_model():
    custom = Tables.load(
        {"providers": {"openai": {"models": [
            {"match": "my-finetune", "min_tokens": 2048, "input_usd_per_mtok": 0.5, "as_of": "2026-11-20"},
        ]}}}
    )
    pricing = custom.model("openai", "my-finetune-v3")
    assert (pricing.matched, pricing.min_tokens, pricing.as_of) == ("my-finetune", 2048, "2026-11-20")
    assert pricing.increment_tokens == 128  # provider default still applies


def test_override_provider_level_values():
    anthropic = {"ttl_seconds": {"5m": 360}, "lookback_blocks": 30}
    custom = load_tables({"as_of": "2026-12-01", "providers": {"anthropic": anthropic}})
    assert custom.as_of == "2026-12-01"
    pricing = custom.model("anthropic", "claude-sonnet-4-5")
    assert pricing.ttl_seconds == {"5m": 360, "1h": 3600}
    assert custom.lookback_blocks("anthropic") == 30


@pytest.mark.parametrize(
    ("overrides", "path"),
    [
        ({"providers": {"anthropic": {"models": [{"match": "claude-opus-4-5", "min_tokens": "many"}]}}},
         "providers.anthropic.models[claude-opus-4-5].min_tokens"),
        ({"providers": {"openai": {"min_tokens": -1}}}, "providers.openai.min_tokens"),
        ({"providers": {"openai": {"multipliers": {"read": "cheap"}}}}, "providers.openai.multipliers.read"),
        ({"providers": {"gemini": {"min_token": 10}}}, "providers.gemini"),
        ({"providers": {"cohere": {}}}, "providers"),
        ({"providers": {"openai": {"models": [{"min_tokens": 10}]}}}, "providers.openai.models[0]"),
        ({"version": "two"}, "version"),
    ],
)
def test_invalid_override_names_the_key(overrides, path):
    with pytest.raises(ValueError) as caught:
        load_tables(overrides)
    message = str(caught.value)
    assert "\n" not in message
    assert f" at {path}:" in message


def test_override_that_breaks_consistency_is_rejected():
    with pytest.raises(ValueError, match=r"providers\.anthropic.*default_ttl"):
        load_tables({"providers": {"anthropic": {"default_ttl": "10m"}}})


def test_invalid_table_data_is_rejected(shipped):
    broken = json.loads(json.dumps(shipped))
    del broken["providers"]["openai"]["models"][0]["as_of"]
    with pytest.raises(ValueError, match=r"invalid cache tables at providers\.openai\.models\[gpt-5\.6\]"):
        Tables(broken)
