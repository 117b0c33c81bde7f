"""staticweb through a prefix TempURL, as Swift's staticweb and tempurl middlewares answer it:
the container root signed for the empty prefix, listings whose links carry the signature, no way
up out of the granted prefix, and no container listing without staticweb."""
import hashlib
import hmac
import time
import uuid
from urllib.parse import quote

import pytest
import requests

pytestmark = pytest.mark.timeout(60)
KEY = "site-key"


@pytest.fixture
def site(swift):
    c = f"sw-{uuid.uuid4().hex[:10]}"
    assert swift("PUT", f"/{c}", headers={"X-Container-Meta-Web-Listings": "true",
                                          "X-Container-Meta-Temp-URL-Key": KEY}).status_code == 201
    swift("PUT", f"/{c}/dir/", data=b"", headers={"Content-Type": "application/directory"})
    swift("PUT", f"/{c}/dir/obj", data=b"obj contents")
    swift("PUT", f"/{c}/dir/sub/obj", data=b"deeper")
    return c


def signed(swift, container, prefix):
    account_path = swift.url.split("127.0.0.1", 1)[1].split("/", 1)[1]
    expires = int(time.time()) + 60
    signed_path = f"prefix:/{account_path}/{container}/{prefix}"
    sig = hmac.new(KEY.encode(), f"GET\n{expires}\n{signed_path}".encode(),
                   hashlib.sha256).hexdigest()
    return {"temp_url_prefix": prefix, "temp_url_expires": str(expires), "temp_url_sig": sig}


def test_whole_site(swift, site):
    params = signed(swift, site, "")
    root = f"{swift.url}/{site}"
    got = requests.get(root, params=params, allow_redirects=False)
    assert got.status_code == 301 and got.headers["Location"].endswith(f"/{site}/")
    listing = requests.get(root + "/", params=params)
    assert listing.status_code == 200 and "Listing of /v1/" in listing.text
    qs = (f"?temp_url_prefix=&amp;temp_url_expires={params['temp_url_expires']}"
          f"&amp;temp_url_sig={params['temp_url_sig']}")
    assert f'<a href="./dir/{qs}">dir/</a>' in listing.text and 'href=".."' not in listing.text
    sub = requests.get(root + "/dir/", params=params)
    assert sub.status_code == 200 and f'<a href="./obj{qs}">obj</a>' in sub.text
    assert 'href="..' in sub.text
    assert requests.get(root + "/dir/obj", params=params).content == b"obj contents"


def test_limited_to_a_prefix(swift, site):
    params = signed(swift, site, "dir/")
    root = f"{swift.url}/{site}"
    got = requests.get(root + "/dir/", params=params)
    assert got.status_code == 200 and 'href="..' not in got.text     # nothing above dir/
    assert f"temp_url_prefix={quote('dir/')}" in got.text
    assert requests.get(root + "/dir/sub/", params=params).status_code == 200
    assert requests.get(root + "/", params=params).status_code == 401   # outside the prefix


def test_no_listing_without_staticweb(swift, site):
    swift("POST", f"/{site}", headers={"X-Remove-Container-Meta-Web-Listings": "x"})
    params = signed(swift, site, "")
    assert requests.get(f"{swift.url}/{site}", params=params).status_code == 401
    assert requests.get(f"{swift.url}/{site}/", params=params).status_code == 401
