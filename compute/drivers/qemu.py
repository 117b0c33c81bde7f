"""The qemu virt driver: each server is a qemu process (TCG) booted from its iSCSI boot volume.

qemu itself is the iSCSI initiator (its libiscsi block driver, with the attachment's CHAP user and
a secret read from a 0600 file, never the command line), so the volume's bytes travel over
Strato's own target exactly as they would to a hypervisor host. The guest is compute/drivers/
guest.py's kernel + busybox initramfs; it reports its disks on the serial console, which is how
spawn knows the server is up and attach/detach know the guest saw the change. Volumes are hot-
plugged over QMP (blockdev-add + virtio-blk-pci device_add; device_del waits for the guest's
ACPI eject). VMs live as long as the compute process: close() stops them, and a restarted compute
finds its servers SHUTOFF (compute/manager.py sync_power_states), as Nova's power sync would.
"""
from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import shutil
import tempfile

from compute.drivers import Disk, DriverError
from compute.drivers import guest
from compute.drivers.qmp import Qmp, QmpError

log = logging.getLogger("compute.qemu")
GUEST_SEEN_TIMEOUT = 60.0   # the guest polls its disks every 0.5 s; TCG on a busy host is slow
EJECT_TIMEOUT = 60.0


@dataclasses.dataclass
class Vm:
    process: asyncio.subprocess.Process
    directory: str
    qmp_path: str
    devices: set


def _node(device: str) -> str:
    return "disk-" + device.rsplit("/", 1)[-1]   # /dev/vdb -> disk-vdb


def _iscsi(disk: Disk, secret_id: str, initiator: str) -> dict:
    data = disk.connection_info["data"]
    return {"driver": "raw", "node-name": _node(disk.device),
            "file": {"driver": "iscsi", "transport": "tcp", "portal": data["target_portal"],
                     "target": data["target_iqn"], "lun": int(data.get("target_lun", 0)),
                     "user": data["auth_username"], "password-secret": secret_id,
                     "initiator-name": initiator}}


