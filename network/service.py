"""The network service (thin Neutron v2.0): one process. Contract: strato/services.py."""
from __future__ import annotations

import os

from identity.catalog import host_for


def prepare(config) -> None:
    os.makedirs(os.path.join(config.cluster.data_dir, "network"), exist_ok=True)


def ports(config) -> list[tuple[str, int]]:
    return [(host_for(config.network.bind_ip), config.network.port)]


def aio_entry(config) -> dict:
    # The same URL identity's catalog gives (identity/catalog.py), so scripts and clients agree.
    section = config.network
    host = host_for(section.bind_ip, config.identity.public_host)
    return {"network": {"endpoint": f"http://{host}:{section.port}"}}


def serve(config, instance: int = 0) -> None:
    from network.api import create_app
    from strato import runtime

    runtime.setup_logging(config, "network")
    section = config.network
    runtime.run(lambda: runtime.serve_aiohttp(create_app(config), section.bind_ip,
                                              section.port), config)
