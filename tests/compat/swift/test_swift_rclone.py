"""rclone's Swift backend (the real binary, v1 auth) against the proxy's Swift API.

Each case checks what comes back, both through rclone (sizes, modification times that rclone
keeps in X-Object-Meta-Mtime, MD5s, bytes, its own transfer counts from `--use-json-log`) and
through python-swiftclient (what the server actually stored: names, segments, manifests).
rclone runs with one attempt and one low-level try, so a server error cannot hide behind a retry.
"""
import hashlib
import json
import os
import shutil
import subprocess
import time
import uuid
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from swiftclient.exceptions import ClientException

RCLONE = shutil.which("rclone")
if RCLONE is None:
    pytest.skip("rclone is not installed (apt-get install rclone)", allow_module_level=True)

pytestmark = [pytest.mark.compat, pytest.mark.timeout(120)]
MiB = 1024 * 1024
BASE_NS = 1_600_000_000_123_456_789  # a past mtime with all nine digits: "now" cannot pass for it

PLAIN = {"top.txt": b"hello\n", "empty": b"", "a/one.bin": b"\x00\x01" * 500,
         "a/b/deep.txt": b"nested\n", "a/b/c/deeper.bin": bytes(range(256)) * 300,
         "z/last.txt": b"z" * 17}
# Quoting: everything a URL or a listing could mangle, and a newline (the storage node's router
# once refused it: tests/integration/proxy/test_proxy_name_chars.py).
ODD = {"dir with space/a b.txt": b"1", "ü日本/名前 ñ.txt": b"22", "pct%41/100%.txt": b"333",
       "pct%41/%2F%25.txt": b"3333", "plus/a+b.txt": b"4", "q/what?x=1&y=2.txt": b"55",
       "h/#frag#.txt": b"666", "semi;colon='quote'.txt": b"7", "nl\nname.txt": b"88"}


@pytest.fixture(scope="module")
def rclone(aio, tmp_path_factory):
    """run(*args, check=True, text=True, stdin=None) -> CompletedProcess; remote "sw:"."""
    home = tmp_path_factory.mktemp("rclone-swift")
    config = home / "rclone.conf"
    swift = aio["swift"]
    config.write_text(f"[sw]\ntype = swift\nauth = {swift['auth_url']}\n"
                      f"user = {swift['user']}\nkey = {swift['key']}\n")
    # ~ stays untouched, and no OS_* variable from the caller's shell reaches rclone.
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home)}

    def run(*args, check=True, text=True, stdin=None):
        cmd = [RCLONE, "--config", str(config), "--cache-dir", str(home / "cache"),
               "--retries", "1", "--low-level-retries", "1", *args]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=text, input=stdin,
                              timeout=90)
        if check and proc.returncode != 0:
            raise AssertionError(f"rclone {' '.join(args)}: {proc.returncode}\n{proc.stderr}")
        return proc
    return run


@pytest.fixture
def remote(conn):
    """A container name for rclone to make; it and its _segments (and _copy, _moved: other
    containers a test may fill) are emptied and removed afterwards."""
    name = f"rclone-{uuid.uuid4().hex[:10]}"
    yield name
    for c in (name, f"{name}_segments", f"{name}_copy", f"{name}_moved"):
        try:
            for row in conn.get_container(c, full_listing=True)[1]:
                conn.delete_object(c, row["name"])
            conn.delete_container(c)
        except ClientException as exc:
            if exc.http_status != 404:
                raise


def _write_tree(root, files: dict) -> dict:
    """Writes files under root with distinct past mtimes; returns {name: mtime_ns}."""
    mtimes = {}
    for i, (name, data) in enumerate(sorted(files.items())):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        mtimes[name] = BASE_NS + i * 1_000_000_011
        os.utime(path, ns=(mtimes[name], mtimes[name]))
    return mtimes


def _display(name: str) -> str:
    """rclone shows control characters in names as their Unicode control pictures."""
    return "".join(chr(0x2400 + ord(ch)) if ord(ch) < 0x20 else ch for ch in name)


