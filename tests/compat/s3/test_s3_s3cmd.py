"""s3cmd (the real binary) against S3 on the proxy, signing with SigV4 and with SigV2.

Every command's effect is checked on what comes back (bytes, MD5, metadata, ACLs, listings), through
s3cmd itself, boto3 or an anonymous urllib request, not on exit codes alone. The config file lives
in tmp_path and HOME points there too, so nothing reads or writes the user's ~/.s3cfg.
"""
import hashlib
import os
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest

S3CMD = os.path.join(os.path.dirname(sys.executable), "s3cmd")
if not os.path.exists(S3CMD):
    pytest.skip(f"s3cmd is not installed ({S3CMD}; pip install s3cmd)", allow_module_level=True)

pytestmark = pytest.mark.timeout(120)
MiB = 1024 * 1024


@pytest.fixture(scope="module", params=["sigv4", "sigv2"])
def s3cmd(request, aio, tmp_path_factory):
    """run(*args, check=True) -> CompletedProcess of s3cmd with a config signing as params says."""
    home = tmp_path_factory.mktemp("s3cmd")
    host = urllib.parse.urlsplit(aio["s3"]["endpoint"]).netloc
    config = home / "s3cfg"
    # host_bucket without %(bucket)s: path-style addressing, as against a plain endpoint.
    config.write_text(
        "[default]\n"
        f"access_key = {aio['s3']['access_key']}\n"
        f"secret_key = {aio['s3']['secret_key']}\n"
        f"host_base = {host}\nhost_bucket = {host}\n"
        f"bucket_location = {aio['s3']['region']}\n"
        "use_https = False\n"
        f"signature_v2 = {request.param == 'sigv2'}\n"
        "progress_meter = False\n"
        "multipart_copy_chunk_size_mb = 5\n")  # cp/mv of the 12 MiB object: UploadPartCopy
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "LANG": "C.UTF-8"}

    def run(*args, check=True):
        proc = subprocess.run([S3CMD, "-c", str(config), *args], env=env, capture_output=True,
                              text=True, timeout=90)
        if check and proc.returncode != 0:
            raise AssertionError(f"s3cmd {' '.join(args)}: {proc.returncode}\n{proc.stderr}")
        return proc
    return run


def _info(run, url: str) -> dict:
    """`s3cmd info` as {field: [values]} (ACL and metadata lines repeat)."""
    out = {}
    for line in run("info", url).stdout.splitlines():
        name, sep, value = line.strip().partition(":")
        if sep and not line.startswith("s3://"):
            out.setdefault(name.strip(), []).append(value.strip())
    return out


def _anonymous_get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def test_s3cmd_bucket_commands(s3cmd, s3, tmp_path):
    name = f"s3cmd-{uuid.uuid4().hex[:12]}"
    s3cmd("mb", f"s3://{name}")
    assert f"s3://{name}" in s3cmd("ls").stdout
    s3.head_bucket(Bucket=name)
    src = tmp_path / "small.txt"
    src.write_bytes(b"small object\n")
    s3cmd("put", str(src), f"s3://{name}/dir/small.txt")
    listing = s3cmd("ls", f"s3://{name}").stdout
    assert re.search(r"DIR\s+s3://%s/dir/" % name, listing)
    assert re.search(r"\s13\s+s3://%s/dir/small.txt" % name, s3cmd("la", "-r").stdout)
    full = s3cmd("rb", f"s3://{name}", check=False)
    assert full.returncode != 0 and "BucketNotEmpty" in full.stderr
    s3.head_bucket(Bucket=name)  # still there, object too
    assert s3.get_object(Bucket=name, Key="dir/small.txt")["Body"].read() == b"small object\n"
    s3cmd("del", f"s3://{name}/dir/small.txt")
    s3cmd("rb", f"s3://{name}")
    assert f"s3://{name}" not in s3cmd("ls").stdout
    with pytest.raises(s3.exceptions.ClientError) as err:
        s3.head_bucket(Bucket=name)
    assert err.value.response["Error"]["Code"] == "404"


