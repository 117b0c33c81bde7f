"""The `lvm` backend: each volume is a thin LV in an lvm2 thin pool, driven by the lvm commands.

Thin LVs make create O(1) and snapshots/clones copy-on-write (a thin snapshot of a thin LV is
itself a thin LV, so a clone is a snapshot plus `lvextend`). Every command goes through a
CommandRunner so the exact argv can be checked on hosts without device-mapper; outputs are parsed
from `--reportformat json`, never from column-aligned text. Needs root and lvm2 >= 2.02.158.
"""
from __future__ import annotations

import dataclasses
import json
import os
import subprocess
from typing import Protocol

from blockserver.backends.base import GIB, Backend
from blockserver.errors import BackendError

COMMAND_TIMEOUT = 120.0  # seconds; lvm can wait on locks, never forever
# lvremove/lvs say this (LC_ALL=C) when the LV does not exist: deleting it again is not an error.
_MISSING = ("Failed to find logical volume", "not found")


@dataclasses.dataclass(frozen=True)
class CommandResult:
    returncode: int
    stdout: str = ""
    stderr: str = ""


class CommandRunner(Protocol):
    def run(self, argv: list[str]) -> CommandResult: ...


class SubprocessRunner:
    """Runs the real lvm commands (LC_ALL=C so the error text we match is stable)."""

    def run(self, argv: list[str]) -> CommandResult:
        env = dict(os.environ, LC_ALL="C", LVM_SUPPRESS_FD_WARNINGS="1")
        try:
            done = subprocess.run(argv, capture_output=True, text=True, env=env,
                                  timeout=COMMAND_TIMEOUT, check=False)
        except FileNotFoundError:
            raise BackendError(f"{argv[0]}: command not found (is lvm2 installed?)") from None
        except subprocess.TimeoutExpired:
            raise BackendError(f"{' '.join(argv)} timed out after {COMMAND_TIMEOUT:g}s") from None
        return CommandResult(done.returncode, done.stdout, done.stderr)


class LvmBackend(Backend):
    name = "lvm"
    supports_unmap = True  # thin pools pass discards down and free the chunks

    def __init__(self, volume_group: str, thin_pool: str, runner: CommandRunner):
        self.vg = volume_group
        self.pool = thin_pool
        self.runner = runner

    # -- commands ------------------------------------------------------------------------------
    def _run(self, argv: list[str], *, missing_ok: bool = False) -> CommandResult:
        result = self.runner.run(argv)
        if result.returncode != 0:
            if missing_ok and any(text in result.stderr for text in _MISSING):
                return result
            raise BackendError(f"{' '.join(argv)} failed ({result.returncode}): "
                               f"{result.stderr.strip()[:500]}")
        return result

    def _lv(self, name: str) -> str:
        return f"{self.vg}/{name}"

    def lv_report(self, name: str) -> dict | None:
        """The `lvs` row of one LV (lv_name, lv_attr, lv_size in bytes, pool_lv, origin) or None."""
        result = self._run(["lvs", "--reportformat", "json", "--units", "b", "--nosuffix",
                            "-o", "lv_name,lv_attr,lv_size,pool_lv,origin", self._lv(name)],
                           missing_ok=True)
        if result.returncode != 0:
            return None
        try:
            rows = json.loads(result.stdout)["report"][0]["lv"]
        except (ValueError, KeyError, IndexError) as exc:
            raise BackendError(f"unexpected lvs output: {exc}") from exc
        return rows[0] if rows else None

    # -- Backend -------------------------------------------------------------------------------
    def check_setup(self) -> None:
        row = self.lv_report(self.pool)
        if row is None or not row["lv_attr"].startswith("t"):
            raise BackendError(f"{self._lv(self.pool)} is not an lvm thin pool")

    def path_for(self, volume_id: str) -> str:
        return f"/dev/{self.vg}/volume-{volume_id}"

    def exists(self, volume_id: str) -> bool:
        return self.lv_report(f"volume-{volume_id}") is not None

    def create(self, volume_id: str, size_gb: int) -> None:
        self._run(["lvcreate", "-T", self._lv(self.pool), "-V", f"{size_gb}g",
                   "-n", f"volume-{volume_id}"])

    def delete(self, volume_id: str) -> None:
        self._run(["lvremove", "-f", self._lv(f"volume-{volume_id}")], missing_ok=True)

    def extend(self, volume_id: str, new_size_gb: int) -> None:
        self._run(["lvextend", "-L", f"{new_size_gb}g", self._lv(f"volume-{volume_id}")])

    def create_snapshot(self, snapshot_id: str, volume_id: str) -> None:
        self._snapshot(f"volume-{volume_id}", f"snapshot-{snapshot_id}")

    def delete_snapshot(self, snapshot_id: str) -> None:
        self._run(["lvremove", "-f", self._lv(f"snapshot-{snapshot_id}")], missing_ok=True)

    def clone_from_volume(self, volume_id: str, source_volume_id: str, size_gb: int) -> None:
        self._clone(f"volume-{source_volume_id}", volume_id, size_gb)

    def clone_from_snapshot(self, volume_id: str, snapshot_id: str, size_gb: int) -> None:
        self._clone(f"snapshot-{snapshot_id}", volume_id, size_gb)

    def _snapshot(self, origin: str, name: str) -> None:
        # Thin snapshots are created with the activation-skip flag; clear it so the LV (and
        # clones made from it) activate like any volume.
        self._run(["lvcreate", "-s", "--setactivationskip", "n", "-n", name, self._lv(origin)])

    def _clone(self, origin: str, volume_id: str, size_gb: int) -> None:
        name = f"volume-{volume_id}"
        self._snapshot(origin, name)
        row = self.lv_report(name)
        if row is None:
            raise BackendError(f"{self._lv(name)} vanished after lvcreate")
        if int(row["lv_size"]) < size_gb * GIB:
            self.extend(volume_id, size_gb)
