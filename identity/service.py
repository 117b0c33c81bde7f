"""Identity as a Strato service (the contract is in strato/services.py)."""
from __future__ import annotations

from identity import bootstrap as bootstrap_mod
from identity.catalog import host_for


def prepare(config) -> None:
    bootstrap_mod.bootstrap(config)


def serve(config, instance: int = 0) -> None:
    from identity.api.app import create_app
    from strato import runtime

    runtime.setup_logging(config, "identity")
    section = config.identity
    runtime.run(lambda: runtime.serve_aiohttp(create_app(config), section.bind_ip, section.port),
                config)


def ports(config) -> list[tuple[str, int]]:
    return [(host_for(config.identity.bind_ip), config.identity.port)]


def aio_entry(config) -> dict:
    state = bootstrap_mod.read_bootstrap(config.cluster.data_dir)
    return {"identity": {"auth_url": bootstrap_mod.auth_url(config), "username": "admin",
                         "password": config.identity.admin_password
                         or state.get("admin_password", ""),
                         "project": "admin", "user_domain": "Default",
                         "project_domain": "Default"}}
