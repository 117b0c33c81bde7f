"""domain_remap's pure rule: which /v1 path a Host header names (proxy/domain_remap.py)."""
import pytest

from proxy.domain_remap import remap

DOMAINS = ["example.com"]


@pytest.mark.parametrize("host,path,expected", [
    ("AUTH_test.example.com", "/", "/v1/AUTH_test/"),
    ("AUTH-test.example.com:8080", "/c/o?x=1", "/v1/AUTH_test/c/o?x=1"),
    ("auth-test.Example.COM", "/c", "/v1/AUTH_test/c"),
    ("MyCont.AUTH-test.example.com", "/v1", "/v1/AUTH_test/MyCont/v1"),  # container keeps its case
    ("localhost:8080", "/v1/AUTH_test", None),       # not under a storage domain
    ("www.example.com", "/", None),                 # no reseller prefix: not an account
    ("a.b.AUTH_test.example.com", "/", None),       # deeper than container.account
    ("example.com", "/", None),
])
def test_remap(host, path, expected):
    assert remap(host, path, DOMAINS) == expected


def test_remap_off_without_domains():
    assert remap("AUTH_test.example.com", "/", []) is None
