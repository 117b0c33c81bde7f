"""Acceptance with python-swiftclient: the library and the `swift` command line."""
import hashlib
import os
import threading
import time

import psutil
import pytest
import swiftclient
from swiftclient.exceptions import ClientException

pytestmark = [pytest.mark.compat, pytest.mark.timeout(300)]


def test_library_round_trip(conn, container):
    etag = conn.put_object(container, "dir/obj.txt", b"hello swift", content_type="text/plain",
                           headers={"X-Object-Meta-Color": "red"})
    assert etag == hashlib.md5(b"hello swift").hexdigest()
    headers, body = conn.get_object(container, "dir/obj.txt")
    assert body == b"hello swift" and headers["x-object-meta-color"] == "red"
    conn.post_object(container, "dir/obj.txt", headers={"X-Object-Meta-Color": "blue"})
    assert conn.head_object(container, "dir/obj.txt")["x-object-meta-color"] == "blue"
    conn.copy_object(container, "dir/obj.txt", f"/{container}/copy.txt")
    assert conn.get_object(container, "copy.txt")[1] == b"hello swift"
    _, listing = conn.get_container(container, delimiter="/")
    assert [row.get("name") or row.get("subdir") for row in listing] == ["copy.txt", "dir/"]
    headers, body = conn.get_object(container, "dir/obj.txt", headers={"Range": "bytes=6-10"})
    assert body == b"swift"
    account_headers, containers = conn.get_account(prefix=container)
    assert [c["name"] for c in containers] == [container]
    assert int(account_headers["x-account-container-count"]) >= 1
    conn.delete_object(container, "dir/obj.txt")
    conn.delete_object(container, "copy.txt")
    conn.delete_container(container)
    with pytest.raises(ClientException) as err:
        conn.head_container(container)
    assert err.value.http_status == 404


def test_library_errors(swift_info, conn, container):
    with pytest.raises(ClientException) as err:
        conn.put_object(container, "x" * 1025, b"x")
    assert err.value.http_status == 400
    with pytest.raises(ClientException) as err:
        conn.put_object("no-such-container-here", "o", b"x")
    assert err.value.http_status == 404
    with pytest.raises(ClientException) as err:
        conn.get_object(container, "missing")
    assert err.value.http_status == 404
    url = conn.get_auth()[0]
    with pytest.raises(ClientException) as err:
        swiftclient.client.head_account(url, "AUTH_tkforged")
    assert err.value.http_status == 401
    with pytest.raises(ClientException) as err:
        swiftclient.client.get_auth(swift_info["auth_url"], swift_info["user"], "wrong-key")
    assert err.value.http_status == 401


def test_cli_upload_download_list_stat_post_copy_delete(swift_cli, tmp_path, container):
    (tmp_path / "a.txt").write_bytes(b"alpha\n" * 100)
    swift_cli("upload", container, "a.txt")
    assert swift_cli("list", container).stdout.split() == ["a.txt"]
    stat = swift_cli("stat", container, "a.txt").stdout
    assert "Content Length: 600" in stat
    swift_cli("post", "-m", "shade:green", container, "a.txt")
    assert "Meta Shade: green" in swift_cli("stat", container, "a.txt").stdout
    swift_cli("copy", "-d", f"/{container}/b.txt", container, "a.txt")
    swift_cli("download", container, "b.txt", "-o", "b.out")
    assert (tmp_path / "b.out").read_bytes() == b"alpha\n" * 100
    swift_cli("delete", container, "a.txt")
    assert swift_cli("list", container).stdout.split() == ["b.txt"]
    missing = swift_cli("stat", container, "a.txt", check=False)
    assert missing.returncode != 0 and "404" in missing.stderr
    assert "Containers:" in swift_cli("stat").stdout


@pytest.mark.parametrize("mode", ["--use-slo", "--use-dlo"])
def test_cli_segmented_upload(swift_cli, tmp_path, container, mode):
    data = os.urandom(3 * 1024 * 1024 + 123)
    (tmp_path / "big.bin").write_bytes(data)
    swift_cli("upload", mode, "-S", str(1024 * 1024), container, "big.bin")
    swift_cli("download", container, "big.bin", "-o", "big.out")
    assert (tmp_path / "big.out").read_bytes() == data
    stat = swift_cli("stat", container, "big.bin").stdout
    assert f"Content Length: {len(data)}" in stat
    segments = swift_cli("list", f"{container}_segments").stdout.split()
    assert len(segments) == 4
    swift_cli("delete", container, "big.bin")
    assert swift_cli("list", f"{container}_segments").stdout.split() == []


def _service_processes(aio):
    supervisor = psutil.Process(aio["pid"])
    out = {}
    for child in supervisor.children(recursive=True):
        try:
            cmd = child.cmdline()
        except psutil.Error:
            continue
        if "serve" in cmd and ("proxy" in cmd or "storage" in cmd):
            out[child.pid] = child
    return out


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_cli_one_gib_segmented_upload(swift_cli, tmp_path, container):
    path = tmp_path / "gib.bin"
    chunk = os.urandom(1024 * 1024)
    digest = hashlib.md5()
    with open(path, "wb") as f:
        for i in range(1024):
            block = chunk[:-8] + i.to_bytes(8, "big")
            f.write(block)
            digest.update(block)
    swift_cli("upload", "-S", str(100 * 1024 * 1024), container, "gib.bin", timeout=1800)
    path.unlink()
    swift_cli("download", container, "gib.bin", "-o", "gib.out", timeout=1800)
    got = hashlib.md5()
    with open(tmp_path / "gib.out", "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            got.update(block)
    assert got.hexdigest() == digest.hexdigest()


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_200_mib_object_streams_in_bounded_memory(aio, conn, container):
    """A 200 MiB single object up and down while proxy and storage processes stay < 150 MiB RSS."""
    procs = _service_processes(aio)
    assert procs, "no proxy/storage processes found under the all-in-one"
    peak = {pid: 0 for pid in procs}
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            for pid, proc in procs.items():
                try:
                    peak[pid] = max(peak[pid], proc.memory_info().rss)
                except psutil.Error:
                    pass
            time.sleep(0.05)

    size = 200 * 1024 * 1024
    block = os.urandom(1024 * 1024)

    class Body:  # a file-like source, so the client sends Content-Length (not chunked)
        sent = 0

        def read(self, n=-1):
            n = len(block) if n is None or n < 0 else min(n, len(block))
            n = min(n, size - self.sent)
            self.sent += n
            return block[:n]

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        conn.put_object(container, "big", contents=Body(), content_length=size)
        headers, chunks = conn.get_object(container, "big", resp_chunk_size=1 << 20)
        total = sum(len(c) for c in chunks)
    finally:
        stop.set()
        sampler.join()
    assert total == size
    worst = max(peak.values())
    print("peak RSS (MiB):", {pid: round(v / 2**20, 1) for pid, v in peak.items()})
    assert worst < 150 * 1024 * 1024, peak