def _iso(ns: int) -> str:
    """rclone's lsjson ModTime for an mtime in nanoseconds (UTC, nine digits)."""
    secs, frac = divmod(ns, 1_000_000_000)
    stamp = datetime.fromtimestamp(secs, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{frac:09d}Z"


def _stats(proc) -> dict:
    """The last stats block of a `--use-json-log -v` run."""
    lines = [json.loads(line) for line in proc.stderr.splitlines() if line.startswith("{")]
    return [line["stats"] for line in lines if "stats" in line][-1]


def _lsjson(rclone, path, *flags) -> dict:
    return {e["Path"]: e for e in json.loads(rclone("lsjson", *flags, path).stdout)}


def _names(conn, container) -> dict:
    """The server's own listing: {name: (bytes, hash)}."""
    rows = conn.get_container(container, full_listing=True)[1]
    return {r["name"]: (r["bytes"], r["hash"]) for r in rows}


@pytest.mark.parametrize("files,flags", [
    (PLAIN, []),
    (PLAIN, ["--swift-no-chunk"]),
    (ODD, []),
], ids=["plain", "no-chunk", "odd-names"])
def test_basic_flow(rclone, conn, remote, tmp_path, files, flags):
    mtimes = _write_tree(tmp_path, files)
    rclone("mkdir", f"sw:{remote}", *flags)
    conn.head_container(remote)
    stats = _stats(rclone("copy", str(tmp_path), f"sw:{remote}", "-v", "--use-json-log", *flags))
    assert stats["transfers"] == len(files) and stats["errors"] == 0
    # what the server stored: the exact names, sizes and MD5s
    assert _names(conn, remote) == {n: (len(d), hashlib.md5(d).hexdigest())
                                    for n, d in files.items()}
    some = sorted(files)[0]
    stored = conn.head_object(remote, some)["x-object-meta-mtime"]
    assert Decimal(stored) == Decimal(mtimes[some]) / 10**9
    # what rclone reads back: sizes, mtimes, MD5s
    listed = _lsjson(rclone, f"sw:{remote}", "-R", "--files-only", "--hash")
    assert {p: (e["Size"], e["ModTime"], e["Hashes"]["md5"]) for p, e in listed.items()} == {
        _display(n): (len(d), _iso(mtimes[n]), hashlib.md5(d).hexdigest())
        for n, d in files.items()}
    check = rclone("check", str(tmp_path), f"sw:{remote}", *flags)
    assert "0 differences found" in check.stderr
    assert f"{len(files)} matching files" in check.stderr
    for name, data in files.items():  # (rclone's own path filter wants the display form)
        assert rclone("cat", f"sw:{remote}/{_display(name)}", text=False).stdout == data
    # a second sync finds everything in place
    stats = _stats(rclone("sync", str(tmp_path), f"sw:{remote}", "-v", "--use-json-log", *flags))
    assert (stats["transfers"], stats["checks"], stats["deletes"]) == (0, len(files), 0)
    # a server-side copy of every name (COPY with the name in Destination) into another
    # container, then a server-side move of every name back under copy/
    copy = rclone("copy", f"sw:{remote}", f"sw:{remote}_copy", "-v", *flags)
    assert copy.stderr.count("server-side copy") == len(files)
    rclone("move", f"sw:{remote}_copy", f"sw:{remote}/copy", *flags)
    assert _names(conn, remote) == {
        **{n: (len(d), hashlib.md5(d).hexdigest()) for n, d in files.items()},
        **{f"copy/{n}": (len(d), hashlib.md5(d).hexdigest()) for n, d in files.items()}}
    assert _names(conn, f"{remote}_copy") == {}
    check = rclone("check", str(tmp_path), f"sw:{remote}/copy", *flags)
    assert f"{len(files)} matching files" in check.stderr
    # a stream of unknown length (over rclone's 100 KiB --streaming-upload-cutoff): with
    # --swift-no-chunk one PUT in chunked transfer encoding, else a segment and a DLO manifest
    # (listed with 0 bytes, as Swift lists manifests)
    blob, name = b"".join(files.values()), "streamed ü ?#%.bin"
    streamed = blob * (200_000 // len(blob) + 1)
    rclone("rcat", f"sw:{remote}/{name}", *flags, stdin=streamed, text=False)
    if "--swift-no-chunk" in flags:
        assert _names(conn, remote)[name] == (len(streamed), hashlib.md5(streamed).hexdigest())
    else:
        assert _names(conn, remote)[name][0] == 0
        head = conn.head_object(remote, name)
        assert "x-object-manifest" in head and int(head["content-length"]) == len(streamed)
    assert rclone("cat", f"sw:{remote}/{name}", text=False).stdout == streamed
    rclone("delete", f"sw:{remote}")
    assert _names(conn, remote) == {}
    rclone("rmdir", f"sw:{remote}")
    with pytest.raises(ClientException) as err:
        conn.head_container(remote)
    assert err.value.http_status == 404


def test_check_finds_a_changed_byte(rclone, remote, tmp_path):
    """check compares MD5s: a same-size change is a difference."""
    _write_tree(tmp_path, PLAIN)
    rclone("copy", str(tmp_path), f"sw:{remote}")
    data = bytearray(PLAIN["a/b/c/deeper.bin"])
    data[1000] ^= 0xFF
    (tmp_path / "a/b/c/deeper.bin").write_bytes(bytes(data))
    check = rclone("check", str(tmp_path), f"sw:{remote}", check=False)
    assert check.returncode != 0
    assert "1 differences found" in check.stderr and "a/b/c/deeper.bin" in check.stderr


def test_listings_with_delimiter(rclone, conn, remote, tmp_path):
    _write_tree(tmp_path, PLAIN)
    rclone("copy", str(tmp_path), f"sw:{remote}")
    assert rclone("lsf", f"sw:{remote}").stdout.splitlines() == [
        "a/", "empty", "top.txt", "z/"]
    assert rclone("lsf", f"sw:{remote}/a/b").stdout.splitlines() == ["c/", "deep.txt"]
    lsd = [line.split()[-1] for line in rclone("lsd", f"sw:{remote}").stdout.splitlines()]
    assert lsd == ["a", "z"]
    assert sorted(rclone("lsf", "-R", "--dirs-only", f"sw:{remote}").stdout.splitlines()) == [
        "a/", "a/b/", "a/b/c/", "z/"]
    # the account level: the container with its object count and bytes, once the account
    # has been told (container -> account updates are asynchronous, as in Swift)
    want = (len(PLAIN), sum(map(len, PLAIN.values())))
    deadline = time.monotonic() + 20
    while True:
        rows = {line.split()[-1]: line.split() for line in rclone("lsd", "sw:").stdout.splitlines()}
        got = (int(rows[remote][3]), int(rows[remote][0])) if remote in rows else None
        if got == want or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert got == want
    _, rows = conn.get_container(remote, delimiter="/")
    assert [r.get("subdir") or r["name"] for r in rows] == ["a/", "empty", "top.txt", "z/"]


def test_about(rclone, conn, remote, tmp_path):
    _write_tree(tmp_path, PLAIN)
    rclone("copy", str(tmp_path), f"sw:{remote}")
    about = json.loads(rclone("about", "--json", f"sw:{remote}").stdout)
    assert about == {"used": sum(map(len, PLAIN.values())), "objects": len(PLAIN)}
    # the whole account: the sum over the account listing, as the server reports it (polled:
    # containers tell the account their totals asynchronously, as in Swift)
    deadline = time.monotonic() + 20
    while True:
        _, containers = conn.get_account(full_listing=True)
        want = {"used": sum(c["bytes"] for c in containers),
                "objects": sum(c["count"] for c in containers)}
        mine = [c["count"] for c in containers if c["name"] == remote]
        about = json.loads(rclone("about", "--json", "sw:").stdout)
        if (about == want and mine == [len(PLAIN)]) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert mine == [len(PLAIN)]
    assert about == want


def test_segmented_upload_copy_and_delete(rclone, conn, remote, tmp_path):
    data = os.urandom(12 * MiB)
    (tmp_path / "big.bin").write_bytes(data)
    rclone("mkdir", f"sw:{remote}")
    rclone("copyto", str(tmp_path / "big.bin"), f"sw:{remote}/big.bin", "--swift-chunk-size", "5M")
    # rclone 1.60 writes a DLO: segments in <container>_segments, a manifest naming their prefix
    manifest = conn.head_object(remote, "big.bin")
    prefix = manifest["x-object-manifest"]
    assert prefix.startswith(f"{remote}_segments/big.bin/")
    assert int(manifest["content-length"]) == len(data)
    segments = _names(conn, f"{remote}_segments")
    assert sorted(size for size, _ in segments.values()) == [2 * MiB, 5 * MiB, 5 * MiB]
    assert rclone("cat", f"sw:{remote}/big.bin", text=False).stdout == data
    assert _lsjson(rclone, f"sw:{remote}")["big.bin"]["Size"] == len(data)
    # rclone has no MD5 for a large object; --download compares the bytes themselves
    check = rclone("check", "--download", str(tmp_path), f"sw:{remote}")
    assert "0 differences found" in check.stderr and "1 matching files" in check.stderr
    part = rclone("cat", "--offset", str(5 * MiB - 10), "--count", "20", f"sw:{remote}/big.bin",
                  text=False).stdout
    assert part == data[5 * MiB - 10:5 * MiB + 10]
    # server-side copy of a large object: rclone copies the segments and writes a new manifest
    out = rclone("copyto", f"sw:{remote}/big.bin", f"sw:{remote}/big2.bin", "-v",
                 "--swift-chunk-size", "5M")
    assert "server-side copy" in out.stderr
    assert conn.head_object(remote, "big2.bin")["x-object-manifest"].startswith(
        f"{remote}_segments/big2.bin/")
    assert rclone("cat", f"sw:{remote}/big2.bin", text=False).stdout == data
    # deleting a manifest takes its segments along, and only its own
    rclone("deletefile", f"sw:{remote}/big.bin")
    left = _names(conn, f"{remote}_segments")
    assert len(left) == 3 and all(n.startswith("big2.bin/") for n in left)
    # overwriting a large object with a small one drops the old segments too
    (tmp_path / "small").write_bytes(b"small")
    rclone("copyto", str(tmp_path / "small"), f"sw:{remote}/big2.bin")
    assert _names(conn, f"{remote}_segments") == {}
    assert rclone("cat", f"sw:{remote}/big2.bin").stdout == "small"


def test_streamed_upload_with_and_without_chunking(rclone, conn, remote):
    data = os.urandom(6 * MiB + 123)
    rclone("mkdir", f"sw:{remote}")
    # --swift-no-chunk: one object, sent with chunked transfer encoding
    rclone("rcat", f"sw:{remote}/one", "--swift-no-chunk", "--swift-chunk-size", "5M",
           stdin=data, text=False)
    assert _names(conn, remote)["one"] == (len(data), hashlib.md5(data).hexdigest())
    # without it a stream longer than a chunk becomes segments and a manifest
    rclone("rcat", f"sw:{remote}/split", "--swift-chunk-size", "5M", stdin=data, text=False)
    assert "x-object-manifest" in conn.head_object(remote, "split")
    assert len(_names(conn, f"{remote}_segments")) == 2
    for name in ("one", "split"):
        assert rclone("cat", f"sw:{remote}/{name}", text=False).stdout == data


def test_server_side_copy_and_move(rclone, conn, remote, tmp_path):
    mtimes = _write_tree(tmp_path, PLAIN)
    rclone("copy", str(tmp_path), f"sw:{remote}")
    out = rclone("copyto", f"sw:{remote}/a/b/deep.txt", f"sw:{remote}/copied/deep.txt", "-v")
    assert "server-side copy" in out.stderr
    got = _lsjson(rclone, f"sw:{remote}/copied", "--hash")["deep.txt"]
    assert (got["Size"], got["ModTime"], got["Hashes"]["md5"]) == (
        7, _iso(mtimes["a/b/deep.txt"]), hashlib.md5(b"nested\n").hexdigest())
    out = rclone("moveto", f"sw:{remote}/copied/deep.txt", f"sw:{remote}/moved.txt", "-v")
    assert "server-side copy" in out.stderr
    names = _names(conn, remote)
    assert "copied/deep.txt" not in names and names["moved.txt"][0] == 7
    assert rclone("cat", f"sw:{remote}/moved.txt").stdout == "nested\n"
    # an expiring object's copy expires with it (Swift's copy carries X-Delete-At)
    rclone("copyto", str(tmp_path / "top.txt"), f"sw:{remote}/expiring",
           "--header-upload", "X-Delete-After: 3600")
    delete_at = conn.head_object(remote, "expiring")["x-delete-at"]
    rclone("copyto", f"sw:{remote}/expiring", f"sw:{remote}/expiring-copy")
    assert conn.head_object(remote, "expiring-copy")["x-delete-at"] == delete_at
    # move of a whole "directory" to another container
    rclone("move", f"sw:{remote}/a", f"sw:{remote}_moved/x")
    assert not any(n.startswith("a/") for n in _names(conn, remote))
    assert sorted(_names(conn, f"{remote}_moved")) == [
        "x/b/c/deeper.bin", "x/b/deep.txt", "x/one.bin"]


def test_sync_changes_and_touch(rclone, conn, remote, tmp_path):
    _write_tree(tmp_path, PLAIN)
    stats = _stats(rclone("sync", str(tmp_path), f"sw:{remote}", "-v", "--use-json-log"))
    assert stats["transfers"] == len(PLAIN)
    (tmp_path / "top.txt").write_bytes(b"changed!\n")
    (tmp_path / "z/last.txt").unlink()
    stats = _stats(rclone("sync", str(tmp_path), f"sw:{remote}", "-v", "--use-json-log"))
    assert (stats["transfers"], stats["deletes"]) == (1, 1)
    assert rclone("cat", f"sw:{remote}/top.txt").stdout == "changed!\n"
    assert "z/last.txt" not in _names(conn, remote)
    # a new mtime alone is set with a POST of the metadata, not uploaded again
    new_ns = BASE_NS + 86_400 * 10**9
    os.utime(tmp_path / "a/one.bin", ns=(new_ns, new_ns))
    out = rclone("sync", str(tmp_path), f"sw:{remote}", "-v", "--use-json-log")
    assert _stats(out)["transfers"] == 0 and "Updated modification time" in out.stderr
    assert _lsjson(rclone, f"sw:{remote}/a")["one.bin"]["ModTime"] == _iso(new_ns)
    # touch: rclone POSTs the new mtime; bytes and content type stay
    before = conn.head_object(remote, "top.txt")
    rclone("touch", "-t", "2021-02-03T04:05:06", f"sw:{remote}/top.txt")
    after = conn.head_object(remote, "top.txt")
    assert Decimal(after["x-object-meta-mtime"]) == 1612325106
    assert (after["etag"], after["content-type"]) == (before["etag"], before["content-type"])
    assert _lsjson(rclone, f"sw:{remote}")["top.txt"]["ModTime"] == "2021-02-03T04:05:06.000000000Z"
    rclone("touch", f"sw:{remote}/new-empty")
    assert _names(conn, remote)["new-empty"][0] == 0


def test_rmdir_purge(rclone, conn, remote, tmp_path):
    _write_tree(tmp_path, PLAIN)
    rclone("copy", str(tmp_path), f"sw:{remote}")
    # a container with objects is not removed (Swift answers 409)
    refused = rclone("rmdir", f"sw:{remote}", check=False)
    assert refused.returncode != 0 and "Container Not Empty" in refused.stderr
    rclone("delete", f"sw:{remote}", "--include", "a/**")
    assert sorted(_names(conn, remote)) == ["empty", "top.txt", "z/last.txt"]
    rclone("purge", f"sw:{remote}")
    assert remote not in rclone("lsf", "sw:").stdout.splitlines()
    with pytest.raises(ClientException) as err:
        conn.head_container(remote)
    assert err.value.http_status == 404
