"""The fake virt driver: no VM. A server is ACTIVE as soon as it is spawned; attachments are
only remembered. It keeps Nova's driver contract so the API, the network and the volume flows
are all real while nothing boots (the default in tests and in `strato aio`)."""
from __future__ import annotations

from compute.drivers import Disk


class FakeDriver:
    name = "fake"
    # spawn returns at once, so the API may wait for it and answer with the server ACTIVE.
    instant = True

    def __init__(self):
        self.instances: dict[str, dict[str, Disk]] = {}

    async def spawn(self, server: dict, disks: list[Disk]) -> None:
        self.instances[server["id"]] = {d.volume_id: d for d in disks}

    async def destroy(self, server: dict) -> None:
        self.instances.pop(server["id"], None)

    async def attach_volume(self, server: dict, disk: Disk) -> None:
        self.instances.setdefault(server["id"], {})[disk.volume_id] = disk

    def is_running(self, server_id: str) -> bool | None:
        return None  # nothing runs, so nothing can have stopped: statuses stay as recorded

    async def detach_volume(self, server: dict, volume_id: str, device: str | None = None) -> None:
        self.instances.get(server["id"], {}).pop(volume_id, None)

    async def close(self) -> None:
        self.instances.clear()
