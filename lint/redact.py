"""Remove secrets from text before prefixlint shows or writes any of it.

Recorded request logs routinely contain credentials: ``Authorization`` and
``x-api-key`` headers, API keys pasted into prompts, tokens in URLs.  Every
piece of log text that reaches a report, an excerpt or an error message goes
through :func:`redact` first, and header dictionaries through
:func:`redact_headers`.

A secret is always replaced whole by ``[REDACTED]`` -- no recognisable prefix
or suffix is kept.  For ``key: value`` / ``key=value`` / ``"key": "value"``
forms the key and separator stay (so the reader still sees *what* was hidden)
and only the value is replaced.

All patterns are compiled into a single regular expression, scanned once,
with no nested quantifiers (linear time).  Values that are clearly code or
configuration rather than secrets (``api_key=api_key``, ``"password": null``,
``api_key: str``, ``os.environ[...]``, ``$API_KEY``) are left alone so that
ordinary text is not mangled.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = ["REDACTED", "SENSITIVE_HEADERS", "is_sensitive_header", "redact", "redact_headers"]

REDACTED = "[REDACTED]"

#: Lower-case header names whose values are never shown.
SENSITIVE_HEADERS: frozenset[str] = frozenset({
    "authorization",
    "proxy-authorization",
    "x-api-key",
    "api-key",
    "apikey",
    "x-goog-api-key",
    "anthropic-api-key",
    "openai-api-key",
    "x-anthropic-api-key",
    "x-openai-api-key",
    "azure-api-key",
    "ocp-apim-subscription-key",
    "cookie",
    "set-cookie",
    "x-auth-token",
    "x-access-token",
    "x-amz-security-token",
    "x-amz-session-token",
    "x-goog-iam-authorization-token",
    "x-csrf-token",
    "x-xsrf-token",
    "x-session-token",
    "x-vault-token",
})

# Header-name endings that mark a credential even when the exact name is not
# listed (``x-mycompany-api-key``, ``x-service-token``).  Deliberately not
# "tokens": ``anthropic-ratelimit-tokens-remaining`` is harmless and useful.
_SENSITIVE_SUFFIXES = ("-api-key", "_api_key", "apikey", "-token", "_token", "-secret", "_secret",
                       "-password", "_password", "-authorization")

# ---------------------------------------------------------------------------
# Patterns
# ---------------------------------------------------------------------------

def _ci(pattern: str) -> str:
    """Spell the letters of ``pattern`` case-insensitively as ``[aA]`` classes.

    Unlike ``(?i:...)`` this keeps each alternative starting with a character
    class, which the regex engine can reject in one step.  ``pattern`` must not
    contain character classes or escapes of its own.
    """
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in pattern)


# Provider tokens with a recognisable shape.  The whole match is the secret.
# All rules except the URL one run only at the start of a word (see
# _WORD_GATE), so "task-..." or "risk-..." never match the "sk-" rule.
_TOKEN_PATTERNS: tuple[str, ...] = (
    # PEM private keys (until the END line, or the end of the text if it is cut off)
    r"-----BEGIN[A-Z ]{0,40}PRIVATE KEY-----[\s\S]*?(?:-----END[A-Z ]{0,40}PRIVATE KEY-----|\Z)",
    # Anthropic (sk-ant-api03-..., sk-ant-admin01-...), OpenAI (sk-..., sk-proj-..., sk-svcacct-...),
    # DeepSeek and other "sk-" keys; must contain a digit ("sk-learn-compatible-..." is prose)
    # (checked in _replace_token: a lookahead here would rescan "sk-sk-sk-..." quadratically)
    r"sk-(?P<skbody>[A-Za-z0-9_-]{20,})",
    # Stripe secret / restricted keys
    r"[sr]k_(?:live|test)_[A-Za-z0-9]{16,}",
    # Google API keys
    r"AIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])",
    # AWS access key ids
    r"A(?:KIA|SIA)[A-Z0-9]{16}(?![A-Za-z0-9])",
    # GitHub tokens; GitLab personal access tokens; Groq keys
    r"g(?:h[pousr]_[A-Za-z0-9]{20,}|ithub_pat_[A-Za-z0-9_]{20,}|lpat-[A-Za-z0-9_-]{20,}|sk_[A-Za-z0-9]{40,})",
    # Slack tokens; xAI keys
    r"x(?:ox[abposre]-[A-Za-z0-9-]{10,}|ai-[A-Za-z0-9]{40,})",
    # Hugging Face, npm tokens
    r"hf_[A-Za-z0-9]{30,}",
    r"npm_[A-Za-z0-9]{36,}",
    # JSON Web Tokens
    # (not right after "-" or "_": "eyJa-eyJa-eyJa-..." must not be rescanned from every "eyJ")
    r"eyJ(?<![_-]eyJ)[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*",
)

# ``key <sep> value``: the separator, with the quotes JSON / Python / escaped
# JSON put around keys.
_SEP = r"\\?[\"']?[ \t]*(?::|=>?)[ \t]*"


def _value(rule: int) -> str:
    """The value after a key: quoted (any characters but the closing quote) or a bare token."""
    return (
        rf"(?:\\\"(?P<v{rule}e>[^\"\\\r\n]+)"  # \"...\" inside a JSON string: stop at the next backslash
        rf"|\"(?P<v{rule}d>(?:[^\"\\\r\n]|\\.)+)"  # "..." (with \" escapes inside)
        rf"|'(?P<v{rule}s>(?:[^'\\\r\n]|\\.)+)"  # '...'
        rf"|(?P<v{rule}u>[^\s\"'\\,;&(){{}}\[\]<>|]+))"  # bare token
    )


# Keys whose value runs to the end of the line (or the closing quote):
# "Authorization: Bearer abc", "Cookie: a=1; b=2".
_LINE_KEYS = rf"(?:{_ci('proxy-authorization')}|{_ci('authorization')}|{_ci('set-cookie')}|{_ci('cookie')})"
# Keys with a single-token value (any case, "-" or "_" or nothing between words).
_TOKEN_KEYS = "(?:" + "|".join(
    _ci(k).replace("~", "[-_]?")
    for k in (
        "api~key", "api~secret", "access~token", "auth~token",
        "client~secret",
        "secret~key", "secret~access~key", "session~token", "security~token",
        "refresh~token",
        "private~key", "passwd", "password",
    )
) + ")"

# Every rule but the URL one starts at the beginning of a word with one of these
# characters; testing that first lets the scan skip most positions in one step.
_WORD_GATE = r"(?<![A-Za-z0-9])(?=[-aAbBcCeEgGhHnNpPrRsSxX])"


def _build() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Compile all rules into one alternation.

    The capturing groups are the *values* of key/value rules (named
    ``v<rule><form>``; form ``u`` is a bare, unquoted token) and ``skbody``,
    so ``match.lastgroup`` says which part to replace: ``None`` or ``skbody``
    means the whole match is a token.  There is no wrapper group around the
    alternatives, so the engine can reject each one on its first character.
    """
    tokens = "|".join(_TOKEN_PATTERNS)
    word_rules = [
        tokens,
        # Authorization / Cookie: the rest of the line, or the quoted string.
        rf"{_LINE_KEYS}{_SEP}"
        r"(?:\\\"(?P<v0e>[^\"\\\r\n]+)|\"(?P<v0d>(?:[^\"\\\r\n]|\\.)+)|'(?P<v0s>(?:[^'\\\r\n]|\\.)+)"
        r"|(?P<v0l>[^\s\"'\\][^\r\n\"'\\]*[^\s\"'\\]|[^\s\"'\\]))",
        # Bearer tokens outside a header: need a digit or 20+ characters ("a Bearer token" is prose).
        rf"{_ci('bearer')}[ \t]+"
        r"(?P<v1t>(?=[A-Za-z0-9._~+/-]*\d|[A-Za-z0-9._~+/-]{20})[A-Za-z0-9._~+/-]{8,}=*)",
        # api_key=..., "x-api-key": "...", password: ..., aws_secret_access_key = ...
        rf"{_TOKEN_KEYS}{_SEP}{_value(2)}",
    ]
    # Credentials in URLs: scheme://user:password@host
    url = r"://[^/\s:@\"']+:(?P<v3t>[^/\s@\"']+)@"
    combined = f"{_WORD_GATE}(?:{'|'.join(word_rules)})|{url}"
    return re.compile(combined), re.compile(f"{_WORD_GATE}(?:{tokens})")


