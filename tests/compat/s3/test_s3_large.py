"""The 1 GiB `aws s3 cp` round trip (multipart up, ranged parallel GETs down) with the proxy's
resident memory sampled throughout: it must stay under 150 MiB (bodies stream, never buffer)."""
import hashlib
import os
import subprocess
import sys
import threading
import uuid

import psutil
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]
AWS = os.path.join(os.path.dirname(sys.executable), "aws")
GIB = 1024 ** 3
RSS_LIMIT = 150 * 1024 * 1024


def proxy_processes(aio):
    root = psutil.Process(aio["pid"])
    return [p for p in root.children(recursive=True)
            if "serve" in p.cmdline() and "proxy" in p.cmdline()]


def test_one_gib_roundtrip_under_150_mib(aio, tmp_path):
    procs = proxy_processes(aio)
    assert procs, "no proxy process found under the all-in-one"
    block = os.urandom(1024 * 1024)
    src = tmp_path / "big"
    digest = hashlib.sha256()
    with open(src, "wb") as f:
        for i in range(GIB // len(block)):
            chunk = block[i % 7:] + block[:i % 7]  # every MiB differs
            f.write(chunk)
            digest.update(chunk)
    (tmp_path / "credentials").write_text(
        f"[default]\naws_access_key_id = {aio['s3']['access_key']}\n"
        f"aws_secret_access_key = {aio['s3']['secret_key']}\n")
    (tmp_path / "config").write_text(f"[default]\nregion = {aio['s3']['region']}\n")
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path),
           "AWS_CONFIG_FILE": str(tmp_path / "config"),
           "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials")}
    peak = [0]
    stop = threading.Event()

    def sample():
        while not stop.wait(0.2):
            for p in procs:
                try:
                    peak[0] = max(peak[0], p.memory_info().rss)
                except psutil.Error:
                    pass
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    bucket = f"big-{uuid.uuid4().hex[:10]}"

    def aws(*args):
        subprocess.run([AWS, "--endpoint-url", aio["s3"]["endpoint"], *args], env=env,
                       check=True, capture_output=True, timeout=900)
    try:
        aws("s3", "mb", f"s3://{bucket}")
        aws("s3", "cp", str(src), f"s3://{bucket}/big")
        src.unlink()
        aws("s3", "cp", f"s3://{bucket}/big", str(tmp_path / "back"))
    finally:
        stop.set()
        sampler.join()
    back = hashlib.sha256()
    with open(tmp_path / "back", "rb") as f:
        while chunk := f.read(1 << 20):
            back.update(chunk)
    assert back.hexdigest() == digest.hexdigest()
    print(f"proxy peak RSS {peak[0] / 2**20:.1f} MiB")
    assert peak[0] < RSS_LIMIT, f"proxy RSS peaked at {peak[0] / 2**20:.1f} MiB"
    aws("s3", "rm", f"s3://{bucket}/big")
    aws("s3", "rb", f"s3://{bucket}")
