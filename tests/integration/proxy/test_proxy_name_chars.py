"""Names with control characters reach the storage nodes (found by rclone's Swift backend).

Swift refuses only NUL in names; rclone sends a newline in a name as %0A. The storage node's
router once matched the decoded path with ".*", which stops at a newline, so such PUTs were
answered 404 by the node (and by the proxy after it).
"""
from urllib.parse import quote

import pytest

pytestmark = pytest.mark.timeout(60)

NAMES = ["nl\nx", "cr\rx", "tab\tx", "vt\x0bx", "del\x7fx", "two\n\nlines\n"]


@pytest.mark.parametrize("name", NAMES)
def test_object_name_with_control_character(swift, container, name):
    path = f"/{container}/{quote(name, safe='')}"
    assert swift("PUT", path, data=b"body").status_code == 201
    got = swift("GET", path)
    assert got.status_code == 200 and got.content == b"body"
    assert swift("POST", path, headers={"X-Object-Meta-K": "v"}).status_code == 202
    assert swift("HEAD", path).headers["X-Object-Meta-K"] == "v"
    copy = swift("COPY", path, headers={"Destination": quote(f"{container}/c-{name}")})
    assert copy.status_code == 201, copy.text
    rows = swift("GET", f"/{container}", params={"format": "json"}).json()
    assert sorted(r["name"] for r in rows) == sorted([name, f"c-{name}"])
    for n in (name, f"c-{name}"):
        assert swift("DELETE", f"/{container}/{quote(n, safe='')}").status_code == 204
    assert swift("GET", path).status_code == 404


def test_container_name_with_newline(swift):
    path = "/" + quote("nl\ncontainer", safe="")
    assert swift("PUT", path).status_code == 201
    assert swift("PUT", path + "/o", data=b"x").status_code == 201
    assert [r["name"] for r in swift("GET", path, params={"format": "json"}).json()] == ["o"]
    names = [r["name"] for r in swift("GET", "", params={"format": "json"}).json()]
    assert "nl\ncontainer" in names
    assert swift("DELETE", path + "/o").status_code == 204
    assert swift("DELETE", path).status_code == 204
