"""The compute service (thin Nova v2.1): one process. Contract: strato/services.py."""
from __future__ import annotations

import os

from identity.catalog import host_for


def prepare(config) -> None:
    os.makedirs(os.path.join(config.cluster.data_dir, "compute"), exist_ok=True)


def ports(config) -> list[tuple[str, int]]:
    return [(host_for(config.compute.bind_ip), config.compute.port)]


def aio_entry(config) -> dict:
    # The same URL identity's catalog gives (identity/catalog.py), so scripts and clients agree.
    section = config.compute
    host = host_for(section.bind_ip, config.identity.public_host)
    return {"compute": {"endpoint": f"http://{host}:{section.port}/v2.1"}}


def serve(config, instance: int = 0) -> None:
    from compute.api import create_app
    from strato import runtime

    runtime.setup_logging(config, "compute")
    section = config.compute
    runtime.run(lambda: runtime.serve_aiohttp(create_app(config), section.bind_ip,
                                              section.port), config)
