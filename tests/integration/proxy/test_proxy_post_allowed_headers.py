"""A POST replaces an object's "allowed headers" as a whole, Content-Encoding included.

Swift's object server keeps only system metadata from the data file when a POST writes a .meta:
Content-Encoding and Content-Disposition not named by the POST are gone (rclone's touch POSTs
only X-Object-Meta-Mtime). The proxy stores Content-Encoding as sysmeta, so it says so itself.
"""
import pytest

pytestmark = pytest.mark.timeout(60)


def test_post_without_them_drops_encoding_and_disposition(swift, container):
    path = f"/{container}/o"
    assert swift("PUT", path, data=b"body", headers={
        "Content-Encoding": "gzip", "Content-Disposition": "attachment; filename=o",
        "Content-Type": "text/x-kept"}).status_code == 201
    head = swift("HEAD", path)
    assert (head.headers["Content-Encoding"], head.headers["Content-Disposition"]) == (
        "gzip", "attachment; filename=o")
    assert swift("POST", path, headers={"X-Object-Meta-Mtime": "1.5"}).status_code == 202
    for method in ("HEAD", "GET"):
        resp = swift(method, path, headers={"Accept-Encoding": "identity"})
        assert "Content-Encoding" not in resp.headers
        assert "Content-Disposition" not in resp.headers
        assert resp.headers["Content-Type"] == "text/x-kept"
        assert resp.headers["X-Object-Meta-Mtime"] == "1.5"
    assert swift("GET", path).content == b"body"


def test_post_naming_encoding_sets_it(swift, container):
    path = f"/{container}/o"
    assert swift("PUT", path, data=b"body").status_code == 201
    assert swift("POST", path, headers={"Content-Encoding": "br"}).status_code == 202
    assert swift("HEAD", path).headers["Content-Encoding"] == "br"
    # the next POST without it takes it away again
    assert swift("POST", path, headers={"X-Object-Meta-A": "b"}).status_code == 202
    assert "Content-Encoding" not in swift("HEAD", path).headers
    # and a copy of the object has none either
    assert swift("COPY", path, headers={"Destination": f"{container}/c"}).status_code == 201
    assert "Content-Encoding" not in swift("HEAD", f"/{container}/c").headers


def test_x_robots_tag_is_an_allowed_header(swift, container):
    """Swift's default allowed_headers include X-Robots-Tag: a PUT keeps it, a copy carries it,
    a POST replaces it."""
    path = f"/{container}/o"
    assert swift("PUT", path, data=b"x", headers={"X-Robots-Tag": "noindex"}).status_code == 201
    assert swift("HEAD", path).headers["X-Robots-Tag"] == "noindex"
    assert swift("COPY", path, headers={"Destination": f"{container}/c"}).status_code == 201
    assert swift("GET", f"/{container}/c").headers["X-Robots-Tag"] == "noindex"
    assert swift("POST", path, headers={"X-Robots-Tag": "nofollow"}).status_code == 202
    assert swift("HEAD", path).headers["X-Robots-Tag"] == "nofollow"
    assert swift("POST", path, headers={"X-Object-Meta-A": "b"}).status_code == 202
    assert "X-Robots-Tag" not in swift("HEAD", path).headers
