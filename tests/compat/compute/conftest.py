"""The compute CLI tests need the all-in-one's compute, network and volume services (fixtures
os_creds and osc: tests/compat/conftest.py)."""
import pytest


@pytest.fixture(scope="session")
def compute_creds(aio, os_creds):
    for needed in ("compute", "network", "volume"):
        if needed not in aio:
            pytest.fail(f"the all-in-one has no {needed} service (aio.json lacks '{needed}')")
    return os_creds


@pytest.fixture(scope="session")
def nova_cli(compute_creds, osc):
    """nova_cli(who, *args, ok=True, as_json=True) -> CompletedProcess (.data: parsed JSON)."""
    return osc
