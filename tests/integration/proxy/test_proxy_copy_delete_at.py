"""A copy keeps its source's expiry, as Swift's copy does (found with rclone's server-side copy).

Swift's copy middleware carries X-Delete-At from the source to the copy unless the request names
its own X-Delete-At / X-Delete-After, which is checked as a PUT's is; X-Fresh-Metadata drops it.
"""
import time

import pytest

pytestmark = pytest.mark.timeout(60)


def _delete_at(swift, container, name):
    resp = swift("HEAD", f"/{container}/{name}")
    assert resp.status_code == 200
    return resp.headers.get("X-Delete-At")


@pytest.fixture
def expiring(swift, container):
    """An object of `container` that expires in an hour: its X-Delete-At."""
    at = str(int(time.time()) + 3600)
    assert swift("PUT", f"/{container}/src", data=b"data",
                 headers={"X-Delete-At": at}).status_code == 201
    return at


@pytest.mark.parametrize("verb", ["COPY", "PUT"])
def test_copy_carries_source_expiry(swift, container, expiring, verb):
    if verb == "COPY":
        resp = swift("COPY", f"/{container}/src", headers={"Destination": f"{container}/dst"})
    else:
        resp = swift("PUT", f"/{container}/dst", data=b"",
                     headers={"X-Copy-From": f"{container}/src"})
    assert resp.status_code == 201, resp.text
    assert _delete_at(swift, container, "dst") == expiring
    assert swift("GET", f"/{container}/dst").content == b"data"


@pytest.mark.parametrize("verb", ["COPY", "PUT"])
def test_request_expiry_overrides_source(swift, container, expiring, verb):
    def copy(name, headers):
        if verb == "COPY":
            return swift("COPY", f"/{container}/src",
                         headers={"Destination": f"{container}/{name}", **headers})
        return swift("PUT", f"/{container}/{name}", data=b"",
                     headers={"X-Copy-From": f"{container}/src", **headers})

    before = int(time.time())
    assert copy("after", {"X-Delete-After": "100"}).status_code == 201
    assert before + 99 <= int(_delete_at(swift, container, "after")) <= int(time.time()) + 100
    later = str(int(time.time()) + 7200)
    assert copy("at", {"X-Delete-At": later}).status_code == 201
    assert _delete_at(swift, container, "at") == later
    # bad values get the PUT's answers, and nothing is written
    assert copy("bad", {"X-Delete-After": "soon"}).status_code == 400
    assert copy("bad", {"X-Delete-At": "100"}).status_code == 400
    assert swift("HEAD", f"/{container}/bad").status_code == 404
    # fresh metadata starts without the source's expiry
    assert copy("fresh", {"X-Fresh-Metadata": "true"}).status_code == 201
    assert _delete_at(swift, container, "fresh") is None
