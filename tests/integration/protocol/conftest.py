"""Raw HTTP/1.1 bytes on loopback: the proxy's protocol layer (proxy/httpserver.py).

`echo` serves a tiny app through SwiftAppRunner in a thread (port 0), once with aiohttp's native
llhttp parser and once with its pure-Python parser. `swift`/`s3` talk to the session all-in-one's
proxy (tests/conftest.py `aio`) with exactly the bytes a test writes.
"""
import asyncio
import threading
import uuid

import pytest
import requests
from aiohttp import web


def send_raw(port: int, data: bytes, timeout: float = 5.0, pause_after: int | None = None) -> bytes:
    """Send data on a new connection (all in one send unless pause_after splits it) and read until
    the server closes or `timeout` passes without a byte."""
    import socket
    import time
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        if pause_after is None:
            sock.sendall(data)
        else:
            sock.sendall(data[:pause_after])
            time.sleep(0.05)
            sock.sendall(data[pause_after:])
        out = b""
        try:
            while chunk := sock.recv(65536):
                out += chunk
        except TimeoutError:
            pass
    return out


class Answer:
    def __init__(self, status: int, headers: dict, body: bytes):
        self.status, self.headers, self.body = status, headers, body

    def __repr__(self):
        return f"Answer({self.status}, {self.body[:80]!r})"


def parse_answers(raw: bytes) -> list[Answer]:
    """The responses in a byte stream (each framed by Content-Length, as the proxy frames them)."""
    out = []
    while raw:
        head, sep, rest = raw.partition(b"\r\n\r\n")
        assert sep, raw
        lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        out.append(Answer(int(lines[0].split()[1]), headers, rest[:length]))
        raw = rest[length:]
    return out


# Fixtures, not imports: tests here cannot import from conftest under --import-mode=importlib.
@pytest.fixture(scope="session")
def exchange():
    """exchange(port, data, ...) -> the raw bytes answered."""
    return send_raw


@pytest.fixture(scope="session")
def answers():
    """answers(bytes) -> [Answer]."""
    return parse_answers


async def _echo(request: web.Request) -> web.Response:
    body = await request.read()
    return web.json_response({"method": request.method, "raw_path": request.raw_path,
                              "body": body.decode("latin-1"), "keep_alive": request.keep_alive,
                              "headers": [[k, v] for k, v in request.headers.items()]})


class EchoServer:
    """The echo app behind SwiftAppRunner, on its own event loop in a thread."""

    def __init__(self, pure_parser: bool):
        from proxy.httpserver import SwiftAppRunner
        self.loop = asyncio.new_event_loop()
        app = web.Application(handler_args={"max_line_size": 16384, "max_field_size": 16384,
                                            "auto_decompress": False})
        app.router.add_route("*", r"/{tail:[\s\S]*}", _echo)
        self.runner = SwiftAppRunner(app, pure_parser=pure_parser, access_log=None)
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.port = self._call(self._start())

    def _call(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    async def _start(self) -> int:
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        return site._server.sockets[0].getsockname()[1]

    def handlers(self):
        async def get():
            return list(self.runner._server.connections)
        return self._call(get())

    def close(self):
        self._call(self.runner.cleanup())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module", params=["native", "pure"])
def echo(request):
    server = EchoServer(pure_parser=request.param == "pure")
    server.parser = request.param
    try:
        yield server
    finally:
        server.close()


class SwiftRaw:
    """The test account of the all-in-one, for raw requests: port, token, a fresh container."""

    def __init__(self, aio):
        info = aio["swift"]
        resp = requests.get(info["auth_url"], headers={"X-Auth-User": info["user"],
                                                       "X-Auth-Key": info["key"]}, timeout=30)
        resp.raise_for_status()
        self.storage_url = resp.headers["X-Storage-Url"]
        self.token = resp.headers["X-Auth-Token"]
        self.port = int(self.storage_url.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])
        self.path = "/" + self.storage_url.split("//", 1)[1].split("/", 1)[1]

    def request(self, method: str, path: bytes, extra: bytes = b"", body: bytes = b"") -> bytes:
        """A request head (method, raw target under the account, token, Host) + extra + body."""
        return (method.encode() + b" " + self.path.encode() + path + b" HTTP/1.1\r\n"
                b"Host: 127.0.0.1\r\nX-Auth-Token: " + self.token.encode() + b"\r\n"
                + extra + b"\r\n" + body)

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(method, self.storage_url + path, timeout=30,
                                headers={"X-Auth-Token": self.token, **kwargs.pop("headers", {})},
                                **kwargs)


@pytest.fixture(scope="module")
def swift(aio):
    return SwiftRaw(aio)


@pytest.fixture
def container(swift):
    name = f"proto-{uuid.uuid4().hex[:12]}"
    assert swift.api("PUT", "/" + name).status_code in (201, 202)
    yield name
    listing = swift.api("GET", "/" + name, params={"format": "json"}).json()
    for item in listing:
        swift.api("DELETE", f"/{name}/{requests.utils.quote(item['name'])}")
    swift.api("DELETE", "/" + name)
