"""staticweb for anonymous readers, as Swift's middleware serves a public container: the 301 to a
trailing slash, index objects, <status><web-error> pages, and the container's read ACL still
deciding who may read at all."""
import uuid

import pytest
import requests

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def site(swift):
    c = f"web-{uuid.uuid4().hex[:10]}"
    assert swift("PUT", f"/{c}", headers={
        "X-Container-Read": ".r:*,.rlistings", "X-Container-Meta-Web-Index": "index.html",
        "X-Container-Meta-Web-Error": "error.html"}).status_code == 201
    swift("PUT", f"/{c}/index.html", data=b"<p>home</p>", headers={"Content-Type": "text/html"})
    swift("PUT", f"/{c}/404error.html", data=b"<p>lost</p>", headers={"Content-Type": "text/html"})
    swift("PUT", f"/{c}/docs/index.html", data=b"<p>docs</p>")
    return c


def test_index_pages_and_error_page(swift, site):
    root = f"{swift.url}/{site}"
    moved = requests.get(root, allow_redirects=False)
    assert moved.status_code == 301 and moved.headers["Location"].endswith(f"/{site}/")
    assert requests.get(root + "/").content == b"<p>home</p>"
    docs = requests.get(root + "/docs", allow_redirects=False)
    assert docs.status_code == 301 and docs.headers["Location"].endswith(f"/{site}/docs/")
    assert requests.get(root + "/docs/").content == b"<p>docs</p>"
    lost = requests.get(root + "/nothing-here")
    assert lost.status_code == 404 and lost.content == b"<p>lost</p>"


def test_the_read_acl_still_decides(swift, site):
    swift("POST", f"/{site}", headers={"X-Container-Read": ""})    # no longer public
    root = f"{swift.url}/{site}"
    assert requests.get(root + "/").status_code == 401
    assert requests.get(root + "/docs/").status_code == 401
    assert requests.get(root + "/index.html").status_code == 401
    # what staticweb itself would answer (error page, listing) is not served either
    missing = requests.get(root + "/nothing-here")
    assert missing.status_code == 401 and b"lost" not in missing.content
    swift("POST", f"/{site}", headers={"X-Remove-Container-Meta-Web-Index": "x",
                                       "X-Container-Meta-Web-Listings": "true"})
    listing = requests.get(root + "/")
    assert listing.status_code == 401 and b"index.html" not in listing.content