def test_s3cmd_put_get_info(s3cmd, s3, bucket, tmp_path):
    data = os.urandom(70_000)
    src = tmp_path / "obj.bin"
    src.write_bytes(data)
    s3cmd("put", str(src), f"s3://{bucket}/obj.bin")
    s3cmd("get", "--force", f"s3://{bucket}/obj.bin", str(tmp_path / "back.bin"))
    assert (tmp_path / "back.bin").read_bytes() == data
    info = _info(s3cmd, f"s3://{bucket}/obj.bin")
    assert info["File size"] == ["70000"]
    assert info["MD5 sum"] == [_md5(data)]
    assert any(acl.endswith("FULL_CONTROL") for acl in info["ACL"]) and len(info["ACL"]) == 1
    head = s3.head_object(Bucket=bucket, Key="obj.bin")
    assert head["ETag"] == f'"{_md5(data)}"' and head["ContentLength"] == 70000
    assert "s3cmd-attrs" in head["Metadata"]  # s3cmd's own metadata round-trips


def test_s3cmd_multipart_put(s3cmd, s3, bucket, tmp_path):
    data = os.urandom(12 * MiB)
    src = tmp_path / "big.bin"
    src.write_bytes(data)
    s3cmd("put", "--multipart-chunk-size-mb=5", "--server-side-encryption", str(src),
          f"s3://{bucket}/big.bin")
    head = s3.head_object(Bucket=bucket, Key="big.bin")
    assert head["ETag"].endswith('-3"') and head["ContentLength"] == 12 * MiB  # 5 + 5 + 2 MiB
    assert head["ServerSideEncryption"] == "AES256"  # asked for at CreateMultipartUpload
    s3cmd("get", "--force", f"s3://{bucket}/big.bin", str(tmp_path / "back.bin"))
    assert _md5((tmp_path / "back.bin").read_bytes()) == _md5(data)
    info = _info(s3cmd, f"s3://{bucket}/big.bin")
    assert info["MD5 sum"] == [_md5(data)] and info["SSE"] == ["AES256"]
    s3cmd("cp", f"s3://{bucket}/big.bin", f"s3://{bucket}/copy ü.bin")  # 3 ranged part copies
    copied = s3.get_object(Bucket=bucket, Key="copy ü.bin")
    assert copied["ETag"].endswith('-3"') and _md5(copied["Body"].read()) == _md5(data)
    assert copied["Metadata"]["s3cmd-attrs"] == head["Metadata"]["s3cmd-attrs"]


def test_s3cmd_headers_and_modify(s3cmd, s3, bucket, tmp_path):
    src = tmp_path / "page.txt"
    src.write_bytes(b"with headers")
    s3cmd("put", "--mime-type=application/x-strato", "--add-header=Cache-Control:max-age=60",
          "--add-header=x-amz-meta-color:blue", str(src), f"s3://{bucket}/page.txt")
    head = s3.head_object(Bucket=bucket, Key="page.txt")
    assert head["ContentType"] == "application/x-strato"
    assert head["CacheControl"] == "max-age=60"
    assert head["Metadata"]["color"] == "blue"
    # modify: a copy onto itself with the REPLACE directive, re-sending what it keeps
    s3cmd("modify", "--add-header=x-amz-meta-color:red", f"s3://{bucket}/page.txt")
    after = s3.head_object(Bucket=bucket, Key="page.txt")
    assert after["Metadata"]["color"] == "red"
    assert after["ContentType"] == "application/x-strato"
    assert after["ETag"] == head["ETag"]
    assert s3.get_object(Bucket=bucket, Key="page.txt")["Body"].read() == b"with headers"
    assert "red" in _info(s3cmd, f"s3://{bucket}/page.txt")["x-amz-meta-color"]