_SECRET_RE, _TOKEN_ONLY_RE = _build()

# Bare values after a key that are code or configuration, not secrets.
_NOT_SECRET_WORDS = frozenset({
    "none", "null", "nil", "undefined", "true", "false", "str", "string", "bytes", "int", "bool",
    "optional", "secretstr", "any", "required",
})
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
_ATTRIBUTE = re.compile(r"([A-Za-z_]\w*)(?:\.[A-Za-z_]\w*)+")
_CODE_ROOTS = frozenset({"os", "process", "self", "cls", "env", "config", "settings", "args", "kwargs",
                         "options", "opts", "params", "ctx", "secrets", "credentials", "creds"})
_SECRETISH_NAME = re.compile(r"(?i)key|pass|secret|token|pwd|cred|auth")
_DIGIT = re.compile(r"\d")
_CAMEL_CASE = re.compile(r"[a-z]+(?:[A-Z][a-z]+)+")
_BARE_NAMES = frozenset({"key", "apikey", "secret", "token", "password", "passwd", "pwd", "credentials", "auth"})


def _is_variable_name(value: str) -> bool:
    """``api_key``, ``user_password``, ``apiKey``, ``password`` -- but not ``Passw0rd`` or ``hunter2``."""
    if _SECRETISH_NAME.search(value) is None:
        return False
    return "_" in value or value.lower() in _BARE_NAMES or _CAMEL_CASE.fullmatch(value) is not None


