"""The consistent-hashing ring: offline builder, ring file, immutable lookup, reloading watcher."""
from ring.builder import RebalanceReport, RingBuilder
from ring.device import Device
from ring.errors import RingError
from ring.hashing import hash_path, partition_for
from ring.lookup import Ring
from ring.watcher import RingWatcher

__all__ = ["Ring", "RingBuilder", "RingError", "Device", "RingWatcher", "hash_path",
           "partition_for", "RebalanceReport"]
