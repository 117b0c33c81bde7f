"""Calls compute makes to the network and volume services, with the caller's own token.

The URLs are the ones identity's catalog advertises (identity.catalog.service_urls), so compute
reaches the same endpoints the clients do. A failed call raises UpstreamError (status, message);
compute/manager.py decides what Nova would answer for it. An unreachable service is NovaError 503.
"""
from __future__ import annotations

import json
import logging

import aiohttp

from compute import errors

log = logging.getLogger("compute")

VOLUME_VERSION = "volume 3.44"  # attachments (3.27) with os-complete (3.44)
TIMEOUT = aiohttp.ClientTimeout(total=60)
DEVICE_OWNER = "compute:nova"


class UpstreamError(Exception):
    def __init__(self, service: str, status: int, message: str):
        super().__init__(f"{service} answered {status}: {message}")
        self.service, self.status, self.message = service, status, message


def _message(body) -> str:
    # Neutron: {"NeutronError": {"message"}}; Cinder: {"itemNotFound": {"message"}}.
    if isinstance(body, dict) and len(body) == 1:
        inner = next(iter(body.values()))
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return inner["message"]
    return str(body)[:200]


class Services:
    def __init__(self, config, session: aiohttp.ClientSession):
        self._config = config
        self._session = session
        # Nova binds a server's ports to its host; the network service then shows them ACTIVE.
        self._host = config.compute.host_name

    def _url(self, service_type: str, project_id: str | None) -> str:
        from identity.catalog import service_urls

        for kind, _name, url in service_urls(self._config, project_id):
            if kind == service_type:
                return url
        raise errors.unavailable(service_type, "not in the catalog")

    async def _call(self, service: str, method: str, url: str, token: str, body=None,
                    headers: dict | None = None):
        all_headers = {"X-Auth-Token": token, "Accept": "application/json", **(headers or {})}
        data = None if body is None else json.dumps(body).encode()
        if data is not None:
            all_headers["Content-Type"] = "application/json"
        try:
            async with self._session.request(method, url, data=data, headers=all_headers,
                                             timeout=TIMEOUT) as response:
                raw = await response.read()
                status = response.status
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise errors.unavailable(service, f"{method} {url}: {exc}") from None
        try:
            parsed = json.loads(raw) if raw.strip() else None
        except ValueError:
            parsed = raw.decode(errors="replace")
        if status >= 400:
            log.info("%s %s -> %d %s", method, url, status, _message(parsed))
            raise UpstreamError(service, status, _message(parsed))
        return parsed

    # -- network (Neutron v2.0) ----------------------------------------------------------------
    async def network(self, token: str, network_id: str) -> dict:
        base = self._url("network", None)
        return (await self._call("network", "GET", f"{base}/v2.0/networks/{network_id}",
                                 token))["network"]

    async def port(self, token: str, port_id: str) -> dict:
        base = self._url("network", None)
        return (await self._call("network", "GET", f"{base}/v2.0/ports/{port_id}",
                                 token))["port"]

    async def create_port(self, token: str, network_id: str, server_id: str,
                          fixed_ip: str | None) -> dict:
        base = self._url("network", None)
        port = {"network_id": network_id, "device_id": server_id, "device_owner": DEVICE_OWNER,
                "binding:host_id": self._host, "admin_state_up": True}
        if fixed_ip:
            port["fixed_ips"] = [{"ip_address": fixed_ip}]
        return (await self._call("network", "POST", f"{base}/v2.0/ports", token,
                                 {"port": port}))["port"]

    async def bind_port(self, token: str, port_id: str, server_id: str) -> dict:
        base = self._url("network", None)
        body = {"port": {"device_id": server_id,
                         "device_owner": DEVICE_OWNER if server_id else "",
                         "binding:host_id": self._host if server_id else ""}}
        return (await self._call("network", "PUT", f"{base}/v2.0/ports/{port_id}", token,
                                 body))["port"]

    async def delete_port(self, token: str, port_id: str) -> None:
        base = self._url("network", None)
        await self._call("network", "DELETE", f"{base}/v2.0/ports/{port_id}", token)

    # -- volume (Cinder v3 attachments) --------------------------------------------------------
    async def _volume_call(self, method, project_id, path, token, body=None):
        base = self._url("block-storage", project_id)
        return await self._call("volume", method, f"{base}{path}", token, body,
                                {"OpenStack-API-Version": VOLUME_VERSION})

    async def volume(self, token: str, project_id: str, volume_id: str) -> dict:
        return (await self._volume_call("GET", project_id, f"/volumes/{volume_id}",
                                        token))["volume"]

    async def create_attachment(self, token: str, project_id: str, volume_id: str,
                                server_id: str, connector: dict) -> dict:
        body = {"attachment": {"volume_uuid": volume_id, "instance_uuid": server_id,
                               "connector": connector}}
        return (await self._volume_call("POST", project_id, "/attachments", token,
                                        body))["attachment"]

    async def complete_attachment(self, token: str, project_id: str, attachment_id: str):
        await self._volume_call("POST", project_id, f"/attachments/{attachment_id}/action",
                                token, {"os-complete": None})

    async def delete_attachment(self, token: str, project_id: str, attachment_id: str):
        await self._volume_call("DELETE", project_id, f"/attachments/{attachment_id}", token)

    async def delete_volume(self, token: str, project_id: str, volume_id: str):
        await self._volume_call("DELETE", project_id, f"/volumes/{volume_id}", token)
