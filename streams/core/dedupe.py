"""A bounded memory of the event ids one key (a user) has applied: the newest ``capacity`` as
48-bit fingerprints, packed into a short text (base64) that lives in the key's state.

Re-sent copies of an event (a client's retry, a file produced twice, two gateways) carry its
``event_id`` but land at another offset; this window recognises them. A copy arriving after more
than ``capacity`` newer events of the same user is beyond the window and counts again: the
documented bound. A false match needs two ids of one user to share 48 bits among 64 entries
(about 1 in 4 * 10^12 per event).

>>> ids = RecentIds.decode("")
>>> ids.add("e1"); ids.add("e2")
>>> "e1" in ids, "e3" in ids
(True, False)
>>> again = RecentIds.decode(ids.encode(), capacity=2); again.add("e3")
>>> "e1" in again, "e3" in again, len(again.encode()) <= 16
(False, True, True)
"""

from __future__ import annotations

import base64
import hashlib

FINGERPRINT_BYTES = 6
DEFAULT_CAPACITY = 64


def fingerprint(event_id: str) -> bytes:
    return hashlib.blake2b(event_id.encode("utf-8"), digest_size=FINGERPRINT_BYTES).digest()


class RecentIds:
    def __init__(self, packed: bytes = b"", capacity: int = DEFAULT_CAPACITY):
        self.capacity = capacity
        self._packed = packed[-capacity * FINGERPRINT_BYTES :] if capacity else b""

    @classmethod
    def decode(cls, text: str, capacity: int = DEFAULT_CAPACITY) -> RecentIds:
        return cls(base64.b64decode(text) if text else b"", capacity)

    def encode(self) -> str:
        return base64.b64encode(self._packed).decode("ascii")

    @property
    def packed(self) -> bytes:
        """The fingerprints as raw bytes (what :class:`RecentIds` is built from)."""
        return self._packed

    def __contains__(self, event_id: str) -> bool:
        mark, packed = fingerprint(event_id), self._packed
        at = packed.find(mark)
        while at != -1:  # a match must start on an entry's boundary
            if at % FINGERPRINT_BYTES == 0:
                return True
            at = packed.find(mark, at + 1)
        return False

    def add(self, event_id: str) -> None:
        self._packed = (self._packed + fingerprint(event_id))[-self.capacity * FINGERPRINT_BYTES :]