def test_s3cmd_copy_move_delete(s3cmd, s3, bucket, tmp_path):
    src = tmp_path / "orig.txt"
    src.write_bytes(b"original")
    s3cmd("put", "--add-header=x-amz-meta-kept:yes", str(src), f"s3://{bucket}/orig.txt")
    s3cmd("cp", f"s3://{bucket}/orig.txt", f"s3://{bucket}/copies/a b+ü.txt")
    copied = s3.get_object(Bucket=bucket, Key="copies/a b+ü.txt")
    assert copied["Body"].read() == b"original" and copied["Metadata"]["kept"] == "yes"
    s3cmd("mv", f"s3://{bucket}/copies/a b+ü.txt", f"s3://{bucket}/moved/ü c.txt")
    assert s3.get_object(Bucket=bucket, Key="moved/ü c.txt")["Body"].read() == b"original"
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket=bucket, Key="copies/a b+ü.txt")
    for i in range(3):
        s3.put_object(Bucket=bucket, Key=f"gone/{i}", Body=b"x")
    s3cmd("del", f"s3://{bucket}/orig.txt")
    s3cmd("del", "--recursive", "--force", f"s3://{bucket}/gone/")
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))
    assert keys == ["moved/ü c.txt"]


def test_s3cmd_sync_and_du(s3cmd, s3, bucket, tmp_path):
    tree = tmp_path / "tree"
    (tree / "sub dir").mkdir(parents=True)
    files = {"a.txt": b"alpha\n", "sub dir/b.bin": os.urandom(3000), "sub dir/c ü.txt": b"gamma\n",
             "empty": b""}
    for rel, body in files.items():
        (tree / rel).write_bytes(body)
    first = s3cmd("sync", f"{tree}/", f"s3://{bucket}/tree/").stdout
    assert first.count("upload:") == len(files)
    assert s3cmd("sync", f"{tree}/", f"s3://{bucket}/tree/").stdout.count("upload:") == 0
    (tree / "a.txt").write_bytes(b"ALPHA\n")  # same size: only the MD5 (ETag) tells it apart
    third = s3cmd("sync", f"{tree}/", f"s3://{bucket}/tree/").stdout
    assert third.count("upload:") == 1 and "a.txt" in third
    files["a.txt"] = b"ALPHA\n"
    down = tmp_path / "down"
    assert s3cmd("sync", f"s3://{bucket}/tree/", f"{down}/").stdout.count("download:") == len(files)
    for rel, body in files.items():
        assert (down / rel).read_bytes() == body
    assert s3cmd("sync", f"s3://{bucket}/tree/", f"{down}/").stdout.count("download:") == 0
    size, count = s3cmd("du", f"s3://{bucket}").stdout.split()[:2]
    assert int(size) == sum(len(b) for b in files.values()) and int(count) == len(files)


def test_s3cmd_acl_public_private(s3cmd, s3, aio, bucket, tmp_path):
    src = tmp_path / "pub.txt"
    src.write_bytes(b"for everyone")
    s3cmd("put", str(src), f"s3://{bucket}/pub.txt")
    url = f"{aio['s3']['endpoint']}/{bucket}/pub.txt"
    assert _anonymous_get(url)[0] == 403
    s3cmd("setacl", "--acl-public", f"s3://{bucket}/pub.txt")
    assert _anonymous_get(url) == (200, b"for everyone")
    assert "*anon*: READ" in _info(s3cmd, f"s3://{bucket}/pub.txt")["ACL"]
    grants = s3.get_object_acl(Bucket=bucket, Key="pub.txt")["Grants"]
    assert any(g["Grantee"].get("URI", "").endswith("/global/AllUsers") and
               g["Permission"] == "READ" for g in grants)
    s3cmd("setacl", "--acl-private", f"s3://{bucket}/pub.txt")
    status, body = _anonymous_get(url)
    assert status == 403 and b"<Code>AccessDenied</Code>" in body


def test_s3cmd_acl_grant_revoke(s3cmd, s3, alt_s3, bucket, tmp_path):
    src = tmp_path / "shared.txt"
    src.write_bytes(b"for alt")
    s3cmd("put", str(src), f"s3://{bucket}/shared.txt")
    alt_id = alt_s3.list_buckets()["Owner"]["ID"]
    with pytest.raises(alt_s3.exceptions.ClientError):
        alt_s3.get_object(Bucket=bucket, Key="shared.txt")
    s3cmd("setacl", f"--acl-grant=read:{alt_id}", f"s3://{bucket}/shared.txt")
    assert f"{alt_id}: READ" in _info(s3cmd, f"s3://{bucket}/shared.txt")["ACL"]
    assert alt_s3.get_object(Bucket=bucket, Key="shared.txt")["Body"].read() == b"for alt"
    s3cmd("setacl", f"--acl-revoke=read:{alt_id}", f"s3://{bucket}/shared.txt")
    with pytest.raises(alt_s3.exceptions.ClientError) as err:
        alt_s3.get_object(Bucket=bucket, Key="shared.txt")
    assert err.value.response["Error"]["Code"] == "AccessDenied"


