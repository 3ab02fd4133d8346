"""Chained OpenAI Responses requests: rebuild the prompt the provider really processes.

A request that names ``previous_response_id`` (or a ``conversation``) sends only its new input
items; the server prepends the earlier context. The prompt the model (and its prefix cache) sees is

    tools + schema + instructions of the NEW request    (neither is carried over by the server)
    + the earlier context: every earlier input item and every earlier response's output items
    + the new request's own input items.

:func:`extend` builds that *effective* prompt from the thread head (the previous turn's effective
prompt), the output of the previous response when the log recorded it (``Record.output``), and the
new request.

Pointer convention: blocks that come from earlier requests or responses keep their original pointer
behind the :data:`CARRIED` marker, ``(previous)/input/3`` for an earlier request's input item and
``(previous)/output/0`` for an earlier response's output item (no double marker when carried
again). Such a pointer never resolves in the record being linted; a request rule's finding on a
carried block was already reported on the turn that sent it, so the engine drops it. Blocks of the
new request keep their own pointers (``/tools/1``, ``/instructions``, ``/input/0``), so findings on
the new turn point into the new request.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from prefixlint.model import Block, Message, Prompt

CARRIED = "(previous)"


def carried(pointer: str) -> str:
    """The pointer of a block once it is part of the earlier context."""
    return pointer if pointer.startswith(CARRIED) else CARRIED + pointer


def is_carried(pointer: str | None) -> bool:
    return bool(pointer) and pointer.startswith(CARRIED)


def chain_key(p: Prompt) -> tuple[str | None, str | None]:
    """(previous_response_id, conversation id) of a Responses request (None when absent)."""
    if p.api != "responses":
        return None, None
    return p.keys.get("previous_response_id"), p.keys.get("conversation")


def output_blocks(output: Any) -> list[Block]:
    """The blocks of a response's output items, rendered as input items (unreadable items skipped)."""
    from prefixlint.providers.base import make_block
    from prefixlint.providers.openai import _item_parts

    blocks: list[Block] = []
    if not isinstance(output, list):
        return blocks
    for i, item in enumerate(output):
        pointer = f"{CARRIED}/output/{i}"
        try:
            role, kind, parts = _item_parts(item, pointer)
        except ValueError:  # BodyError: a malformed output item is context we cannot render
            continue
        blocks.append(make_block("messages", pointer, kind, item, parts, role=role))
    return blocks


def _message(index: int, block: Block, first: int) -> Message:
    tag = (block.role or "").encode() + b"\x1e"
    return Message(
        index=index, role=block.role or "user", pointer=block.pointer,
        hash=tag + block.hash, canon=tag + block.canon, first=first, count=1,
    )


def extend(head: Prompt, new: Prompt) -> Prompt:
    """The effective prompt of ``new``, a request chained to the turn whose effective prompt is
    ``head`` (whose record holds the response the chain continues)."""
    blocks: list[Block] = [b for b in new.blocks if b.section in ("tools", "schema")]
    blocks += [b for b in new.blocks if b.section == "system" and b.pointer == "/instructions"]
    context = [b for b in head.blocks if b.section in ("system", "messages") and b.pointer != "/instructions"]
    context = [replace(b, pointer=carried(b.pointer)) for b in context]
    context += output_blocks(head.record.output)
    own = [b for b in new.blocks if b.section in ("system", "messages") and b.pointer != "/instructions"]
    messages: list[Message] = []
    leading = True
    for b in context + own:
        if leading and b.section == "system":
            # Leading system/developer items stay system until the first conversation item; a new
            # request's leading developer item that follows earlier context is a message.
            blocks.append(b)
            continue
        leading = False
        if b.section != "messages" or b.msg != len(messages):
            b = replace(b, section="messages", msg=len(messages))
        messages.append(_message(len(messages), b, len(blocks)))
        blocks.append(b)
    return Prompt(
        provider=new.provider, api=new.api, model=new.model, blocks=blocks, messages=messages,
        settings=new.settings, record=new.record, keys=new.keys, top_cache_control=new.top_cache_control,
    )
