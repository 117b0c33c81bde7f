"""Per-request CPU of the proxy's pure hot paths (what every Swift request pays before any I/O).

    .venv/bin/python -m pytest benchmarks/swift --benchmark-enable --benchmark-only
"""
import time

from multidict import CIMultiDict

from proxy import auth, headers, limits, quorum, tempurl
from proxy.app import is_s3_request

USERS = auth.parse_users(["test:tester:testing:.admin"])
TEMPAUTH = auth.TempAuth(USERS, auth.signing_key("p", "s"), 3600)
TOKEN, IDENTITY = TEMPAUTH.login("test:tester", "testing")
REQUEST_HEADERS = CIMultiDict({"X-Auth-Token": TOKEN, "Content-Type": "application/octet-stream",
                               "Content-Length": "4096", "X-Object-Meta-Color": "blue",
                               "User-Agent": "wrk", "Host": "127.0.0.1:8080"})


def test_token_verify(benchmark):
    benchmark(TEMPAUTH.authenticate, REQUEST_HEADERS)


def test_authorize_owner(benchmark):
    benchmark(TEMPAUTH.authorize, IDENTITY, "AUTH_test", "c", "o", "PUT")


def test_split_path_and_names(benchmark):
    def run():
        parts = limits.split_path("/v1/AUTH_test/bench-4k/obj%2F00042")
        limits.check_names(*parts[1:])
    benchmark(run)


def test_put_header_checks(benchmark):
    def run():
        limits.check_metadata(REQUEST_HEADERS, "object")
        limits.check_content_length(REQUEST_HEADERS, 5 * 2 ** 30)
        headers.for_object_write(REQUEST_HEADERS)
    benchmark(run)


def test_quorum_outcome(benchmark):
    benchmark(quorum.write_outcome, [201, 201, 201], ["a" * 32] * 3, 3)


def test_s3_dispatch_check(benchmark):
    benchmark(is_s3_request, "/v1/AUTH_test/c/o", REQUEST_HEADERS, {})


def test_tempurl_check(benchmark):
    expires = int(time.time()) + 3600
    path = "/v1/AUTH_test/c/o"
    sig = tempurl.sign("key", "GET", expires, path, "sha256")
    query = {"temp_url_sig": sig, "temp_url_expires": str(expires)}
    benchmark(tempurl.check, query, "GET", "AUTH_test", "c", "o", ["key"])
