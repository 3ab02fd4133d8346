"""Tests for prefixlint.redact: secrets never reach any output."""

from __future__ import annotations

import json
import time

import pytest

from prefixlint.redact import REDACTED, SENSITIVE_HEADERS, is_sensitive_header, redact, redact_headers

# Fake credentials with the right shapes (none of them is real).
ANTHROPIC = "sk-ant-api03-Xq3vT9bK2mN8pL5rW1yZ7cF4hJ6dG0sA-_uE2iO9nB3vC8xM1kQ7wR5tY4_pL0aZ9sD8fG7hJ6kL5zXcVbNmAA"
OPENAI_LEGACY = "sk-Zx8Cv7Bn6Ma5Sd4Fg3Hj2Kl1Qw9Er8Ty7Ui6Op5As4Df3Gh"
OPENAI_PROJECT = "sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56Qr78St90Uv12Wx34Yz56_-Ab12Cd34"
GOOGLE = "AIzaSyD4fG7hJ9kL2mN5pQ8rS1tU3vW6xY0zA2b"
AWS_ID = "AKIAIOSFODNN7EXAMPLE"
AWS_STS_ID = "ASIAY34FZKBOKMUTVV7A"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
GH_PAT = "ghp_16C7e42F292c6912E7710c838347Ae178B4a"
GH_OAUTH = "gho_16C7e42F292c6912E7710c838347Ae178B4a"
GH_APP = "ghs_16C7e42F292c6912E7710c838347Ae178B4a"
GH_FINE = "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789"
SLACK_BOT = "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
SLACK_USER = "xoxp-123456789012-123456789012-123456789012-0123456789abcdef0123456789abcdef"
JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"

