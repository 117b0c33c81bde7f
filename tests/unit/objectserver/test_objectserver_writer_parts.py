"""diskfile.Writer takes the chunks a PUT received as a list (one pwritev, no join) as well as
single buffers, and verify_window re-reads what was written with the same xxh3."""
import hashlib
import os

import xxhash

from objectserver import diskfile, layout, metafile
from strato.timestamps import Timestamp

H = "0123456789abcdef0123456789abcdef"


def test_lists_and_buffers_append_in_order(device):
    parts = [os.urandom(n) for n in (1, 65536, 0, 70000, 3)]
    tail = os.urandom(1 << 20)
    writer = diskfile.Writer(device, 1, H)
    writer.write(parts[:2])
    writer.write([])
    writer.write(memoryview(tail))
    writer.write(parts[2:])
    body = b"".join(parts[:2]) + tail + b"".join(parts[2:])
    assert writer.size == len(body)
    assert writer.hasher.md5_hexdigest() == hashlib.md5(body).hexdigest()
    meta = {"name": "/a/c/o", "X-Timestamp": "1000000001.00000",
            "xxh3": writer.hasher.xxh3_hexdigest()}
    path = writer.commit(meta, Timestamp("1000000001.00000"), layout.DATA)
    with open(path, "rb") as f:
        raw = f.read()
    assert raw == body + metafile.encode(meta)  # the trailer follows the body exactly

    opened, _ = diskfile.open_object(device, 1, H)
    try:
        hasher = xxhash.xxh3_64()
        got = diskfile.verify_window(opened, 0, opened.data_length, hasher)
        assert got == len(body)
        assert hasher.hexdigest() == meta["xxh3"]
        short = xxhash.xxh3_64()  # asking past the data region reads only what is there
        assert diskfile.verify_window(opened, len(raw) - 10, 100, short) == 10
    finally:
        opened.close()
