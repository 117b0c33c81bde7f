"""What the compute API does: create, delete, attach, detach, around the store, the network and
volume services and the virt driver.

Every change to a server runs under that server's lock, and every outside resource compute takes
(a port it creates or binds, a volume attachment) is written into the server's record as soon as it
exists, so a delete after a crash or a restart still frees it. A create that fails before the
driver runs is rolled back and answered with Nova's error; a driver failure leaves the server in
ERROR with a fault, as Nova does.
"""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import re
import time
import uuid

from compute import errors, flavors as flavors_mod, states
from compute.clients import Services, UpstreamError
from compute.drivers import Disk, DriverError
from compute.validation import CreateRequest

log = logging.getLogger("compute")
DEVICE_LETTERS = "abcdefghijklmnopqrstuvwxyz"


@dataclasses.dataclass(frozen=True)
class Caller:
    user_id: str
    project_id: str
    is_admin: bool
    token: str


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def device_for(volumes: list[dict], wanted: str | None = None) -> str:
    """/dev/vdX: the wanted name when it is free (else 409 as Nova's DevicePathInUse), or the
    first free letter; vda belongs to the boot volume."""
    used = {v["device"] for v in volumes}
    if wanted is not None:
        if wanted in used:
            raise errors.conflict(f"The supplied device path ({wanted}) is in use.")
        return wanted
    for letter in DEVICE_LETTERS:
        if f"/dev/vd{letter}" not in used:
            return f"/dev/vd{letter}"
    raise errors.bad_request("No free disk device names for prefix 'vd'")


def visible(server: dict | None, caller: Caller, server_id: str) -> dict:
    # Another project's server is 404, not 403: Nova does not reveal that it exists.
    if server is None or (server["project_id"] != caller.project_id and not caller.is_admin):
        raise errors.server_not_found(server_id)
    return server


def matches(server: dict, query: dict) -> bool:
    name = query.get("name")
    if name is not None:
        try:
            if not re.search(name, server["name"]):
                return False
        except re.error:
            if name not in server["name"]:
                return False
    status = query.get("status")
    return status is None or server["status"] == status.upper()


