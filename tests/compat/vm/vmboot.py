"""Boot a tiny Linux VM under qemu (TCG) with an iSCSI volume as its virtio disk.

The kernel is Debian's cloud kernel, fetched with `apt-get download` and unpacked (never
installed); the initramfs is busybox plus the virtio modules and an /init that writes a 4 MiB
nonce-stamped pattern at two offsets of /dev/vda, syncs, drops the page cache, reads both back
with O_DIRECT, compares, prints a marker and powers off. The host regenerates the pattern from the
nonce to check the same bytes over iSCSI, independently of the guest.
"""
from __future__ import annotations

import secrets
import subprocess

# the kernel and initramfs recipe is the qemu driver's (compute/drivers/guest.py), with our /init
from compute.drivers.guest import build_initramfs, fetch_kernel

PATTERN_OFFSETS_MIB = (0, 600)
PATTERN_BYTES = 4 * 1024 * 1024
LINE = 64
INIT = r"""#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null || mdev -s
for m in $(cat /modules/order); do insmod /modules/$m 2>/dev/null; done
NONCE=$(sed -n 's/.*strato.nonce=\([0-9a-f]*\).*/\1/p' /proc/cmdline)
fail() { echo "STRATO-VM-FAIL $*"; sync; poweroff -f; }
DISK=
for i in $(seq 100); do
    for d in /sys/block/vd*; do [ -e "$d" ] && DISK=/dev/${d##*/} && break 2; done
    sleep 0.1
done
[ -n "$DISK" ] || fail "no virtio disk"
[ -b "$DISK" ] || mdev -s
# 65536 lines of exactly 64 bytes: 63 characters and a newline
awk -v n="$NONCE" 'BEGIN{for(i=0;i<65536;i++) printf "%-63s\n", "strato-vm nonce=" n " line=" sprintf("%08d", i)}' > /tmp/pat
[ "$(wc -c < /tmp/pat)" = 4194304 ] || fail "pattern size $(wc -c < /tmp/pat)"
PSUM=$(md5sum < /tmp/pat | cut -d' ' -f1)
for off in 0 600; do
    dd if=/tmp/pat of=$DISK bs=1M seek=$off conv=notrunc,fsync 2>/dev/null || fail "write at $off MiB"
done
sync
echo 3 > /proc/sys/vm/drop_caches
for off in 0 600; do
    RSUM=$(dd if=$DISK bs=1M skip=$off count=4 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)
    [ "$RSUM" = "$PSUM" ] || fail "readback mismatch at $off MiB"
done
echo "STRATO-VM-OK nonce=$NONCE"
sync
poweroff -f
"""


def pattern(nonce: str) -> bytes:
    """The bytes the guest writes at each offset."""
    return b"".join(f"{'strato-vm nonce=' + nonce + ' line=' + format(i, '08d'):<63}\n".encode()
                    for i in range(PATTERN_BYTES // LINE))


def boot(work: str, drive_opts: str, timeout: float = 300) -> tuple[str, str]:
    """Boot with `-drive <drive_opts>`; return (nonce, console output)."""
    kernel, modules = fetch_kernel(work)
    initrd = build_initramfs(work, modules, INIT)
    nonce = secrets.token_hex(8)
    done = subprocess.run(
        ["qemu-system-x86_64", "-accel", "tcg", "-cpu", "max", "-m", "256", "-smp", "1",
         "-nographic", "-no-reboot", "-nodefaults", "-serial", "stdio",
         "-kernel", kernel, "-initrd", initrd,
         "-append", f"console=ttyS0 panic=-1 quiet loglevel=3 strato.nonce={nonce}",
         "-drive", drive_opts],
        capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    return nonce, done.stdout + done.stderr
