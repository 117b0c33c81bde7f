"""Strato's userspace iSCSI target (RFC 7143): a sans-I/O core and a thin asyncio server.

Public API (used by the volume service):
    registry = TargetRegistry(iqn_prefix)
    registry.add(iqn, lun_unit, *, chap_user=None, chap_secret=None, mutual_user=None,
                 mutual_secret=None)
    registry.remove(iqn)                     # also ends that target's sessions
    server = await start_target_server(registry, host, port)   # port 0: see server.port
    await server.wait_idle(iqn)              # after remove(): no command of iqn still running
    await server.close()                     # ends every connection, waits for running commands
"""
from .registry import Target, TargetRegistry


async def start_target_server(registry, host: str = "127.0.0.1", port: int = 3260, **kwargs):
    """Listen on host:port (0 picks a free port: see server.port) and serve registry's targets."""
    from .server import start_target_server as start
    return await start(registry, host, port, **kwargs)


__all__ = ["Target", "TargetRegistry", "start_target_server"]
