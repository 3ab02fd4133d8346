"""Cache model: predict what each turn reads from and writes to the provider's prompt cache.

One module per provider family (``anthropic``, ``openai``), driven by the dated data tables in
``tables`` (minimum cacheable tokens, TTLs, prices). ``usage`` reads what a log recorded,
``simulator`` runs the provider models over a file's requests and keeps per-thread figures.
"""
