"""The compute integration tests' cloud: real identity, network, blockserver and compute
processes on loopback (computecloud.py), started once for all the compute test modules."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from computecloud import running_cloud  # noqa: E402  (beside this file)


@pytest.fixture(scope="session")
def cloud(tmp_path_factory):
    with running_cloud(tmp_path_factory.mktemp("compute-cloud")) as cloud:
        yield cloud
