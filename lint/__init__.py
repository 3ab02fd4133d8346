"""prefixlint: find every change that breaks an LLM provider's cached prompt prefix."""

__version__ = "0.1.0"
