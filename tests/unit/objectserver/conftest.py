"""Shared fixtures of the object server's unit tests."""
import pytest

from objectserver import diskfile


@pytest.fixture
def device(tmp_path):
    """An empty, prepared device directory."""
    path = str(tmp_path / "d0")
    diskfile.ensure_device_dirs(path)
    yield path
    diskfile.spares.drop(path)  # the process-wide pool keeps descriptors of superseded files