def test_s3cmd_signurl(s3cmd, bucket, tmp_path):
    src = tmp_path / "signed.txt"
    src.write_bytes(b"presigned bytes")
    s3cmd("put", str(src), f"s3://{bucket}/signed.txt")
    url = s3cmd("signurl", f"s3://{bucket}/signed.txt", "+600").stdout.strip()
    assert url.startswith("http://") and "Signature=" in url
    assert _anonymous_get(url) == (200, b"presigned bytes")
    forged = re.sub(r"Signature=[^&]+", "Signature=AAAAAAAAAAAAAAAAAAAAAAAAAAA%3D", url)
    status, body = _anonymous_get(forged)
    assert status == 403 and b"SignatureDoesNotMatch" in body


def test_s3cmd_bucket_policy(s3cmd, aio, bucket, tmp_path):
    """setpolicy sends the file as written: a pretty-printed policy (newlines) must be stored."""
    src = tmp_path / "doc.txt"
    src.write_bytes(b"policy-readable")
    s3cmd("put", str(src), f"s3://{bucket}/doc.txt")
    url = f"{aio['s3']['endpoint']}/{bucket}/doc.txt"
    assert _anonymous_get(url)[0] == 403
    policy = tmp_path / "policy.json"
    policy.write_text('{\n  "Version": "2012-10-17",\n  "Statement": [\n    {\n'
                      '      "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",\n'
                      f'      "Resource": "arn:aws:s3:::{bucket}/*"\n    }}\n  ]\n}}\n')
    s3cmd("setpolicy", str(policy), f"s3://{bucket}")
    assert '"s3:GetObject"' in _info(s3cmd, f"s3://{bucket}")["Policy"][0]
    assert _anonymous_get(url) == (200, b"policy-readable")
    s3cmd("delpolicy", f"s3://{bucket}")
    assert _anonymous_get(url)[0] == 403


def test_s3cmd_unfinished_multipart(s3cmd, s3, bucket):
    upload = s3.create_multipart_upload(Bucket=bucket, Key="unfinished.bin")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="unfinished.bin", UploadId=upload, PartNumber=1,
                   Body=b"p" * 1234)
    listed = s3cmd("multipart", f"s3://{bucket}").stdout
    assert re.search(rf"s3://{bucket}/unfinished.bin\s+{upload}", listed)
    parts = s3cmd("listmp", f"s3://{bucket}/unfinished.bin", upload).stdout
    row = [line.split() for line in parts.splitlines() if line.split()[1:2] == ["1"]]
    assert row and row[0][2] == f'"{_md5(b"p" * 1234)}"' and row[0][3] == "1234"
    s3cmd("abortmp", f"s3://{bucket}/unfinished.bin", upload)
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    assert upload not in s3cmd("multipart", f"s3://{bucket}").stdout


def test_s3cmd_block_public_acls(s3cmd, s3, aio, bucket, tmp_path):
    """BlockPublicAcls refuses every request that would grant the public, objects' too."""
    s3cmd("setblockpublicaccess", f"s3://{bucket}", "BlockPublicAcls")
    assert "BlockPublicAcls" in _info(s3cmd, f"s3://{bucket}")["Block Public Access"][0]
    src = tmp_path / "guarded.txt"
    src.write_bytes(b"not for everyone")
    refused = s3cmd("put", "--acl-public", str(src), f"s3://{bucket}/guarded.txt", check=False)
    assert refused.returncode != 0 and "AccessDenied" in refused.stderr
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
    s3cmd("put", str(src), f"s3://{bucket}/guarded.txt")
    refused = s3cmd("setacl", "--acl-public", f"s3://{bucket}/guarded.txt", check=False)
    assert refused.returncode != 0 and "AccessDenied" in refused.stderr
    assert _anonymous_get(f"{aio['s3']['endpoint']}/{bucket}/guarded.txt")[0] == 403
    for call in (lambda: s3.copy_object(Bucket=bucket, Key="copy.txt", ACL="public-read",
                                        CopySource={"Bucket": bucket, "Key": "guarded.txt"}),
                 lambda: s3.create_multipart_upload(Bucket=bucket, Key="mpu.txt",
                                                    GrantRead='uri="http://acs.amazonaws.com/'
                                                              'groups/global/AllUsers"')):
        with pytest.raises(s3.exceptions.ClientError) as err:
            call()
        assert err.value.response["Error"]["Code"] == "AccessDenied"


