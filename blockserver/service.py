"""The blockserver service: one process serving the volume API and (when built) the iSCSI target.

Contract: strato/services.py. The API listens on [blockserver] bind_ip:port.
"""
from __future__ import annotations

import os

from blockserver.api.app import db_path, default_volume_dir


def prepare(config) -> None:
    os.makedirs(os.path.dirname(db_path(config)), exist_ok=True)
    if config.blockserver.backend == "file":
        os.makedirs(default_volume_dir(config), exist_ok=True)


def ports(config) -> list[tuple[str, int]]:
    return [(config.blockserver.bind_ip, config.blockserver.port)]


def aio_entry(config) -> dict:
    section = config.blockserver
    return {"volume": {"endpoint": f"http://{section.bind_ip}:{section.port}/v3"}}


def serve(config, instance: int = 0) -> None:
    from strato import runtime

    runtime.setup_logging(config, "blockserver")
    runtime.run(lambda: _main(config), config)


async def _main(config) -> None:
    from blockserver.api import create_app
    from strato.runtime import serve_aiohttp

    prepare(config)
    app = create_app(config)
    await serve_aiohttp(app, config.blockserver.bind_ip, config.blockserver.port)
