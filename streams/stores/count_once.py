"""Count an effect at most once: set a once-marker and increment a hash field in one atomic step,
so a re-delivered or replayed event finds its marker and counts nothing (a crash between the two
writes cannot lose or double the count). Every key is passed in KEYS: Redis Cluster-safe when
the marker and the hash share a hash tag.
"""

from __future__ import annotations

_SCRIPT = """
if not redis.call('SET', KEYS[1], 1, 'NX', 'EX', ARGV[1]) then return 0 end
redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
return 1
"""


class CountOnce:
    def __init__(self, client):
        self._script = client.register_script(_SCRIPT)

    def add(self, pipe, marker: str, ttl_s: int, hash_key: str, field: str) -> None:
        """Queue on ``pipe``: +1 on ``hash_key[field]`` unless ``marker`` exists (it then lives ``ttl_s``).
        The pipeline's result for it is 1 when it counted, 0 when it had counted before."""
        self._script(keys=[marker, hash_key], args=[ttl_s, field], client=pipe)