def test_s3cmd_ownership_enforced(s3cmd, s3, alt_s3, aio, bucket, tmp_path):
    """setownership BucketOwnerEnforced turns ACLs off: stored grants stop granting, setting a
    non-owner ACL is AccessControlListNotSupported; ObjectWriter turns them back on."""
    src = tmp_path / "owned.txt"
    src.write_bytes(b"owned")
    s3cmd("put", "--acl-public", str(src), f"s3://{bucket}/owned.txt")
    url = f"{aio['s3']['endpoint']}/{bucket}/owned.txt"
    assert _anonymous_get(url) == (200, b"owned")
    s3cmd("setacl", "--acl-public", f"s3://{bucket}")  # a bucket ACL that grants others ...
    refused = s3cmd("setownership", f"s3://{bucket}", "BucketOwnerEnforced", check=False)
    assert refused.returncode != 0 and "InvalidBucketAclWithObjectOwnership" in refused.stderr
    s3cmd("setacl", "--acl-private", f"s3://{bucket}")  # ... must go first
    s3cmd("setownership", f"s3://{bucket}", "BucketOwnerEnforced")
    assert _info(s3cmd, f"s3://{bucket}")["Ownership"] == ["BucketOwnerEnforced"]
    assert _anonymous_get(url)[0] == 403
    assert len(_info(s3cmd, f"s3://{bucket}/owned.txt")["ACL"]) == 1  # the owner's alone
    refused = s3cmd("put", "--acl-public", str(src), f"s3://{bucket}/other.txt", check=False)
    assert refused.returncode != 0 and "AccessControlListNotSupported" in refused.stderr
    s3.put_object(Bucket=bucket, Key="other.txt", Body=b"o", ACL="bucket-owner-full-control")
    with pytest.raises(s3.exceptions.ClientError) as err:
        s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
    assert err.value.response["Error"]["Code"] == "AccessControlListNotSupported"
    with pytest.raises(alt_s3.exceptions.ClientError) as err:
        alt_s3.get_object(Bucket=bucket, Key="owned.txt")
    assert err.value.response["Error"]["Code"] == "AccessDenied"
    s3cmd("setownership", f"s3://{bucket}", "ObjectWriter")
    assert s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"] == \
        [{"ObjectOwnership": "ObjectWriter"}]
    assert _anonymous_get(url) == (200, b"owned")


def test_s3cmd_mb_with_object_ownership(s3cmd, s3):
    """x-amz-object-ownership on CreateBucket is what the bucket then answers and enforces."""
    name = f"own-{uuid.uuid4().hex[:12]}"
    with pytest.raises(s3.exceptions.ClientError) as err:
        s3.create_bucket(Bucket=name, ObjectOwnership="BucketOwnerEnforced", ACL="public-read")
    assert err.value.response["Error"]["Code"] == "InvalidBucketAclWithObjectOwnership"
    s3cmd("mb", "--add-header=x-amz-object-ownership:BucketOwnerEnforced", f"s3://{name}")
    try:
        assert _info(s3cmd, f"s3://{name}")["Ownership"] == ["BucketOwnerEnforced"]
        assert s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]["Rules"] == \
            [{"ObjectOwnership": "BucketOwnerEnforced"}]
        with pytest.raises(s3.exceptions.ClientError) as err:
            s3.put_object(Bucket=name, Key="k", Body=b"x", ACL="public-read")
        assert err.value.response["Error"]["Code"] == "AccessControlListNotSupported"
    finally:
        s3.delete_bucket(Bucket=name)