def _is_code(value: str, text: str, value_end: int) -> bool:
    """True when a bare ``key = value`` value is code or a placeholder, not a secret."""
    if value.lower() in _NOT_SECRET_WORDS:
        return True
    if value[0] in "$%*":  # $API_KEY, ${API_KEY}, %s, *** (already masked)
        return True
    if value_end < len(text) and text[value_end] in "([":  # a call or subscript: getenv(...), env[...]
        return True
    if _IDENTIFIER.fullmatch(value):  # a variable: api_key=api_key, password=user_password
        return _is_variable_name(value)
    attr = _ATTRIBUTE.fullmatch(value)  # self.api_key, settings.OPENAI_API_KEY
    return attr is not None and (attr.group(1) in _CODE_ROOTS or _is_variable_name(value.rpartition(".")[2]))


def _is_prose(text: str, key_part: str, value: str, value_end: int) -> bool:
    """``Password: must be at least 8 characters`` -- a word after a colon, then more words."""
    if ":" not in key_part or not value.isalpha():
        return False
    return text[value_end: value_end + 1] == " " and text[value_end + 1: value_end + 2].isalpha()


def _replace_token(m: re.Match[str]) -> str:
    if m.lastgroup == "skbody" and not _DIGIT.search(m.group("skbody")):
        return m.group()  # "sk-learn-compatible-..." is prose: real keys always contain digits
    return REDACTED


def _replace(m: re.Match[str]) -> str:
    group = m.lastgroup
    if group is None or group == "skbody":  # a provider token: all of it goes
        return _replace_token(m)
    whole = m.group()
    start = m.start()
    vs, ve = m.span(group)
    if group.endswith("u"):  # a bare token after api_key= / password: ...
        value = m.group(group)
        if _is_code(value, m.string, ve) or _is_prose(m.string, whole[: vs - start], value, ve):
            # Not a secret after all; still catch a provider token hidden in it.
            return _TOKEN_ONLY_RE.sub(_replace_token, whole)
    return f"{whole[: vs - start]}{REDACTED}{whole[ve - start:]}"


def redact(text: str) -> str:
    """Return ``text`` with every recognised secret replaced by ``[REDACTED]``.

    Text without secrets is returned unchanged.
    """
    if not text:
        return text
    return _SECRET_RE.sub(_replace, text)


def is_sensitive_header(name: str) -> bool:
    """True when a header called ``name`` (any case) carries a credential."""
    low = name.strip().lower()
    return low in SENSITIVE_HEADERS or low.endswith(_SENSITIVE_SUFFIXES)


def _redact_value(value: object) -> object:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, bytes):
        decoded = value.decode("utf-8", "replace")
        cleaned = redact(decoded)
        return value if cleaned == decoded else cleaned.encode("utf-8")
    if isinstance(value, list):
        return [_redact_value(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_redact_value(v) for v in value)
    return value


def redact_headers(headers: Mapping[str, object]) -> dict[str, object]:
    """Copy of ``headers`` with sensitive values replaced by ``[REDACTED]``.

    Names are compared case-insensitively against :data:`SENSITIVE_HEADERS`
    (and credential-looking suffixes such as ``-api-key`` / ``-token``); every
    other string value is passed through :func:`redact`.  Key order and names
    are kept.
    """
    out: dict[str, object] = {}
    for name, value in headers.items():
        if is_sensitive_header(str(name)):
            out[name] = REDACTED
        else:
            out[name] = _redact_value(value)
    return out
