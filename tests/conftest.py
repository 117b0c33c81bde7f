"""Fixtures every tier shares: a running all-in-one, found through <data>/aio.json.

`aio` starts `strato aio --test-users` once per test session on ports shifted by
STRATO_TEST_PORT_OFFSET, else by the first free offset from 10000 up (so a developer's own
`make run` on the default ports, and another test run, are left alone) in a temporary
data directory, and stops it at the end. Set STRATO_AIO_JSON=/path/to/aio.json to run the tests
against an all-in-one that is already running instead.
"""
import json
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from aiohelper import free_offset, start_aio, stop_aio  # noqa: E402

# Unset: the first offset from 10000 up (steps of 100) whose ports are all free, so that two test
# runs on one machine do not share (and answer for) one all-in-one.
AIO_PORT_OFFSET = os.environ.get("STRATO_TEST_PORT_OFFSET")
AIO_OFFSETS = range(10000, 11000, 100)


@pytest.fixture(scope="session")
def aio(tmp_path_factory):
    """The running all-in-one's aio.json (dict), with `data_dir` pointing at its data."""
    existing = os.environ.get("STRATO_AIO_JSON")
    if existing:
        with open(existing) as f:
            yield json.load(f)
        return
    data_dir = tmp_path_factory.mktemp("aio")
    offset = int(AIO_PORT_OFFSET) if AIO_PORT_OFFSET else free_offset(AIO_OFFSETS)
    process, info = start_aio(data_dir, offset, "--test-users")
    try:
        yield info
    finally:
        stop_aio(process)