class QemuDriver:
    name = "qemu"
    instant = False  # a boot takes seconds: the server is BUILD until the guest says so

    def __init__(self, config):
        section = config.compute
        self.binary = section.qemu_binary
        self.max_ram = section.qemu_max_ram_mib
        self.boot_timeout = section.qemu_boot_timeout
        self.initiator = section.initiator_iqn
        self.guest_dir = section.qemu_guest_dir or os.path.join(config.cluster.data_dir,
                                                                "compute", "guest")
        self.instances_dir = os.path.join(config.cluster.data_dir, "compute", "instances")
        # unix socket paths are limited to 108 bytes: keep the monitors under a short /tmp dir.
        self.sockets = tempfile.mkdtemp(prefix="strato-qmp-")
        self.vms: dict[str, Vm] = {}
        self._guest: tuple[str, str] | None = None
        self._guest_lock = asyncio.Lock()

    async def _guest_files(self) -> tuple[str, str]:
        async with self._guest_lock:
            if self._guest is None:
                try:
                    self._guest = await asyncio.to_thread(guest.prepare, self.guest_dir)
                except (guest.GuestError, OSError) as exc:
                    raise DriverError(f"no guest kernel: {exc}") from None
            return self._guest

    @staticmethod
    def _write_secret(directory: str, device: str, password: str) -> tuple[str, str]:
        secret_id = "sec-" + device.rsplit("/", 1)[-1]
        path = os.path.join(directory, secret_id)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(password)
        return secret_id, path

    @classmethod
    def _prepare_directory(cls, directory: str, disks: list[Disk]) -> list[tuple[str, str]]:
        """A fresh instance directory with each disk's CHAP secret file (disk I/O: run in a
        thread, as every file step of this driver, never on the event loop)."""
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory)
        return [cls._write_secret(directory, disk.device,
                                  disk.connection_info["data"]["auth_password"])
                for disk in disks]

    def console(self, server_id: str) -> str:
        try:
            with open(os.path.join(self.instances_dir, server_id, "console.log"),
                      errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def is_running(self, server_id: str) -> bool:
        vm = self.vms.get(server_id)
        return vm is not None and vm.process.returncode is None

    # -- lifecycle -----------------------------------------------------------------------------
    async def spawn(self, server: dict, disks: list[Disk]) -> None:
        kernel, initrd = await self._guest_files()
        directory = os.path.join(self.instances_dir, server["id"])
        secret_files = await asyncio.to_thread(self._prepare_directory, directory, disks)
        qmp_path = os.path.join(self.sockets, f"{server['id']}.sock")
        ram = min(server["flavor"]["ram"], self.max_ram)
        args = [self.binary, "-accel", "tcg", "-cpu", "max", "-m", str(ram), "-smp", "1",
                "-machine", "pc", "-nographic", "-nodefaults", "-no-reboot",
                "-serial", f"file:{os.path.join(directory, 'console.log')}",
                "-qmp", f"unix:{qmp_path},server=on,wait=off",
                "-kernel", kernel, "-initrd", initrd,
                "-append", f"console=ttyS0 panic=-1 quiet loglevel=3 "
                           f"strato.server={server['id']}"]
        for disk, (secret_id, path) in zip(disks, secret_files):
            args += ["-object", f"secret,id={secret_id},file={path}",
                     "-blockdev", json.dumps(_iscsi(disk, secret_id, self.initiator)),
                     "-device", f"virtio-blk-pci,drive={_node(disk.device)},"
                                f"id=dev-{_node(disk.device)}"]
        with open(os.path.join(directory, "qemu.log"), "ab") as qemu_log:
            process = await asyncio.create_subprocess_exec(
                *args, stdin=asyncio.subprocess.DEVNULL, stdout=qemu_log, stderr=qemu_log)
        self.vms[server["id"]] = Vm(process, directory, qmp_path, {d.device for d in disks})
        log.info("server %s: qemu pid %d", server["id"], process.pid)
        await self._wait_console(server["id"], process, lambda c: guest.BOOTED in c,
                                 self.boot_timeout, "boot")

    async def _wait_console(self, server_id, process, ready, timeout: float, what: str):
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            console = await asyncio.to_thread(self.console, server_id)
            if ready(console):
                return console
            if process.returncode is not None:
                tail = await asyncio.to_thread(self._tail, server_id)
                raise DriverError(f"qemu exited ({process.returncode}) during {what}: {tail}")
            if loop.time() > deadline:
                raise DriverError(f"the guest did not finish {what} within {timeout:.0f}s")
            await asyncio.sleep(0.2)

    def _tail(self, server_id: str) -> str:
        try:
            with open(os.path.join(self.instances_dir, server_id, "qemu.log"),
                      errors="replace") as f:
                return f.read()[-300:].strip()
        except FileNotFoundError:
            return ""

    async def destroy(self, server: dict) -> None:
        vm = self.vms.pop(server["id"], None)
        if vm is not None:
            await self._stop(vm)
        await asyncio.to_thread(shutil.rmtree, os.path.join(self.instances_dir, server["id"]),
                                ignore_errors=True)

    @staticmethod
    async def _stop(vm: Vm) -> None:
        if vm.process.returncode is None:
            vm.process.terminate()
            try:
                await asyncio.wait_for(vm.process.wait(), 10)
            except asyncio.TimeoutError:
                vm.process.kill()
                await vm.process.wait()
        try:
            os.unlink(vm.qmp_path)
        except FileNotFoundError:
            pass

    # -- hot-plug ------------------------------------------------------------------------------
    def _running_vm(self, server: dict) -> Vm | None:
        vm = self.vms.get(server["id"])
        return vm if vm is not None and vm.process.returncode is None else None

    def _guest_sees(self, server_id: str, count: int):
        def ready(console):
            disks = guest.last_disks(console)
            return disks is not None and len(disks) == count
        return ready

    async def attach_volume(self, server: dict, disk: Disk) -> None:
        vm = self._running_vm(server)
        if vm is None:
            return  # a stopped server: the volume is attached in the records only, as in Nova
        secret_id, path = await asyncio.to_thread(
            self._write_secret, vm.directory, disk.device,
            disk.connection_info["data"]["auth_password"])
        node = _node(disk.device)
        try:
            qmp = await Qmp.connect(vm.qmp_path)
        except (OSError, QmpError, asyncio.TimeoutError) as exc:
            raise DriverError(f"qemu monitor: {exc}") from None
        try:
            await qmp.execute("object-add", **{"qom-type": "secret", "id": secret_id,
                                               "file": path})
            await qmp.execute("blockdev-add", **_iscsi(disk, secret_id, self.initiator))
            await qmp.execute("device_add", driver="virtio-blk-pci", drive=node,
                              id=f"dev-{node}")
        except (QmpError, asyncio.TimeoutError) as exc:
            await self._unplug(qmp, node, secret_id, device_added=False)
            raise DriverError(f"hot-plug of {disk.device}: {exc}") from None
        finally:
            await qmp.close()
        vm.devices.add(disk.device)
        await self._wait_console(server["id"], vm.process,
                                 self._guest_sees(server["id"], len(vm.devices)),
                                 GUEST_SEEN_TIMEOUT, f"seeing {disk.device}")

    async def detach_volume(self, server: dict, volume_id: str, device: str | None = None) -> None:
        vm = self._running_vm(server)
        if vm is None or device is None or device not in vm.devices:
            return
        node = _node(device)
        try:
            qmp = await Qmp.connect(vm.qmp_path)
        except (OSError, QmpError, asyncio.TimeoutError) as exc:
            raise DriverError(f"qemu monitor: {exc}") from None
        try:
            await self._unplug(qmp, node, "sec-" + device.rsplit("/", 1)[-1], device_added=True)
        finally:
            await qmp.close()
        vm.devices.discard(device)
        await self._wait_console(server["id"], vm.process,
                                 self._guest_sees(server["id"], len(vm.devices)),
                                 GUEST_SEEN_TIMEOUT, f"losing {device}")

    @staticmethod
    async def _unplug(qmp: Qmp, node: str, secret_id: str, device_added: bool) -> None:
        if device_added:
            try:
                await qmp.execute("device_del", id=f"dev-{node}")
                # The guest must eject it (ACPI) before the block node can go.
                await qmp.wait_event("DEVICE_DELETED", EJECT_TIMEOUT, device=f"dev-{node}")
            except (QmpError, asyncio.TimeoutError) as exc:
                raise DriverError(f"unplugging {node}: {exc}") from None
        for command, args in (("blockdev-del", {"node-name": node}),
                              ("object-del", {"id": secret_id})):
            try:
                await qmp.execute(command, **args)
            except (QmpError, asyncio.TimeoutError):
                pass  # never added (a failed attach): nothing to remove

    async def close(self) -> None:
        vms, self.vms = list(self.vms.values()), {}
        await asyncio.gather(*(self._stop(vm) for vm in vms), return_exceptions=True)
        await asyncio.to_thread(shutil.rmtree, self.sockets, ignore_errors=True)