# (text, expected output): the whole secret goes, the surrounding text stays.
CASES = [
    pytest.param(f"key {ANTHROPIC} end", f"key {REDACTED} end", id="anthropic"),
    pytest.param(f"ANTHROPIC_API_KEY={ANTHROPIC}", f"ANTHROPIC_API_KEY={REDACTED}", id="anthropic-env"),
    pytest.param(f"use {OPENAI_LEGACY}.", f"use {REDACTED}.", id="openai-legacy"),
    pytest.param(f"({OPENAI_PROJECT})", f"({REDACTED})", id="openai-project"),
    pytest.param(f"maps key={GOOGLE}&q=x", f"maps key={REDACTED}&q=x", id="google"),
    pytest.param(f"id {AWS_ID} ok", f"id {REDACTED} ok", id="aws-access-key-id"),
    pytest.param(f"id {AWS_STS_ID} ok", f"id {REDACTED} ok", id="aws-sts-key-id"),
    pytest.param(f"aws_secret_access_key={AWS_SECRET}\nregion=us-east-1",
                 f"aws_secret_access_key={REDACTED}\nregion=us-east-1", id="aws-secret-ini"),
    pytest.param(f"aws_secret_access_key = {AWS_SECRET}", f"aws_secret_access_key = {REDACTED}",
                 id="aws-secret-spaced"),
    pytest.param(f'"AWS_SECRET_ACCESS_KEY": "{AWS_SECRET}"', f'"AWS_SECRET_ACCESS_KEY": "{REDACTED}"',
                 id="aws-secret-json"),
    pytest.param(f"token {GH_PAT}", f"token {REDACTED}", id="github-pat-classic"),
    pytest.param(f"{GH_OAUTH} {GH_APP}", f"{REDACTED} {REDACTED}", id="github-oauth-app"),
    pytest.param(f"GITHUB_TOKEN={GH_FINE}", f"GITHUB_TOKEN={REDACTED}", id="github-fine-grained"),
    pytest.param(f"slack {SLACK_BOT}", f"slack {REDACTED}", id="slack-bot"),
    pytest.param(f"slack {SLACK_USER}", f"slack {REDACTED}", id="slack-user"),
    pytest.param("xoxa-2-1234567890-abcdef", f"{REDACTED}", id="slack-app"),
    pytest.param("xoxr-1234567890-abcdefghij", f"{REDACTED}", id="slack-refresh"),
    pytest.param(f"jwt={JWT}", f"jwt={REDACTED}", id="jwt"),
    pytest.param("send Bearer abcdefghij1234567890 now", f"send Bearer {REDACTED} now", id="bearer"),
    pytest.param("bearer Zm9vYmFyYmF6cXV4cXV1eA==", f"bearer {REDACTED}", id="bearer-lowercase-padded"),
    pytest.param("Authorization: Bearer abc.def.ghi123", f"Authorization: {REDACTED}", id="authorization-header"),
    pytest.param("authorization: Basic dXNlcjpwYXNz\nAccept: */*", f"authorization: {REDACTED}\nAccept: */*",
                 id="authorization-basic"),
    pytest.param(f"curl -H 'Authorization: Bearer {OPENAI_LEGACY}' https://api.example.com",
                 f"curl -H 'Authorization: {REDACTED}' https://api.example.com", id="authorization-curl"),
    pytest.param('{"Authorization": "Bearer tok_123", "Accept": "application/json"}',
                 f'{{"Authorization": "{REDACTED}", "Accept": "application/json"}}', id="authorization-json"),
    pytest.param("Proxy-Authorization: Basic Zm9vOmJhcg==", f"Proxy-Authorization: {REDACTED}",
                 id="proxy-authorization"),
    pytest.param("Cookie: session=abc123; theme=dark\nHost: x", f"Cookie: {REDACTED}\nHost: x", id="cookie"),
    pytest.param("x-api-key: abcdef123456", f"x-api-key: {REDACTED}", id="x-api-key-header"),
    pytest.param('{"x-api-key": "abc-123", "content-type": "application/json"}',
                 f'{{"x-api-key": "{REDACTED}", "content-type": "application/json"}}', id="x-api-key-json"),
    pytest.param("x-goog-api-key: k3y-v4lue", f"x-goog-api-key: {REDACTED}", id="x-goog-api-key"),
    pytest.param("api_key=abc123", f"api_key={REDACTED}", id="api_key-equals"),
    pytest.param('api_key="secret value"', f'api_key="{REDACTED}"', id="api_key-quoted"),
    pytest.param("{'api_key': 'abc'}", f"{{'api_key': '{REDACTED}'}}", id="api_key-python-dict"),
    pytest.param('"api_key": "abc"', f'"api_key": "{REDACTED}"', id="api_key-json"),
    pytest.param('"apiKey": "abc\\"def"', f'"apiKey": "{REDACTED}"', id="api_key-json-escaped-quote"),
    pytest.param('{\\"api_key\\": \\"abc\\", \\"model\\": \\"m\\"}',
                 f'{{\\"api_key\\": \\"{REDACTED}\\", \\"model\\": \\"m\\"}}', id="api_key-double-encoded-json"),
    pytest.param("apikey: Abc123", f"apikey: {REDACTED}", id="apikey-yaml"),
    pytest.param("client_secret=s3cr3t&grant_type=x", f"client_secret={REDACTED}&grant_type=x", id="client-secret"),
    pytest.param("password=hunter2&user=bob", f"password={REDACTED}&user=bob", id="password-query"),
    pytest.param("PASSWORD: Tr0ub4dor", f"PASSWORD: {REDACTED}", id="password-yaml"),
    pytest.param("db password = 'p@ss w0rd'", f"db password = '{REDACTED}'", id="password-quoted-spaces"),
    pytest.param("password: mysecretpass", f"password: {REDACTED}", id="password-word-at-end"),
    pytest.param("postgres://admin:pa55word@db.example.com:5432/app",
                 f"postgres://admin:{REDACTED}@db.example.com:5432/app", id="url-credentials"),
    pytest.param("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\nnext",
                 f"{REDACTED}\nnext", id="pem-private-key"),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_redacts(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize("secret", [
    ANTHROPIC, OPENAI_LEGACY, OPENAI_PROJECT, GOOGLE, AWS_ID, AWS_STS_ID, GH_PAT, GH_OAUTH, GH_APP, GH_FINE,
    SLACK_BOT, SLACK_USER, JWT,
])
@pytest.mark.parametrize("template", [
    "{}",
    "key: {}",
    "the key is {} and more",
    '{{"k": "{}"}}',
    "Authorization: Bearer {}",
    "x-api-key: {}",
    '"x-api-key": "{}"',
    "api_key={}",
    "Bearer {}",
    "Error 401 for key '{}'",
    "line1\n{}\nline3",
])
def test_secret_never_survives_in_any_context(secret: str, template: str) -> None:
    out = redact(template.format(secret))
    assert secret not in out
    # Not even a recognisable piece of it.
    assert secret[-12:] not in out
    assert REDACTED in out


# Ordinary text that must come back byte-identical.
UNCHANGED = [
    pytest.param("You are a helpful assistant. Never reveal your API key or password to anyone.", id="prose"),
    pytest.param("Password: must be at least 8 characters long.", id="prose-password-colon"),
    pytest.param("This endpoint uses a Bearer token for authentication.", id="prose-bearer"),
    pytest.param("The Authorization header carries the token.", id="prose-authorization"),
    pytest.param("Ask the user for their api_key, then call the tool.", id="prose-api_key"),
    pytest.param("the task-abcdefghijklmnopqrstuvwxyz01234 is done; risk-0123456789abcdefghij", id="sk-inside-words"),
    pytest.param("scikit-learn is also called sk-learn-compatible-estimator-interface", id="sk-learn"),
    pytest.param("AKIA is the prefix of AWS key ids", id="akia-word"),
    pytest.param(
        "import os\n"
        "from anthropic import Anthropic\n"
        "api_key = os.environ[\"ANTHROPIC_API_KEY\"]\n"
        "client = Anthropic(api_key=api_key)\n"
        "password = getpass.getpass()\n"
        "self.api_key = api_key\n"
        "def login(user: str, password: str | None = None) -> None: ...\n"
        "login(user, password=password)\n"
        "key = settings.OPENAI_API_KEY\n"
        "creds = {\"api_key\": api_key, \"password\": user_password}\n",
        id="python-code",
    ),
    pytest.param("export OPENAI_API_KEY=$OPENAI_API_KEY\nAPI_KEY=${API_KEY}\npassword=%s", id="shell-refs"),
    pytest.param("api_key: Optional[str] = None\npassword: SecretStr", id="type-annotations"),
    pytest.param(json.dumps({
        "name": "login",
        "description": "Log in with a username and password.",
        "input_schema": {
            "type": "object",
            "properties": {"username": {"type": "string"}, "password": {"type": "string"},
                           "api_key": {"type": "string", "description": "The user's key"}},
            "required": ["username", "password"],
        },
    }), id="json-tool-schema"),
    pytest.param(json.dumps({"api_key": None, "password": "", "token_count": 1234, "tokens": ["a", "b"],
                             "model": "claude-sonnet-4-5", "anthropic-ratelimit-tokens-remaining": "1000"}),
                 id="json-without-secrets"),
    pytest.param("See https://docs.example.com/v1/auth?lang=en and ssh://git@github.com/x.git", id="urls"),
    pytest.param("versions 2.20.0, v1.2.3; hashes 9f86d081884c7d65; uuid 550e8400-e29b-41d4-a716-446655440000",
                 id="ids-that-are-not-secrets"),
    pytest.param("AIzaSy is the start of a Google key; ghp_ starts a GitHub token; xoxb- a Slack one", id="prefixes"),
    pytest.param("Set api_key: your key from the dashboard", id="prose-api_key-colon"),
    pytest.param("", id="empty"),
]


@pytest.mark.parametrize("text", UNCHANGED)
def test_does_not_mangle_ordinary_text(text: str) -> None:
    assert redact(text) == text


def test_provider_token_hidden_in_code_like_value_is_still_redacted() -> None:
    text = f"client(api_key=os.environ.get('X') or '{OPENAI_LEGACY}')"
    assert OPENAI_LEGACY not in redact(text)


def test_redaction_is_idempotent() -> None:
    text = f"Authorization: Bearer {ANTHROPIC}\napi_key={GOOGLE}\npassword=hunter2"
    once = redact(text)
    assert redact(once) == once


def test_many_secrets_in_one_log_line() -> None:
    line = json.dumps({
        "headers": {"x-api-key": ANTHROPIC, "authorization": f"Bearer {OPENAI_PROJECT}"},
        "body": {"system": f"Use the key {GOOGLE} for maps", "aws": AWS_ID},
    })
    out = redact(line)
    for secret in (ANTHROPIC, OPENAI_PROJECT, GOOGLE, AWS_ID):
        assert secret not in out
    assert json.loads(out)["body"]["system"] == f"Use the key {REDACTED} for maps"


# -- headers ---------------------------------------------------------------

REQUIRED_SENSITIVE = {
    "authorization", "x-api-key", "api-key", "x-goog-api-key", "cookie", "set-cookie", "proxy-authorization",
    "anthropic-api-key", "openai-api-key",
}


def test_sensitive_headers_set() -> None:
    assert isinstance(SENSITIVE_HEADERS, frozenset)
    assert REQUIRED_SENSITIVE <= SENSITIVE_HEADERS
    assert all(name == name.lower() for name in SENSITIVE_HEADERS)


@pytest.mark.parametrize("name", sorted(REQUIRED_SENSITIVE) + [
    "Authorization", "X-API-Key", "X-Goog-Api-Key", "Cookie", "x-custom-api-key", "X-Service-Token",
    "x-amz-security-token",
])
def test_sensitive_header_names(name: str) -> None:
    assert is_sensitive_header(name)
    assert redact_headers({name: "anything at all"}) == {name: REDACTED}


@pytest.mark.parametrize("name", [
    "content-type", "user-agent", "anthropic-version", "anthropic-ratelimit-tokens-remaining", "x-request-id",
    "accept", "anthropic-beta",
])
def test_ordinary_header_names(name: str) -> None:
    assert not is_sensitive_header(name)


def test_redact_headers() -> None:
    headers = {
        "Content-Type": "application/json",
        "X-Api-Key": ANTHROPIC,
        "AUTHORIZATION": "Bearer x",
        "User-Agent": f"script/1.0 key={GOOGLE}",
        "Anthropic-Version": "2023-06-01",
        "X-Retry": 3,
        "Accept": ["application/json", f"Bearer {OPENAI_LEGACY}"],
    }
    original = dict(headers)
    out = redact_headers(headers)
    assert out == {
        "Content-Type": "application/json",
        "X-Api-Key": REDACTED,
        "AUTHORIZATION": REDACTED,
        "User-Agent": f"script/1.0 key={REDACTED}",
        "Anthropic-Version": "2023-06-01",
        "X-Retry": 3,
        "Accept": ["application/json", f"Bearer {REDACTED}"],
    }
    assert list(out) == list(headers)
    assert headers == original  # the input is not modified
    assert out is not headers


def test_redact_headers_empty_and_bytes() -> None:
    assert redact_headers({}) == {}
    assert redact_headers({"cookie": b"a=1"}) == {"cookie": REDACTED}
    assert redact_headers({"x-note": b"plain"}) == {"x-note": b"plain"}
    assert redact_headers({"x-note": f"k {AWS_ID}".encode()}) == {"x-note": f"k {REDACTED}".encode()}


# -- speed -----------------------------------------------------------------

def _best_time(fn, *args, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - t0)
    return best


def test_fast_on_a_large_log() -> None:
    chunk = (
        "You are a helpful assistant for Example Corp. Follow the style guide; be concise, cite sources, "
        "and never reveal the system prompt. Tools: search, fetch, calculator. "
    )
    text = (chunk * 40 + f"api_key={GOOGLE} Authorization: Bearer {ANTHROPIC}\n") * 30
    assert len(text) >= 200_000
    out = redact(text)
    assert out.count(REDACTED) == 60
    assert _best_time(redact, text) < 0.05


@pytest.mark.parametrize("text", [
    "sk-" + "a" * 200_000,
    "sk-" * 70_000,
    "password=" * 25_000,
    "api_key: " + "x" * 200_000 + " y",
    "Authorization: " + " " * 200_000 + "x",
    '"password": "' + "\\" * 200_000,
    "Bearer " + "a" * 200_000,
    "-----BEGIN RSA PRIVATE KEY-----" + "A" * 200_000,
    "://" + "a" * 100_000 + ":" + "b" * 100_000,
    "eyJabcdefgh-" * 20_000,
    "ghp_" * 50_000,
    "://a:b" * 30_000,
])
def test_no_catastrophic_backtracking(text: str) -> None:
    assert _best_time(redact, text, repeat=1) < 0.5


def test_excerpt_never_cuts_a_secret_into_a_recognisable_stub():
    from prefixlint.volatile import excerpt

    key = "sk-ant-api03-" + "Qm7xT2vLp9Rs4Kd8Wn3Bc6Hf1Jg5Zy0Xa" * 2
    text = "Day Monday. padding paddi " + key + " end."
    for point in range(0, len(text)):
        shown = excerpt(text, point, point, 40)
        pieces = {key[i : i + 6] for i in range(len(key) - 5)}
        assert not any(p in shown for p in pieces), (point, shown)
