"""The dead-letter contract: what goes to ``interactions-dlq`` and the headers that say why.

The record keeps the original key and bytes untouched, so it can be inspected, fixed and
re-published with its original event id.

>>> h = dict(dead_letter_headers(ValueError("bad"), "interactions", 3, 42, "g1", now_ms=1))
>>> h["error.class"], h["original.offset"], h["consumer.group"]
(b'ValueError', b'42', b'g1')
>>> big = dead_letter(ValueError("too big"), b"k", b"x" * (MAX_VALUE_BYTES + 5), "t", 0, 1, "g")
>>> len(big.value) == MAX_VALUE_BYTES, dict(big.headers)["value.original.bytes"]
(True, b'921605')
>>> tombstone = dead_letter(ValueError("no value"), b"k", None, "t", 0, 2, "g")
>>> tombstone.value, dict(tombstone.headers)["value.null"]
(b'', b'true')
"""

from __future__ import annotations

import time
from dataclasses import dataclass

MAX_ERROR_CHARS = 2000
# a dead letter must fit the producer's 1 MiB request with its headers; a longer value keeps its
# first bytes, and headers say so (the original stays readable at original.topic/partition/offset)
MAX_VALUE_BYTES = 900 * 1024


@dataclass(frozen=True)
class DeadLetter:
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]
    reason: str


def dead_letter_headers(
    error: BaseException, topic: str, partition: int, offset: int, group: str, now_ms: int | None = None
) -> list[tuple[str, bytes]]:
    return [
        ("error.class", type(error).__name__.encode()),
        ("error.message", str(error)[:MAX_ERROR_CHARS].encode(errors="replace")),
        ("original.topic", topic.encode()),
        ("original.partition", str(partition).encode()),
        ("original.offset", str(offset).encode()),
        ("consumer.group", group.encode()),
        ("failed.at", str(now_ms if now_ms is not None else int(time.time() * 1000)).encode()),
    ]


def _fit(value: bytes | None, headers: list[tuple[str, bytes]]) -> bytes:
    if value is None:  # a tombstone: no bytes to keep, and a header to tell it from an empty value
        headers.append(("value.null", b"true"))
        return b""
    if len(value) > MAX_VALUE_BYTES:
        headers += [("value.truncated", b"true"), ("value.original.bytes", str(len(value)).encode())]
        return value[:MAX_VALUE_BYTES]
    return value


def dead_letter(
    error: BaseException, key: bytes | None, value: bytes | None, topic: str, partition: int, offset: int, group: str
) -> DeadLetter:
    headers = dead_letter_headers(error, topic, partition, offset, group)
    return DeadLetter(key, _fit(value, headers), headers, f"{type(error).__name__}: {error}")
