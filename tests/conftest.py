"""Fixtures every tier shares: a running all-in-one, found through <data>/aio.json.

`aio` starts `strato aio --test-users` once per test session on ports shifted by AIO_PORT_OFFSET
(default 10000, so a developer's own `make run` on the default ports is left alone) in a temporary
data directory, and stops it at the end. Set STRATO_AIO_JSON=/path/to/aio.json to run the tests
against an all-in-one that is already running instead.
"""
import json
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from aiohelper import start_aio, stop_aio  # noqa: E402

AIO_PORT_OFFSET = int(os.environ.get("STRATO_TEST_PORT_OFFSET", "10000"))


@pytest.fixture(scope="session")
def aio(tmp_path_factory):
    """The running all-in-one's aio.json (dict), with `data_dir` pointing at its data."""
    existing = os.environ.get("STRATO_AIO_JSON")
    if existing:
        with open(existing) as f:
            yield json.load(f)
        return
    data_dir = tmp_path_factory.mktemp("aio")
    process, info = start_aio(data_dir, AIO_PORT_OFFSET, "--test-users")
    try:
        yield info
    finally:
        stop_aio(process)
