"""The service catalog a scoped token carries, built from the configured ports. No I/O.

Only services clients can reach are listed; `image` is left out on purpose: once it is in the
catalog, `openstack volume create` insists on Glance discovery (OPENSTACK_API.md, pitfall 1).
"""
from __future__ import annotations

import uuid

INTERFACES = ("public", "internal", "admin")
_NAMESPACE = uuid.UUID("5f1c1a86-2a4e-4e55-9c3e-4d1f3c5d7a10")


def host_for(bind_ip: str, public_host: str = "") -> str:
    """The address clients use: the configured public host, else the bind address (a wildcard
    bind is reached on loopback)."""
    if public_host:
        return public_host
    if bind_ip in ("", "0.0.0.0", "::"):
        return "127.0.0.1"
    if ":" in bind_ip:
        return f"[{bind_ip}]"
    return bind_ip


def _section(config, name):
    try:
        return config[name]
    except (KeyError, AttributeError):
        return None


def service_urls(config, project_id: str | None) -> list[tuple[str, str, str]]:
    """[(type, name, url)] for the project; project-bound URLs are left out of unscoped catalogs."""
    public = config.identity.public_host
    urls = []

    def base(section_name):
        section = _section(config, section_name)
        if section is None:
            return None
        return f"http://{host_for(section.bind_ip, public)}:{section.port}"

    identity = base("identity")
    urls.append(("identity", "keystone", f"{identity}/v3"))
    compute = base("compute")
    if compute:
        urls.append(("compute", "nova", f"{compute}/v2.1"))
    network = base("network")
    if network:
        urls.append(("network", "neutron", network))
    if project_id:
        block = base("blockserver")
        if block:
            urls.append(("block-storage", "cinder", f"{block}/v3/{project_id}"))
            urls.append(("volumev3", "cinderv3", f"{block}/v3/{project_id}"))
        proxy = base("proxy")
        if proxy:
            urls.append(("object-store", "swift", f"{proxy}/v1/AUTH_{project_id}"))
    return urls


def build_catalog(config, project_id: str | None) -> list[dict]:
    """The catalog in Keystone's token format (stable ids, every interface, one region)."""
    region = config.identity.region
    catalog = []
    for service_type, name, url in service_urls(config, project_id):
        service_id = uuid.uuid5(_NAMESPACE, service_type).hex
        endpoints = [{"id": uuid.uuid5(_NAMESPACE, f"{service_type}/{iface}").hex,
                      "interface": iface, "region": region, "region_id": region, "url": url}
                     for iface in INTERFACES]
        catalog.append({"id": service_id, "type": service_type, "name": name,
                        "endpoints": endpoints})
    return catalog


def storage_url(config, project_id: str) -> str:
    """The Swift account URL of a project (what /auth/v1.0 answers in X-Storage-Url)."""
    proxy = config.proxy
    return (f"http://{host_for(proxy.bind_ip, config.identity.public_host)}:{proxy.port}"
            f"/v1/AUTH_{project_id}")
