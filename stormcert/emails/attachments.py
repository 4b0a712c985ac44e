"""Attachments kept with an outbox message, and the documents made when the message is sent.

An item is one of:
- ``{"filename", "content", "mimetype"}``: small text kept as it is (calendar invitations);
- ``{"filename", "render", "ref", "mimetype"}``: a document made at delivery time by the renderer
  registered under ``render`` (a receipt PDF for an order number). It is made when the message is
  sent, after the transaction that queued it committed, so it shows the order as it ended up
  (paid), and a PDF is not stored twice (once as the receipt page makes it, once in the outbox).

Apps above this layer register their renderers in their AppConfig.ready (payments: "receipt").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Renderer = Callable[[str], bytes]
RENDERERS: dict[str, Renderer] = {}


def register(kind: str, renderer: Renderer) -> None:
    RENDERERS[kind] = renderer


def materialise(item: dict[str, Any]) -> tuple[str, str | bytes, str]:
    """(filename, content, mimetype) for one stored attachment item."""
    mimetype = item.get("mimetype", "application/octet-stream")
    kind = item.get("render")
    if kind:
        renderer = RENDERERS.get(kind)
        if renderer is None:
            raise LookupError(f"no renderer for {kind!r} attachments")
        return item["filename"], renderer(str(item.get("ref", ""))), mimetype
    return item["filename"], item["content"], mimetype


def describe(item: dict[str, Any]) -> str:
    """For the staff outbox page."""
    kind = item.get("render")
    return f"{item.get('filename', '?')} ({item.get('mimetype', '')}{', made when sent' if kind else ''})"
