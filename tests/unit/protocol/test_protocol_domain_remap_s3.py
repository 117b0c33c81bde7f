"""domain_remap leaves S3-signed requests to the S3 router (same test as proxy/app.py routes by)."""
import types

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from proxy.context import CONFIG
from proxy.domain_remap import domain_remap_middleware


async def _path_seen(path, headers):
    app = web.Application()
    app[CONFIG] = types.SimpleNamespace(proxy=types.SimpleNamespace(storage_domain=["example.com"]))
    request = make_mocked_request("GET", path, headers={"Host": "AUTH_test.example.com", **headers},
                                  app=app)

    async def handler(req):
        return req.raw_path

    return await domain_remap_middleware(request, handler)


async def test_swift_requests_are_remapped():
    assert await _path_seen("/c/o", {}) == "/v1/AUTH_test/c/o"


@pytest.mark.parametrize("path, headers", [
    ("/c/o", {"Authorization": "AWS4-HMAC-SHA256 Credential=x"}),
    ("/c/o", {"Authorization": "AWS key:sig"}),
    ("/c/o?X-Amz-Algorithm=AWS4-HMAC-SHA256", {}),
    ("/c/o?AWSAccessKeyId=k&Signature=s&Expires=1", {}),
])
async def test_s3_signed_requests_are_not(path, headers):
    assert await _path_seen(path, headers) == path
