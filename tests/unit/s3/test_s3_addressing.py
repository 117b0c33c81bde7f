import pytest

from proxy.s3 import addressing
from proxy.s3.errors import S3Error


@pytest.mark.parametrize("path, host, domain, bucket, key", [
    ("/", "127.0.0.1:8080", "", None, None),
    ("/b", "127.0.0.1:8080", "", "b", None),
    ("/b/", "127.0.0.1:8080", "", "b", None),
    ("/b/dir/k%20x", "127.0.0.1:8080", "", "b", "dir/k x"),
    ("/b/a%2Fb", "h", "", "b", "a/b"),
    ("/k/x", "mybucket.s3.local:8080", "s3.local", "mybucket", "k/x"),
    ("/", "mybucket.s3.local", "s3.local", "mybucket", None),
    ("/b/k", "s3.local:8080", "s3.local", "b", "k"),
])
def test_targets(path, host, domain, bucket, key):
    assert addressing.target(path, host, domain) == addressing.Target(bucket, key)


@pytest.mark.parametrize("path", ["/b/%FF", "/b/a%00b"])
def test_bad_uris(path):
    with pytest.raises(S3Error) as info:
        addressing.target(path, "h", "")
    assert info.value.code == "InvalidURI"


def test_key_length_limit():
    addressing.target("/b/" + "k" * 1024, "h", "")
    with pytest.raises(S3Error) as info:
        addressing.target("/b/" + "k" * 1025, "h", "")
    assert info.value.code == "KeyTooLongError"


@pytest.mark.parametrize("name, ok", [
    ("abc", True), ("my.bucket-1", True), ("ab", False), ("a" * 64, False), ("Upper", False),
    ("-abc", False), ("abc-", False), ("a..b", False), ("a.-b", False), ("192.168.1.1", False),
    ("under_score", False),
])
def test_bucket_names(name, ok):
    assert addressing.valid_bucket_name(name) is ok
    if not ok:
        with pytest.raises(S3Error, match="InvalidBucketName"):
            addressing.check_bucket_name(name)
