"""rclone's S3 backend (the real binary, provider Other, path-style) against S3 on the proxy.

What rclone reads back is checked: sizes and modification times (rclone keeps them in
X-Amz-Meta-Mtime), MD5s (`rclone check`, X-Amz-Meta-Md5chksum for multipart uploads), bytes, and
its own transfer counts (`--use-json-log` stats) for the sync that must find nothing to do.
"""
import hashlib
import json
import os
import shutil
import subprocess
import urllib.error
import urllib.request
import uuid

import pytest

RCLONE = shutil.which("rclone")
if RCLONE is None:
    pytest.skip("rclone is not installed (apt-get install rclone)", allow_module_level=True)

pytestmark = pytest.mark.timeout(120)
MiB = 1024 * 1024
MTIME = 1_600_000_000.25  # a past time, so a preserved mtime cannot be mistaken for "now"


@pytest.fixture(scope="module")
def rclone(aio, tmp_path_factory):
    """run(*args, check=True) -> CompletedProcess of rclone with remote "st:" on the proxy."""
    home = tmp_path_factory.mktemp("rclone")
    config = home / "rclone.conf"
    s3 = aio["s3"]
    config.write_text(
        "[st]\ntype = s3\nprovider = Other\nenv_auth = false\n"
        f"access_key_id = {s3['access_key']}\nsecret_access_key = {s3['secret_key']}\n"
        f"endpoint = {s3['endpoint']}\nregion = {s3['region']}\nforce_path_style = true\n")
    # A clean environment: the AWS SDK inside rclone honours AWS_* variables (AWS_CA_BUNDLE,
    # for one, makes it fail on a plain-http endpoint), and ~ must stay untouched.
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home)}

    def run(*args, check=True, text=True):
        proc = subprocess.run([RCLONE, "--config", str(config), "--retries", "1", *args],
                              env=env, capture_output=True, text=text, timeout=90)
        if check and proc.returncode != 0:
            raise AssertionError(f"rclone {' '.join(args)}: {proc.returncode}\n{proc.stderr}")
        return proc
    return run


@pytest.fixture
def remote(rclone, s3):
    """A bucket made by `rclone mkdir`, purged afterwards: its name."""
    name = f"rc-{uuid.uuid4().hex[:12]}"
    rclone("mkdir", f"st:{name}")
    s3.head_bucket(Bucket=name)
    yield name
    rclone("purge", f"st:{name}", check=False)


def _tree(root, files: dict) -> None:
    for rel, body in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        os.utime(path, (MTIME, MTIME))


def _stats(proc) -> dict:
    """The last stats block of a `--use-json-log -v` run (rclone prints it at the end)."""
    blocks = [json.loads(line)["stats"] for line in proc.stderr.splitlines()
              if line.startswith("{") and '"stats"' in line]
    assert blocks, proc.stderr
    return blocks[-1]


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def test_rclone_copy_lsjson_check_cat(rclone, s3, remote, tmp_path):
    files = {"a.txt": b"alpha\n", "dir ü/b+c.bin": os.urandom(5000), "dir ü/deep/empty": b"",
             "semi;colon,$#@!.txt": b"odd name\n", "carriage\rreturn.txt": b"cr"}
    _tree(tmp_path / "src", files)
    rclone("copy", str(tmp_path / "src"), f"st:{remote}/tree")
    listed = json.loads(rclone("lsjson", "-R", "--files-only", "--hash",
                               f"st:{remote}/tree").stdout)
    # rclone shows a CR in a name as U+240D (its encoding of control characters)
    shown = {rel.replace("\r", "\u240d"): body for rel, body in files.items()}
    assert {item["Path"]: item["Size"] for item in listed} == \
        {rel: len(body) for rel, body in shown.items()}
    for item in listed:
        assert item["ModTime"].startswith("2020-09-13T12:26:40.25"), item  # MTIME, to the ms
        assert item["Hashes"]["md5"] == _md5(shown[item["Path"]])
    head = s3.head_object(Bucket=remote, Key="tree/a.txt")
    assert float(head["Metadata"]["mtime"]) == pytest.approx(MTIME, abs=1e-3)
    check = rclone("check", str(tmp_path / "src"), f"st:{remote}/tree")
    assert "0 differences found" in check.stderr and f"{len(files)} matching files" in check.stderr
    cat = rclone("cat", f"st:{remote}/tree/dir ü/b+c.bin", text=False)
    assert cat.stdout == files["dir ü/b+c.bin"]

