"""Issue 11 finding 13: what is stored about an API key cannot be checked against a guess.

The old bulk journal kept an unsalted `sha256(key)[:16]`, and Redis key names used it too:
anyone reading either could test a guessed key offline. Stored fingerprints are now salted and
slow (PBKDF2); the sync state's are tested in test_bulk.py, the shared pacer's here.
"""

from __future__ import annotations

import hashlib

from pingback_ext.ratelimit import RedisPacer
from pingback_ext.settings import APIKey

KEY = "a-live-looking-key-0123456789"


def test_salted_fingerprints_depend_on_the_salt_and_hide_the_plain_hash() -> None:
    key = APIKey(KEY)
    first, second = key.salted_fingerprint(b"s" * 16), key.salted_fingerprint(b"t" * 16)
    assert first != second and first == key.salted_fingerprint(b"s" * 16)
    assert key.fingerprint not in first + second
    assert APIKey("other").salted_fingerprint(b"s" * 16) != first


def test_redis_key_names_are_salted_and_shared_by_every_pacer(redis_url: str) -> None:
    import redis

    one = RedisPacer(redis_url, api_key=KEY, prefix="fp-test:")
    two = RedisPacer(redis_url, api_key=KEY, prefix="fp-test:")  # another process, say
    try:
        one.acquire()
        one.pause(0.01)
        two.acquire()
        client = redis.Redis.from_url(redis_url)
        names = [name.decode() for name in client.keys("fp-test:*")]
        client.close()
        plain = hashlib.sha256(KEY.encode()).hexdigest()[:16]
        assert names and not any(plain in name or KEY in name for name in names)
        assert one._bucket_key == two._bucket_key  # one budget, found by both
        assert plain not in repr(one)
    finally:
        one.close()
        two.close()
