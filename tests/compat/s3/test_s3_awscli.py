"""awscli against S3 on the proxy: `aws s3 mb/cp/sync/ls/rm/rb` and `aws s3api` calls."""
import json
import os
import subprocess
import sys
import uuid

import pytest

pytestmark = pytest.mark.timeout(180)
AWS = os.path.join(os.path.dirname(sys.executable), "aws")


@pytest.fixture(scope="module")
def aws(aio, tmp_path_factory):
    home = tmp_path_factory.mktemp("awscli")
    (home / "config").write_text(f"[default]\nregion = {aio['s3']['region']}\n"
                                 "s3 =\n  multipart_threshold = 6MB\n  multipart_chunksize = 5MB\n")
    (home / "credentials").write_text(
        f"[default]\naws_access_key_id = {aio['s3']['access_key']}\n"
        f"aws_secret_access_key = {aio['s3']['secret_key']}\n")
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home),
           "AWS_CONFIG_FILE": str(home / "config"),
           "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials")}

    def run(*args, check=True):
        proc = subprocess.run([AWS, "--endpoint-url", aio["s3"]["endpoint"], *args], env=env,
                              capture_output=True, text=True, timeout=120)
        if check and proc.returncode != 0:
            raise AssertionError(f"aws {' '.join(args)}: {proc.returncode}\n{proc.stderr}")
        return proc
    return run


def test_s3_commands(aws, tmp_path):
    name = f"cli-{uuid.uuid4().hex[:12]}"
    aws("s3", "mb", f"s3://{name}")
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_bytes(b"alpha")
    (src / "sub" / "b.bin").write_bytes(os.urandom(7 * 1024 * 1024))  # multipart through cp
    aws("s3", "sync", str(src), f"s3://{name}/tree")
    listing = aws("s3", "ls", "--recursive", f"s3://{name}").stdout
    assert "tree/a.txt" in listing and "tree/sub/b.bin" in listing
    dst = tmp_path / "dst"
    aws("s3", "sync", f"s3://{name}/tree", str(dst))
    assert (dst / "sub" / "b.bin").read_bytes() == (src / "sub" / "b.bin").read_bytes()
    assert aws("s3", "sync", str(src), f"s3://{name}/tree").stdout.strip() == ""  # nothing new
    aws("s3", "cp", str(src / "a.txt"), f"s3://{name}/single")
    aws("s3", "cp", f"s3://{name}/single", str(tmp_path / "back"))
    assert (tmp_path / "back").read_bytes() == b"alpha"
    head = json.loads(aws("s3api", "head-object", "--bucket", name, "--key", "tree/sub/b.bin").stdout)
    assert head["ContentLength"] == 7 * 1024 * 1024 and head["ETag"].endswith('-2"')
    missing = aws("s3api", "head-object", "--bucket", name, "--key", "nope", check=False)
    assert missing.returncode != 0 and "404" in missing.stderr
    failed = aws("s3", "rb", f"s3://{name}", check=False)
    assert failed.returncode != 0 and "BucketNotEmpty" in failed.stderr
    aws("s3", "rm", "--recursive", f"s3://{name}")
    assert aws("s3", "ls", f"s3://{name}").stdout.strip() == ""
    aws("s3", "rb", f"s3://{name}")
