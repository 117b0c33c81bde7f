"""Volume backends: `file` (sparse files, the embedded default) and `lvm` (lvm2 thin pools)."""
from blockserver.backends.base import GIB, Backend, build

__all__ = ["GIB", "Backend", "build"]