class Manager:
    def __init__(self, db, services: Services, driver, flavors: dict, config):
        self.db = db                  # async read(fn) / write(fn) over compute/store.py
        self.services = services
        self.driver = driver
        self.flavors = flavors
        self.host = config.compute.host_name
        self.initiator = config.compute.initiator_iqn
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task] = set()

    def _lock(self, server_id: str) -> asyncio.Lock:
        return self._locks.setdefault(server_id, asyncio.Lock())

    @contextlib.asynccontextmanager
    async def _held(self, caller: Caller, server_id: str):
        """The caller's server, read again under its lock: what every change starts from. A
        server that is not there (or not the caller's) is 404 before any lock is made for it."""
        await self.get(caller, server_id)
        async with self._lock(server_id):
            yield await self.get(caller, server_id)

    def connector(self, device: str) -> dict:
        # What os-brick sends as the connector of an iSCSI host (Cinder records host/mountpoint).
        return {"platform": "x86_64", "os_type": "linux", "ip": "127.0.0.1", "host": self.host,
                "initiator": self.initiator, "multipath": False, "do_local_attach": False,
                "mountpoint": device}

    # -- reads ---------------------------------------------------------------------------------
    async def get(self, caller: Caller, server_id: str) -> dict:
        return visible(await self.db.read(lambda t: t.get(server_id)), caller, server_id)

    async def list(self, caller: Caller, query: dict, all_tenants: bool) -> list[dict]:
        everyone = all_tenants and caller.is_admin

        def scan(t):
            return [s for s in t.scan()
                    if (everyone or s["project_id"] == caller.project_id) and matches(s, query)]
        found = await self.db.read(scan)
        # Nova's default order: newest first (created_at desc, then id).
        found.sort(key=lambda s: (s["created"], s["id"]), reverse=True)
        return found

    async def _save(self, server: dict) -> dict:
        server["updated"] = now()
        await self.db.write(lambda t: t.put(server))
        return server

    async def _set_status(self, server: dict, target: states.Status, **extra) -> dict:
        server["status"] = states.transition(server["status"], target).value
        server.update(extra)
        return await self._save(server)

    # -- create --------------------------------------------------------------------------------
    async def create(self, caller: Caller, req: CreateRequest) -> dict:
        try:
            flavor = flavors_mod.lookup(self.flavors, req.flavor_id)
        except errors.NovaError:
            raise errors.bad_request(f"Flavor {req.flavor_id} could not be found.") from None
        names = await self._check_networks(caller, req)
        await self._check_volumes(caller, req)
        stamp = now()
        server = {"id": str(uuid.uuid4()), "name": req.name, "project_id": caller.project_id,
                  "user_id": caller.user_id, "flavor": flavor.as_dict(),
                  "status": states.Status.BUILD.value, "task_state": "networking",
                  "created": stamp, "updated": stamp, "launched_at": None,
                  "metadata": req.metadata, "description": req.description,
                  "host_id": uuid.uuid5(uuid.NAMESPACE_DNS,
                                        f"{caller.project_id}/{self.host}").hex,
                  "addresses": {}, "ports": [], "volumes": []}
        async with self._lock(server["id"]):
            await self._save(server)
            try:
                await self._plug_ports(caller, server, req, names)
                server["task_state"] = "block_device_mapping"
                disks = await self._attach_boot_volumes(caller, server, req)
            except BaseException:
                await self._teardown(caller, server)
                raise
            server["task_state"] = "spawning"
            await self._save(server)
        if self.driver.instant:
            await self._spawn(server, disks)
        else:
            task = asyncio.ensure_future(self._spawn(server, disks))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return server

    async def _check_networks(self, caller: Caller, req: CreateRequest) -> dict[str, str]:
        """Refuse unknown or taken ports and subnet-less networks; answer the names of the
        networks fetched, so _plug_ports does not ask for them again."""
        names: dict[str, str] = {}
        for net in req.networks:
            if net.port_id:
                port = await _fetch(self.services.port(caller.token, net.port_id),
                                    f"Port id {net.port_id} could not be found.")
                if port.get("device_id"):
                    raise errors.conflict(f"Port {net.port_id} is still in use.")
                continue
            network = await _fetch(self.services.network(caller.token, net.network_id),
                                   f"Network {net.network_id} could not be found.")
            if not network.get("subnets"):
                raise errors.bad_request(f"Network {net.network_id} requires a subnet in order "
                                         "to boot instances on.")
            names[net.network_id] = network["name"]
        return names

    async def _check_volumes(self, caller: Caller, req: CreateRequest) -> None:
        for vol in req.volumes:
            try:
                volume = await self.services.volume(caller.token, caller.project_id,
                                                    vol.volume_id)
            except UpstreamError as exc:
                if exc.status in (403, 404):
                    raise errors.bad_request(f"Block Device Mapping is Invalid: failed to get "
                                             f"volume {vol.volume_id}.") from None
                raise errors.NovaError(exc.status, exc.message) from None
            if volume["status"] != "available":
                raise errors.bad_request(f"Invalid volume: volume '{vol.volume_id}' status "
                                         f"must be 'available'. Currently in "
                                         f"'{volume['status']}'")

    async def _plug_ports(self, caller: Caller, server: dict, req: CreateRequest,
                          names: dict[str, str]) -> None:
        for net in req.networks:
            try:
                if net.port_id:
                    port = await self.services.bind_port(caller.token, net.port_id, server["id"])
                    server["ports"].append({"id": port["id"], "owned": False})
                else:
                    port = await self.services.create_port(caller.token, net.network_id,
                                                           server["id"], net.fixed_ip)
                    server["ports"].append({"id": port["id"], "owned": True})
                await self._save(server)
                net_id = port["network_id"]
                if net_id not in names:
                    names[net_id] = (await self.services.network(caller.token, net_id))["name"]
            except UpstreamError as exc:
                raise _network_error(exc) from None
            entries = server["addresses"].setdefault(names[net_id] or net_id, [])
            for fixed in port.get("fixed_ips", []):
                ip = fixed["ip_address"]
                entries.append({"version": 6 if ":" in ip else 4, "addr": ip,
                                "OS-EXT-IPS:type": "fixed",
                                "OS-EXT-IPS-MAC:mac_addr": port.get("mac_address")})

    async def _attach_boot_volumes(self, caller: Caller, server: dict,
                                   req: CreateRequest) -> list[Disk]:
        disks = []
        for vol in req.volumes:
            device = device_for(server["volumes"])
            try:
                att = await self.services.create_attachment(
                    caller.token, server["project_id"], vol.volume_id, server["id"],
                    self.connector(device))
            except UpstreamError as exc:
                raise errors.bad_request(f"Block Device Mapping is Invalid: volume "
                                         f"{vol.volume_id}: {exc.message}") from None
            server["volumes"].append({"volume_id": vol.volume_id, "attachment_id": att["id"],
                                      "device": device, "boot": vol.boot_index == 0,
                                      "delete_on_termination": vol.delete_on_termination})
            await self._save(server)
            try:
                await self.services.complete_attachment(caller.token, server["project_id"],
                                                        att["id"])
            except UpstreamError as exc:
                raise errors.bad_request(f"Block Device Mapping is Invalid: volume "
                                         f"{vol.volume_id}: {exc.message}") from None
            disks.append(Disk(vol.volume_id, device, att["connection_info"]))
        return disks

    async def _spawn(self, server: dict, disks: list[Disk]) -> None:
        try:
            await self.driver.spawn(server, disks)
        except Exception as exc:
            log.warning("spawn of %s failed: %s", server["id"], exc,
                        exc_info=not isinstance(exc, DriverError))
            fault = {"code": 500, "message": str(exc)[:255] or type(exc).__name__,
                     "created": now()}
            async with self._lock(server["id"]):
                await self._refresh_status(server["id"], states.Status.ERROR, fault=fault,
                                           task_state=None)
            return
        async with self._lock(server["id"]):
            await self._refresh_status(server["id"], states.Status.ACTIVE, task_state=None,
                                       launched_at=now())

    async def _refresh_status(self, server_id: str, target: states.Status, **extra) -> None:
        # The record may be gone (deleted while building) or moved on: re-read it first.
        current = await self.db.read(lambda t: t.get(server_id))
        if current is not None and current["status"] == states.Status.BUILD.value:
            await self._set_status(current, target, **extra)

    async def update(self, caller: Caller, server_id: str, changes: dict) -> dict:
        async with self._held(caller, server_id) as server:
            server.update(changes)
            return await self._save(server)

    # -- delete --------------------------------------------------------------------------------
    async def delete(self, caller: Caller, server_id: str) -> None:
        async with self._held(caller, server_id) as server:
            try:
                await self.driver.destroy(server)
            except Exception:
                log.exception("destroying %s failed; freeing its resources anyway", server_id)
            await self._teardown(caller, server, delete_volumes=True)
        self._locks.pop(server_id, None)

    async def _teardown(self, caller: Caller, server: dict, delete_volumes=False) -> None:
        """Free what the record says the server holds, then drop the record. Nova's local
        delete: an outside service that refuses is logged, and the server still goes."""
        for vol in list(server["volumes"]):
            await self._quietly("detach", self.services.delete_attachment(
                caller.token, server["project_id"], vol["attachment_id"]))
            if delete_volumes and vol["delete_on_termination"]:
                await self._quietly("delete volume", self.services.delete_volume(
                    caller.token, server["project_id"], vol["volume_id"]))
        for port in server["ports"]:
            if port["owned"]:
                await self._quietly("delete port", self.services.delete_port(caller.token,
                                                                             port["id"]))
            else:
                await self._quietly("unbind port", self.services.bind_port(caller.token,
                                                                           port["id"], ""))
        await self.db.write(lambda t: t.delete(server["id"]))

    @staticmethod
    async def _quietly(what: str, call) -> None:
        try:
            await call
        except UpstreamError as exc:
            if exc.status != 404:
                log.warning("%s: %s", what, exc)
        except errors.NovaError as exc:
            log.warning("%s: %s", what, exc.message)

    # -- volume attachments --------------------------------------------------------------------
    async def attach(self, caller: Caller, server_id: str, volume_id: str,
                     wanted_device: str | None) -> tuple[dict, dict]:
        async with self._held(caller, server_id) as server:
            self._check_attachable(server, "attach_volume")
            if any(v["volume_id"] == volume_id for v in server["volumes"]):
                raise errors.bad_request(f"Invalid volume: volume {volume_id} already attached")
            try:
                await self.services.volume(caller.token, server["project_id"], volume_id)
            except UpstreamError as exc:
                if exc.status in (403, 404):
                    raise errors.volume_not_found(volume_id) from None
                raise errors.NovaError(exc.status, exc.message) from None
            device = device_for(server["volumes"], wanted_device)
            try:
                att = await self.services.create_attachment(
                    caller.token, server["project_id"], volume_id, server_id,
                    self.connector(device))
            except UpstreamError as exc:
                # Nova turns Cinder's 400 (volume not available) into InvalidInput, 400.
                raise errors.bad_request(f"Invalid input received: {exc.message}") from None
            entry = {"volume_id": volume_id, "attachment_id": att["id"], "device": device,
                     "boot": False, "delete_on_termination": False}
            try:
                await self.driver.attach_volume(server, Disk(volume_id, device,
                                                             att["connection_info"]))
                await self.services.complete_attachment(caller.token, server["project_id"],
                                                        att["id"])
            except Exception as exc:
                await self._quietly("roll back attachment", self.services.delete_attachment(
                    caller.token, server["project_id"], att["id"]))
                if isinstance(exc, UpstreamError):
                    raise errors.bad_request(f"Invalid input received: {exc.message}") from None
                raise errors.NovaError(500, f"Attaching volume {volume_id} failed: {exc}") \
                    from None
            server["volumes"].append(entry)
            await self._save(server)
            return server, entry

    async def detach(self, caller: Caller, server_id: str, volume_id: str) -> None:
        async with self._held(caller, server_id) as server:
            entry = next((v for v in server["volumes"] if v["volume_id"] == volume_id), None)
            if entry is None:
                raise errors.not_found(f"No volume Block Device Mapping with id {volume_id}.")
            if entry["boot"]:
                raise errors.bad_request("Cannot detach a root device volume")
            self._check_attachable(server, "detach_volume")
            try:
                await self.driver.detach_volume(server, volume_id, entry["device"])
            except Exception as exc:
                raise errors.NovaError(500, f"Detaching volume {volume_id} failed: {exc}") \
                    from None
            try:
                await self.services.delete_attachment(caller.token, server["project_id"],
                                                      entry["attachment_id"])
            except UpstreamError as exc:
                if exc.status != 404:  # 404: the attachment is already gone; so be it
                    raise errors.NovaError(exc.status if exc.status < 500 else 503,
                                           exc.message) from None
            server["volumes"] = [v for v in server["volumes"] if v["volume_id"] != volume_id]
            await self._save(server)

    @staticmethod
    def _check_attachable(server: dict, action: str) -> None:
        if states.Status(server["status"]) not in states.ATTACHABLE:
            raise errors.invalid_state(action, server["id"], states.vm_state(server["status"]))

    async def sync_power_states(self) -> None:
        """At start-up: a server whose build was cut off by a stop is ERROR; one whose VM is
        not running (the driver knows) is SHUTOFF, as Nova's power-state sync records it."""
        def fix(t):
            for server in t.scan():
                running = self.driver.is_running(server["id"])
                if server["status"] == states.Status.BUILD.value:
                    server["status"] = states.transition(server["status"],
                                                         states.Status.ERROR).value
                    server.update(task_state=None, updated=now(), fault={
                        "code": 500, "message": "compute stopped during the build",
                        "created": now()})
                elif server["status"] == states.Status.ACTIVE.value and running is False:
                    server["status"] = states.transition(server["status"],
                                                         states.Status.SHUTOFF).value
                    server["updated"] = now()
                else:
                    continue
                t.put(server)
        await self.db.write(fix)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def _fetch(call, missing: str) -> dict:
    """A network-service read whose 404 is the request's fault (400 with `missing`)."""
    try:
        return await call
    except UpstreamError as exc:
        if exc.status == 404:
            raise errors.bad_request(missing) from None
        raise errors.NovaError(exc.status, exc.message) from None


def _network_error(exc: UpstreamError) -> errors.NovaError:
    """Neutron's refusal as Nova reports it: 404s are the request's fault (400), conflicts
    (no free address, a MAC or IP in use) stay 409."""
    if exc.status == 404:
        return errors.bad_request(exc.message)
    if exc.status == 409:
        return errors.conflict(exc.message)
    return errors.NovaError(exc.status if exc.status < 500 else 503, exc.message)