def test_rclone_multipart_server_copy_move(rclone, s3, remote, tmp_path):
    data = os.urandom(12 * MiB)
    src = tmp_path / "big.bin"
    src.write_bytes(data)
    os.utime(src, (MTIME, MTIME))
    rclone("copyto", "--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M", str(src),
           f"st:{remote}/big.bin")
    head = s3.head_object(Bucket=remote, Key="big.bin")
    assert head["ETag"].endswith('-3"') and head["ContentLength"] == 12 * MiB
    assert head["Metadata"]["md5chksum"]  # rclone's own MD5 for a multipart object
    rclone("check", "--include", "big.bin", str(tmp_path), f"st:{remote}")
    copied = rclone("copyto", "-v", f"st:{remote}/big.bin", f"st:{remote}/copy.bin")
    assert "server-side copy" in copied.stderr
    body = s3.get_object(Bucket=remote, Key="copy.bin")["Body"].read()
    assert _md5(body) == _md5(data)
    (listed,) = json.loads(rclone("lsjson", "--hash", f"st:{remote}/copy.bin").stdout)
    assert listed["Hashes"]["md5"] == _md5(data) and listed["Size"] == 12 * MiB
    assert listed["ModTime"].startswith("2020-09-13T12:26:40.25")
    # above --s3-copy-cutoff rclone copies server-side in ranged parts (UploadPartCopy)
    rclone("copyto", "--s3-copy-cutoff", "5M", f"st:{remote}/big.bin", f"st:{remote}/parts.bin")
    parts = s3.get_object(Bucket=remote, Key="parts.bin")
    assert parts["ETag"].endswith('-3"') and _md5(parts["Body"].read()) == _md5(data)
    (listed,) = json.loads(rclone("lsjson", "--hash", f"st:{remote}/parts.bin").stdout)
    assert listed["Hashes"]["md5"] == _md5(data)  # its X-Amz-Meta-Md5chksum came along
    s3.delete_object(Bucket=remote, Key="parts.bin")
    moved = rclone("moveto", "-v", f"st:{remote}/copy.bin", f"st:{remote}/moved/copy.bin")
    assert "server-side copy" in moved.stderr
    names = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=remote)["Contents"])
    assert names == ["big.bin", "moved/copy.bin"]
    got = tmp_path / "got.bin"
    rclone("copyto", f"st:{remote}/moved/copy.bin", str(got))
    assert _md5(got.read_bytes()) == _md5(data)


def test_rclone_sync_twice(rclone, s3, remote, tmp_path):
    files = {"one.txt": b"one\n", "sub/two.txt": b"two\n", "sub/three.bin": os.urandom(2000)}
    src = tmp_path / "src"
    _tree(src, files)
    target = f"st:{remote}/sync"
    first = _stats(rclone("sync", "--use-json-log", "-v", str(src), target))
    assert first["transfers"] == len(files) and first["errors"] == 0
    second = _stats(rclone("sync", "--use-json-log", "-v", str(src), target))
    assert second["transfers"] == 0 and second["checks"] == len(files)
    (src / "one.txt").write_bytes(b"ONE\n")  # same size, new mtime: rclone sees the change
    (src / "sub" / "three.bin").unlink()
    third = _stats(rclone("sync", "--use-json-log", "-v", str(src), target))
    assert third["transfers"] == 1 and third["deletes"] == 1
    keys = {o["Key"]: o for o in s3.list_objects_v2(Bucket=remote, Prefix="sync/")["Contents"]}
    assert sorted(keys) == ["sync/one.txt", "sync/sub/two.txt"]
    assert s3.get_object(Bucket=remote, Key="sync/one.txt")["Body"].read() == b"ONE\n"
    rclone("check", str(src), target)


def test_rclone_link_delete_purge_rmdir(rclone, s3, remote, tmp_path):
    _tree(tmp_path / "src", {"keep/x.txt": b"linked bytes", "keep/y.txt": b"y", "z.txt": b"z"})
    rclone("copy", str(tmp_path / "src"), f"st:{remote}")
    url = rclone("link", "--expire", "1h", f"st:{remote}/keep/x.txt").stdout.strip()
    assert "X-Amz-Signature=" in url
    with urllib.request.urlopen(url, timeout=10) as resp:
        assert resp.read() == b"linked bytes"
    with pytest.raises(urllib.error.HTTPError) as err:  # the same URL, signature removed
        urllib.request.urlopen(url.split("?")[0], timeout=10)
    assert err.value.code == 403
    rclone("delete", "--include", "y.txt", f"st:{remote}")
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=remote)["Contents"])
    assert keys == ["keep/x.txt", "z.txt"]
    rclone("purge", f"st:{remote}/keep")
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=remote)["Contents"])
    assert keys == ["z.txt"]
    busy = rclone("rmdir", f"st:{remote}", check=False)
    assert busy.returncode != 0 and "BucketNotEmpty" in busy.stderr
    rclone("deletefile", f"st:{remote}/z.txt")
    rclone("rmdir", f"st:{remote}")
    with pytest.raises(s3.exceptions.ClientError) as gone:
        s3.head_bucket(Bucket=remote)
    assert gone.value.response["Error"]["Code"] == "404"


def test_rclone_v2_auth(rclone, s3, remote, tmp_path):
    """--s3-v2-auth: rclone signs with AWS Signature Version 2 (some old gateways need it)."""
    files = {"v2 ü.txt": b"signed the old way", "sub/big.bin": os.urandom(6 * MiB)}
    _tree(tmp_path / "src", files)
    rclone("copy", "--s3-v2-auth", "--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M",
           str(tmp_path / "src"), f"st:{remote}")
    assert s3.head_object(Bucket=remote, Key="sub/big.bin")["ETag"].endswith('-2"')
    check = rclone("check", "--s3-v2-auth", str(tmp_path / "src"), f"st:{remote}")
    assert "2 matching files" in check.stderr
    assert rclone("cat", "--s3-v2-auth", f"st:{remote}/v2 ü.txt", text=False).stdout == \
        files["v2 ü.txt"]
