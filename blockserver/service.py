"""The blockserver service: ONE process serving the volume API and the iSCSI target.

Contract: strato/services.py. The API listens on [blockserver] bind_ip:port, the target portal on
[iscsi] bind_ip:port; both share one TargetRegistry, so an attachment made through the API is a
target initiators can log in to at once, and removing it ends their sessions. On start the
manager exports again every attachment recorded in LMDB (same IQN, same CHAP secret).
"""
from __future__ import annotations

import concurrent.futures
import os

from blockserver.api.app import db_path, default_volume_dir


def prepare(config) -> None:
    os.makedirs(os.path.dirname(db_path(config)), exist_ok=True)
    if config.blockserver.backend == "file":
        os.makedirs(default_volume_dir(config), exist_ok=True)


def portal(config) -> str:
    """The portal address put in connection info (what initiators connect to)."""
    if config.blockserver.iscsi_portal:
        return config.blockserver.iscsi_portal
    host = config.iscsi.bind_ip
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    elif ":" in host:
        host = f"[{host}]"
    return f"{host}:{config.iscsi.port}"


def ports(config) -> list[tuple[str, int]]:
    return [(config.blockserver.bind_ip, config.blockserver.port),
            (config.iscsi.bind_ip, config.iscsi.port)]


def aio_entry(config) -> dict:
    section = config.blockserver
    return {"volume": {"endpoint": f"http://{section.bind_ip}:{section.port}/v3"},
            "iscsi": {"portal": portal(config)}}


def serve(config, instance: int = 0) -> None:
    from strato import runtime

    runtime.setup_logging(config, "blockserver")
    runtime.run(lambda: _main(config), config)


async def _main(config) -> None:
    from blockserver.api import create_app
    from blockserver.backends import build as build_backend
    from blockserver.exports import IscsiExports
    from blockserver.iscsi import TargetRegistry, start_target_server
    from strato.runtime import serve_aiohttp

    prepare(config)
    backend = build_backend(config)
    registry = TargetRegistry(config.iscsi.iqn_prefix)
    disk = concurrent.futures.ThreadPoolExecutor(config.iscsi.disk_threads,
                                                 thread_name_prefix="iscsi-disk")
    target = await start_target_server(registry, config.iscsi.bind_ip, config.iscsi.port)
    exports = IscsiExports(registry, portal(config), disk, thin=backend.supports_unmap)
    try:
        app = create_app(config, exports=exports, backend=backend)
        await serve_aiohttp(app, config.blockserver.bind_ip, config.blockserver.port)
    finally:
        await exports.close()
        await target.close()
        disk.shutdown(wait=True)
