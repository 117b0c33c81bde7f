import pytest

from blockserver.backends.file import FileBackend
from blockserver.context import RequestContext
from blockserver.manager import VolumeManager
from blockserver.quotas import Amounts
from blockserver.store import Store


class ManagerFactory:
    """Builds a manager over one data directory; `restart()` reopens it like a new process."""

    def __init__(self, tmp_path, quota=Amounts(10, 100, 10)):
        self.tmp_path = tmp_path
        self.quota = quota
        self.current = None

    async def start(self, exports=None):
        self.store = Store(str(self.tmp_path / "db"))
        self.backend = FileBackend(str(self.tmp_path / "volumes"), reflink=False)
        self.current = VolumeManager(self.store, self.backend, quota_defaults=self.quota,
                                     exports=exports)
        await self.current.start()
        return self.current

    async def stop(self):
        if self.current is not None:
            await self.current.close()
            self.store.close()
            self.current = None

    async def restart(self, exports=None):
        await self.stop()
        return await self.start(exports)


@pytest.fixture
async def managers(tmp_path):
    factory = ManagerFactory(tmp_path)
    yield factory
    await factory.stop()


@pytest.fixture
def admin():
    return RequestContext("p1", "u1", ("admin",), True, (3, 70))


@pytest.fixture
def member():
    return RequestContext("p1", "u2", ("member",), False, (3, 70))
