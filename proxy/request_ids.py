"""Request ids for answers (S3's x-amz-request-id, Swift's X-Trans-Id): unique, cheap.

A random per-process prefix and a counter: unique within a process for 2**32 requests; a uuid4 per
request cost a getrandom() call and a UUID object, and only uniqueness is asked of a request id
(clients quote it to support)."""
import itertools
import os


def _reseed() -> None:
    global _ID_PREFIX, _ID_COUNTER
    _ID_PREFIX = os.urandom(4).hex().upper()
    _ID_COUNTER = itertools.count(int.from_bytes(os.urandom(4), "big"))


_reseed()
os.register_at_fork(after_in_child=_reseed)  # forked workers must not repeat each other's ids


def new_request_id() -> str:
    """16 upper-case hex digits (S3's shape; Swift's transaction id is built from it)."""
    return f"{_ID_PREFIX}{next(_ID_COUNTER) & 0xFFFFFFFF:08X}"
