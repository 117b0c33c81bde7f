"""Bulk upload's pure parts: where archive members go, what they are stored with, the summary."""
import json

import pytest

from proxy import bulk_upload
from proxy.errors import SwiftError


@pytest.mark.parametrize("name, base, where", [
    ("c/o", "", ("c", "o")), ("./c/d/o", "", ("c", "d/o")), ("/c/o", "", ("c", "o")),
    ("top.txt", "", None), ("c/", "", None), ("o", "cont", ("cont", "o")),
    ("d/o", "cont/pre", ("cont", "pre/d/o")),
])
def test_member_paths(name, base, where):
    assert bulk_upload.member_path(name, base) == where


def test_object_headers_pass_metadata_type_and_expiry():
    headers = {"X-Object-Meta-A": "1", "Content-Type": "text/x", "X-Auth-Token": "t",
               "X-Delete-After": "60"}
    out = bulk_upload.object_headers(headers, 1000.0)
    assert out == {"X-Object-Meta-A": "1", "Content-Type": "text/x", "X-Delete-At": "1060"}
    assert "Content-Type" not in bulk_upload.object_headers(
        {"Content-Type": "text/x", "X-Detect-Content-Type": "true"}, 0)
    for bad in ({"X-Delete-After": "soon"}, {"X-Delete-At": "10"}):
        with pytest.raises(SwiftError) as err:
            bulk_upload.object_headers(bad, 1000.0)
        assert err.value.status == 400


def test_summary_formats_follow_swift():
    summary = {"Response Status": "400 Bad Request", "Response Body": "",
               "Number Files Created": 1}
    errors = [("c/o", "403 Forbidden")]
    text = bulk_upload.render("text/plain", summary, errors).decode()
    assert text == ("Number Files Created: 1\nResponse Body: \nResponse Status: 400 Bad Request\n"
                    "Errors:\nc/o, 403 Forbidden\n")
    assert json.loads(bulk_upload.render("application/json", summary, errors))["Errors"] == [
        ["c/o", "403 Forbidden"]]
    xml = bulk_upload.render("application/xml", summary, errors).decode()
    assert "<object><name>c/o</name><status>403 Forbidden</status></object>" in xml
    assert bulk_upload.out_format("application/json;q=1") == "application/json"
    assert bulk_upload.out_format(None) == "text/plain"


async def test_a_stalled_body_releases_the_reading_thread(monkeypatch):
    import asyncio

    class Stalled:
        async def read(self, n):
            await asyncio.sleep(3600)

    class Chunks:
        def __init__(self):
            self.parts = [b"abc", b""]

        async def read(self, n):
            return self.parts.pop(0)

    monkeypatch.setattr(bulk_upload, "READ_TIMEOUT", 0.2)
    loop = asyncio.get_running_loop()
    stalled = bulk_upload._BodyFile(Stalled(), loop)
    with pytest.raises(bulk_upload.BodyTimeout):
        await loop.run_in_executor(None, stalled.read, 10)
    flowing = bulk_upload._BodyFile(Chunks(), loop)
    assert await loop.run_in_executor(None, flowing.read, 10) == b"abc"
    assert await loop.run_in_executor(None, flowing.read, 10) == b""
