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

# Provider tokens with a recognisable shape.  The whole match is the secret.
# Each starts at a token boundary (not inside a longer word such as "task-").
_TOKEN_PATTERNS: tuple[str, ...] = (
    # PEM private keys (until the END line, or the end of the text if it is cut off)
    r"-----BEGIN[A-Z ]{0,40}PRIVATE KEY-----[\s\S]*?(?:-----END[A-Z ]{0,40}PRIVATE KEY-----|\Z)",
    # Anthropic (sk-ant-api03-..., sk-ant-admin01-...), OpenAI (sk-..., sk-proj-..., sk-svcacct-...),
    # DeepSeek and other "sk-" keys; must contain a digit ("sk-learn-compatible" is prose)
    r"(?<![A-Za-z0-9_-])sk-(?=[A-Za-z0-9_-]*\d)[A-Za-z0-9_-]{20,}",
    # Stripe secret / restricted keys
    r"(?<![A-Za-z0-9_])[sr]k_(?:live|test)_[A-Za-z0-9]{16,}",
    # Google API keys
    r"(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])",
    # AWS access key ids
    r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])",
    # GitHub tokens
    r"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})",
    # GitLab personal access tokens
    r"(?<![A-Za-z0-9_])glpat-[A-Za-z0-9_-]{20,}",
    # Slack tokens
    r"(?<![A-Za-z0-9_])xox[abposre]-[A-Za-z0-9-]{10,}",
    # Hugging Face, Groq, xAI, npm tokens
    r"(?<![A-Za-z0-9_])(?:hf_[A-Za-z0-9]{30,}|gsk_[A-Za-z0-9]{40,}|xai-[A-Za-z0-9]{40,}|npm_[A-Za-z0-9]{36,})",
    # JSON Web Tokens
    r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*",
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


# Rules whose value runs to the end of the line (or the closing quote):
# "Authorization: Bearer abc", "Cookie: a=1; b=2".
_LINE_KEYS = r"(?<![A-Za-z0-9])(?i:proxy-authorization|authorization|set-cookie|cookie)"
# Rules with a single-token value.
_TOKEN_KEYS = (
    r"(?<![A-Za-z0-9])(?i:"
    r"api[-_]?key|api[-_]?secret|client[-_]?secret|secret[-_]?key|secret[-_]?access[-_]?key"
    r"|access[-_]?token|refresh[-_]?token|auth[-_]?token|session[-_]?token|security[-_]?token"
    r"|private[-_]?key|passwd|password"
    r")"
)


# Every rule but the URL one starts at the beginning of a word with one of these
# characters; testing that first lets the scan skip most positions in one step.
_WORD_GATE = r"(?<![A-Za-z0-9])(?=[-aAbBcCeEgGhHnNpPrRsSxX])"


def _build() -> tuple[re.Pattern[str], re.Pattern[str], dict[str, tuple[str, ...]]]:
    parts: list[str] = []
    value_groups: dict[str, tuple[str, ...]] = {}
    i = 0

    def add(body: str, groups: tuple[str, ...] = ()) -> None:
        nonlocal i
        name = f"r{i}"
        parts.append(f"(?P<{name}>{body})")
        value_groups[name] = groups
        i += 1

    for p in _TOKEN_PATTERNS:
        add(p)
    token_only = "|".join(parts)
    # Everything but the URL rule starts a word; see _WORD_GATE.
    # Authorization / Cookie: the rest of the line, or the quoted string.
    n = i
    add(
        rf"{_LINE_KEYS}{_SEP}"
        rf"(?:\\\"(?P<v{n}e>[^\"\\\r\n]+)|\"(?P<v{n}d>(?:[^\"\\\r\n]|\\.)+)|'(?P<v{n}s>(?:[^'\\\r\n]|\\.)+)"
        rf"|(?P<v{n}l>[^\s\"'\\][^\r\n\"'\\]*[^\s\"'\\]|[^\s\"'\\]))",
        (f"v{n}e", f"v{n}d", f"v{n}s", f"v{n}l"),
    )
    # Bearer tokens outside a header: need a digit or 20+ characters ("a Bearer token" is prose).
    n = i
    add(
        r"(?<![A-Za-z0-9])(?i:bearer)[ \t]+"
        rf"(?P<v{n}t>(?=[A-Za-z0-9._~+/-]*\d|[A-Za-z0-9._~+/-]{{20}})[A-Za-z0-9._~+/-]{{8,}}=*)",
        (f"v{n}t",),
    )
    # api_key=..., "x-api-key": "...", password: ..., aws_secret_access_key = ...
    n = i
    add(rf"{_TOKEN_KEYS}{_SEP}{_value(n)}", (f"v{n}e", f"v{n}d", f"v{n}s", f"v{n}u"))
    word_rules = "|".join(parts)
    # Credentials in URLs: scheme://user:password@host
    n = i
    add(rf"://[^/\s:@\"']+:(?P<v{n}t>[^/\s@\"']+)@", (f"v{n}t",))
    combined = f"{_WORD_GATE}(?:{word_rules})|{parts[-1]}"
    return re.compile(combined), re.compile(token_only), value_groups


_SECRET_RE, _TOKEN_ONLY_RE, _VALUE_GROUPS = _build()

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


def _is_code(value: str, text: str, value_end: int) -> bool:
    """True when a bare ``key = value`` value is code or a placeholder, not a secret."""
    if value.lower() in _NOT_SECRET_WORDS:
        return True
    if value[0] in "$%*":  # $API_KEY, ${API_KEY}, %s, *** (already masked)
        return True
    if value_end < len(text) and text[value_end] in "([":  # a call or subscript: getenv(...), env[...]
        return True
    if _IDENTIFIER.fullmatch(value):  # a variable: api_key=api_key, password=user_password
        return _SECRETISH_NAME.search(value) is not None
    attr = _ATTRIBUTE.fullmatch(value)  # self.api_key, settings.OPENAI_API_KEY
    return attr is not None and (attr.group(1) in _CODE_ROOTS or _SECRETISH_NAME.search(value) is not None)


def _is_prose(text: str, key_part: str, value: str, value_end: int) -> bool:
    """``Password: must be at least 8 characters`` -- a word after a colon, then more words."""
    if ":" not in key_part or not value.isalpha():
        return False
    return text[value_end: value_end + 1] == " " and text[value_end + 1: value_end + 2].isalpha()


def _replace(m: re.Match[str]) -> str:
    rule = m.lastgroup
    groups = _VALUE_GROUPS.get(rule or "", ())
    whole = m.group()
    if not groups:
        return REDACTED
    start = m.start()
    text = m.string
    for g in groups:
        vs = m.start(g)
        if vs < 0:
            continue
        ve = m.end(g)
        if g.endswith("u"):  # a bare token after api_key= / password: ...
            value = m.group(g)
            if _is_code(value, text, ve) or _is_prose(text, whole[: vs - start], value, ve):
                # Not a secret after all; still catch a provider token hidden in it.
                return _TOKEN_ONLY_RE.sub(REDACTED, whole)
        return f"{whole[: vs - start]}{REDACTED}{whole[ve - start:]}"
    return REDACTED


def redact(text: str) -> str:
    """Return ``text`` with every recognised secret replaced by ``[REDACTED]``.

    Text without secrets is returned unchanged (the same string).
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
        return redact(value.decode("utf-8", "replace")).encode("utf-8")
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
