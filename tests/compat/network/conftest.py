"""The network CLI and SDK tests need the all-in-one's network service (fixtures os_creds and osc:
tests/compat/conftest.py)."""
import pytest


@pytest.fixture(scope="session")
def net_creds(aio, os_creds):
    """who -> keyword arguments of openstack.connect (admin of admin, tester of test)."""
    if "network" not in aio:
        pytest.fail("the all-in-one has no network service (aio.json lacks 'network')")
    return os_creds
