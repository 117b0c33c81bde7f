"""The guest the qemu driver boots: Debian's cloud kernel and a busybox initramfs. Blocking.

There is no image service, so a server's boot volume holds no OS; the driver boots a kernel
directly (-kernel/-initrd) with the volume as /dev/vda. The initramfs's /init loads the virtio
modules, says STRATO-BOOTED once /dev/vda is there, and then reports its block devices on the
serial console whenever they change (STRATO-DISKS vda:<sectors> vdb:<sectors>), so hot-attach and
detach are visible from outside. It also stamps the first 64 bytes of its boot disk with its server
id, after printing the stamp a previous guest left there (STRATO-PREVIOUS [strato-guest=<id>]).
The VM test harness (tests/compat/vm/vmboot.py) builds its guest from here with its own /init.
"""
from __future__ import annotations

import glob
import gzip
import os
import re
import shutil
import subprocess

VIRTIO_MODULES = ["drivers/virtio/virtio_ring.ko", "drivers/virtio/virtio.ko",
                  "drivers/virtio/virtio_pci_legacy_dev.ko",
                  "drivers/virtio/virtio_pci_modern_dev.ko", "drivers/virtio/virtio_pci.ko",
                  "drivers/block/virtio_blk.ko"]
BOOTED = "STRATO-BOOTED"
DISKS = "STRATO-DISKS"

INIT = r"""#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null || mdev -s
for m in $(cat /modules/order); do insmod /modules/$m 2>/dev/null; done
SERVER=$(sed -n 's/.*strato.server=\([^ ]*\).*/\1/p' /proc/cmdline)
for i in $(seq 200); do [ -e /sys/block/vda ] && break; sleep 0.1; done
disks() {
    cd /sys/block && for d in vd*; do [ -e "$d" ] && printf '%s:%s ' "$d" "$(cat $d/size)"; done
}
# The boot volume's first 64 bytes carry the id of the last server that booted from it: report
# the previous stamp, then write ours (fsync'd through iSCSI), so data is seen to persist.
PREV=$(dd if=/dev/vda bs=64 count=1 2>/dev/null | tr -cd 'a-z0-9=-')
echo "STRATO-PREVIOUS [$PREV]"
printf '%-64s' "strato-guest=$SERVER" | dd of=/dev/vda bs=64 count=1 conv=notrunc,fsync 2>/dev/null
echo "STRATO-BOOTED server=$SERVER"
LAST=
while true; do
    NOW=$(disks)
    if [ "$NOW" != "$LAST" ]; then echo "STRATO-DISKS $NOW"; LAST=$NOW; fi
    sleep 0.5
done
"""


class GuestError(Exception):
    pass


def fetch_kernel(work: str) -> tuple[str, str]:
    """(vmlinuz path, module root) of Debian's cloud kernel: apt-get download, unpacked (never
    installed) into work/, once."""
    root = os.path.join(work, "kroot")
    found = glob.glob(os.path.join(root, "boot", "vmlinuz-*"))
    if not found:
        debs = os.path.join(work, "debs")
        os.makedirs(debs, exist_ok=True)
        package = _kernel_package()
        done = subprocess.run(["apt-get", "download", package], cwd=debs, capture_output=True,
                              text=True)
        if done.returncode != 0:
            raise GuestError(f"apt-get download {package}: {done.stderr.strip()[-300:]}")
        deb = glob.glob(os.path.join(debs, f"{package}_*.deb"))[0]
        shutil.rmtree(root, ignore_errors=True)
        subprocess.run(["dpkg", "-x", deb, root], check=True)
        found = glob.glob(os.path.join(root, "boot", "vmlinuz-*"))
        if not found:
            raise GuestError(f"{deb} holds no vmlinuz")
    kernel = found[0]
    version = os.path.basename(kernel)[len("vmlinuz-"):]
    return kernel, os.path.join(root, "lib", "modules", version, "kernel")


def _kernel_package() -> str:
    for attempt in range(2):
        depends = subprocess.run(["apt-cache", "depends", "linux-image-cloud-amd64"],
                                 capture_output=True, text=True).stdout
        match = re.search(r"Depends: (linux-image-[0-9]\S*)", depends)
        if match:
            return match.group(1)
        if attempt == 0:
            subprocess.run(["apt-get", "update", "-q"], capture_output=True)
    raise GuestError("apt-cache knows no linux-image-cloud-amd64 kernel")


def build_initramfs(work: str, modules_root: str, init: str = INIT) -> str:
    """work/initramfs.cpio.gz (rebuilt every call: cheap, and always matches `init`, the
    /init script: this driver's INIT, or a test's own, tests/compat/vm/vmboot.py)."""
    tree = os.path.join(work, "initramfs")
    shutil.rmtree(tree, ignore_errors=True)
    for sub in ("bin", "dev", "proc", "sys", "tmp", "modules"):
        os.makedirs(os.path.join(tree, sub))
    busybox = shutil.which("busybox") or "/bin/busybox"
    shutil.copy(busybox, os.path.join(tree, "bin", "busybox"))
    with open(os.path.join(tree, "modules", "order"), "w") as order:
        for module in VIRTIO_MODULES:
            shutil.copy(os.path.join(modules_root, module), os.path.join(tree, "modules"))
            order.write(os.path.basename(module) + "\n")
    with open(os.path.join(tree, "init"), "w") as f:
        f.write(init)
    os.chmod(os.path.join(tree, "init"), 0o755)
    files = subprocess.run(["find", "."], cwd=tree, capture_output=True, check=True).stdout
    archive = subprocess.run([busybox, "cpio", "-o", "-H", "newc"], cwd=tree, input=files,
                             capture_output=True, check=True).stdout
    path = os.path.join(work, "initramfs.cpio.gz")
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(gzip.compress(archive, compresslevel=1))
    os.replace(tmp, path)
    return path


def prepare(work: str) -> tuple[str, str]:
    """(kernel, initramfs) ready to boot."""
    os.makedirs(work, exist_ok=True)
    kernel, modules = fetch_kernel(work)
    return kernel, build_initramfs(work, modules)


def last_disks(console: str) -> dict[str, int] | None:
    """The newest STRATO-DISKS report on a console: {"vda": sectors, ...}, None before any."""
    lines = [line for line in console.splitlines() if line.startswith(DISKS)]
    if not lines:
        return None
    disks = {}
    for item in lines[-1][len(DISKS):].split():
        name, _, size = item.partition(":")
        disks[name] = int(size) if size.isdigit() else 0
    return disks
