"""The request and response bodies as they crossed the wire, as text for ``input.value`` and
``output.value``.

The SDK serialises the request body itself and reads the response body before parsing it:
recording those bytes, decoded, costs a fraction of serialising the body and the response
model again, and is exactly what was sent and received. ``None`` whenever the bytes are not
there or are not JSON text; the caller then records its own JSON of the same data.
"""

from __future__ import annotations

import json
from typing import Any


def body_text(message: Any) -> str | None:
    """The body of an HTTP ``message`` (an ``httpx`` request or response) as text, if it is
    in memory and is JSON: its content type's media type ends in ``json`` (the SDK's own
    rule), and its bytes decode strictly in the encoding a JSON parser detects (UTF-8, or
    UTF-16/32 by their byte patterns). Else ``None``: a body not read (a stream), another
    content type, an empty body, bytes that are not valid text in that encoding (such as
    a lone surrogate, which a JSON parser lets through but an attribute cannot hold)."""
    try:
        data = message.content  # raises if the body was not read (httpx's *NotRead)
        if not data or type(data) is not bytes:
            return None
        media_type = _content_type(message.headers).split(b";", 1)[0]
        if not media_type.rstrip().lower().endswith(b"json"):
            return None
        if data[0] == 0x7B and data[1:2] != b"\x00":  # "{" in UTF-8: the usual case
            return data.decode("utf-8")
        return data.decode(json.detect_encoding(data))
    except Exception:  # not read, not text, or not an httpx message: not ours to record
        return None


def body_size(message: Any) -> int:
    """The bytes of an HTTP ``message``'s body in memory (0 when it was not read)."""
    try:
        data = message.content
    except Exception:  # not read (a stream), or not an httpx message
        return 0
    return len(data) if type(data) is bytes else 0


def _content_type(headers: Any) -> bytes:
    """The ``Content-Type`` header's value (``b""`` when absent).

    Hot path: ``headers.get`` lower-cases, encodes and compares every header in Python
    (about 10,000 CPU instructions for a request's 17 headers, against 2,000 here); httpx
    and httpx2 keep the headers in ``_list`` as (name, lower-case name, value) byte
    triples, scanned here up to the first match. Anything else gets ``headers.get``."""
    items = getattr(headers, "_list", None)
    if type(items) is list:
        for item in items:
            if item[1] == b"content-type":
                value: bytes = item[2]
                return value
        return b""
    return str(headers.get("content-type", "")).encode("latin-1")
