"""SLO reads and copies as Swift's slo/copy middlewares answer them, through the real proxy:
multi-range GETs, format=raw, literal segment paths, ranged and part-number copies, manifest
copies across accounts, segment-container ACLs, heartbeat error bodies."""
import email.parser
import hashlib
import json
import uuid

import pytest

pytestmark = pytest.mark.timeout(90)


@pytest.fixture(scope="module")
def slo(swift):
    """A container with segments a (7 bytes), b (5), c (3) and manifest 'm' over them."""
    c = f"slo-{uuid.uuid4().hex[:10]}"
    assert swift("PUT", f"/{c}").status_code == 201
    for name, body in (("a", b"a" * 7), ("b", b"b" * 5), ("c", b"c" * 3)):
        swift("PUT", f"/{c}/{name}", data=body)
    manifest = json.dumps([{"path": f"/{c}/{n}"} for n in "abc"])
    assert swift("PUT", f"/{c}/m", params={"multipart-manifest": "put"},
                 data=manifest).status_code == 201
    return c


def test_multi_range_get_is_multipart_byteranges(swift, slo):
    got = swift("GET", f"/{slo}/m", headers={"Range": "bytes=5-8,11-13"})
    assert got.status_code == 206
    assert got.headers["Content-Type"].startswith("multipart/byteranges")
    assert int(got.headers["Content-Length"]) == len(got.content)
    message = email.parser.BytesParser().parsebytes(
        b"Content-Type: " + got.headers["Content-Type"].encode() + b"\r\n\r\n" + got.content)
    parts = message.get_payload()
    assert [p["Content-Range"] for p in parts] == ["bytes 5-8/15", "bytes 11-13/15"]
    assert [p.get_payload(decode=True) for p in parts] == [b"aabb", b"bcc"]
    one = swift("GET", f"/{slo}/m", headers={"Range": "bytes=5-8,100-200"})
    assert one.status_code == 206 and one.content == b"aabb"      # one satisfiable range
    none = swift("GET", f"/{slo}/m", headers={"Range": "bytes=100-200,300-400"})
    assert none.status_code == 416


def test_part_number_out_of_range_head_has_no_body(swift, slo):
    got = swift("GET", f"/{slo}/m", params={"part-number": "9"})
    assert got.status_code == 416 and got.content == b"The requested part number is not satisfiable"
    head = swift("HEAD", f"/{slo}/m", params={"part-number": "9"})
    assert head.status_code == 416 and head.headers["Content-Length"] == "0"
    assert head.headers["X-Parts-Count"] == "3"


def test_raw_manifest_has_its_own_etag_and_type(swift, slo):
    got = swift("GET", f"/{slo}/m", params={"multipart-manifest": "get", "format": "raw"})
    assert got.headers["ETag"].strip('"') == hashlib.md5(got.content).hexdigest()
    assert got.headers["Content-Type"] == "application/octet-stream"
    assert [set(item) for item in got.json()] == [{"path", "etag", "size_bytes"}] * 3
    again = swift("PUT", f"/{slo}/m2", params={"multipart-manifest": "put"}, data=got.content)
    assert again.status_code == 201
    assert swift("GET", f"/{slo}/m2").content == b"a" * 7 + b"b" * 5 + b"c" * 3


def test_segment_paths_are_literal(swift, slo):
    swift("PUT", f"/{slo}/seg_%25ff_funky", data=b"z" * 4)    # the object "seg_%ff_funky"
    manifest = json.dumps([{"path": f"/{slo}/seg_%ff_funky"}])
    resp = swift("PUT", f"/{slo}/funky", params={"multipart-manifest": "put"}, data=manifest)
    assert resp.status_code == 201, resp.text
    assert swift("GET", f"/{slo}/funky").content == b"z" * 4


def test_copies_take_range_and_part_number(swift, slo):
    resp = swift("COPY", f"/{slo}/m", headers={"Destination": f"{slo}/ranged",
                                                "Range": "bytes=5-8"})
    assert resp.status_code == 201
    assert swift("GET", f"/{slo}/ranged").content == b"aabb"
    swift("PUT", f"/{slo}/plain", data=b"0123456789")
    resp = swift("COPY", f"/{slo}/plain", headers={"Destination": f"{slo}/plain-part",
                                                    "Range": "bytes=2-4"})
    assert resp.status_code == 201
    assert swift("GET", f"/{slo}/plain-part").content == b"234"
    resp = swift("COPY", f"/{slo}/m", params={"part-number": "3"},
                 headers={"Destination": f"{slo}/third"})
    assert resp.status_code == 201 and swift("GET", f"/{slo}/third").content == b"ccc"


def test_manifest_copy_to_another_account_checks_segments_there(swift, client_for, slo):
    other = client_for("test2:tester2", "testing2")
    dest = f"dst-{uuid.uuid4().hex[:8]}"
    assert other("PUT", f"/{dest}", headers={"X-Container-Write": "test:tester"}).status_code == 201
    account2 = other.url.rsplit("/", 1)[1]
    copy = {"Destination": f"{dest}/m", "Destination-Account": account2}
    resp = swift("COPY", f"/{slo}/m", params={"multipart-manifest": "get"}, headers=copy)
    assert resp.status_code == 400 and resp.text.count("403 Forbidden") == 3, resp.text
    assert other("PUT", f"/{slo}", headers={"X-Container-Read": "test:tester"}).status_code == 201
    resp = swift("COPY", f"/{slo}/m", params={"multipart-manifest": "get"}, headers=copy)
    assert resp.status_code == 400 and resp.text.count("404 Not Found") == 3, resp.text
    for name, body in (("a", b"a" * 7), ("b", b"b" * 5), ("c", b"c" * 3)):
        other("PUT", f"/{slo}/{name}", data=body)
    resp = swift("COPY", f"/{slo}/m", params={"multipart-manifest": "get"}, headers=copy)
    assert resp.status_code == 201, resp.text
    kept = other("GET", f"/{dest}/m", params={"multipart-manifest": "get"})
    assert kept.headers.get("X-Static-Large-Object") == "True"
    assert other("GET", f"/{dest}/m").content == b"a" * 7 + b"b" * 5 + b"c" * 3


def test_referer_acl_on_the_segment_container(swift, client_for):
    user3 = client_for("test:tester3", "testing3")
    segs, mans = (f"r{k}-{uuid.uuid4().hex[:8]}" for k in "sm")
    swift("PUT", f"/{segs}")
    swift("PUT", f"/{mans}")
    swift("PUT", f"/{segs}/s1", data=b"12345")
    swift("PUT", f"/{mans}/slo", params={"multipart-manifest": "put"},
          data=json.dumps([{"path": f"/{segs}/s1"}]))
    swift("PUT", f"/{mans}/dlo", data=b"", headers={"X-Object-Manifest": f"{segs}/s"})
    referer = {"Referer": "http://blah.example.com"}
    acl = {"X-Container-Read": ".r:*.example.com,.rlistings"}
    assert user3("GET", f"/{mans}/slo", headers=referer).status_code == 403
    swift("POST", f"/{mans}", headers=acl)
    assert user3("GET", f"/{mans}/slo", headers=referer).status_code == 409   # segments: no
    assert user3("GET", f"/{mans}/dlo", headers=referer).status_code == 403
    swift("POST", f"/{segs}", headers=acl)
    assert user3("GET", f"/{mans}/slo", headers=referer).content == b"12345"
    assert user3("GET", f"/{mans}/dlo", headers=referer).content == b"12345"


def test_heartbeat_answers_quote_swifts_error_bodies(swift, slo):
    resp = swift("PUT", f"/{slo}/hb", params={"multipart-manifest": "put", "heartbeat": "on"},
                 data=json.dumps([{"path": f"/{slo}/a"}]),
                 headers={"Accept": "application/json", "ETag": "bad etag"})
    assert resp.status_code == 202
    assert json.loads(resp.content) == {
        "Response Status": "422 Unprocessable Entity",
        "Response Body": "Unprocessable Entity\nUnable to process the contained instructions",
        "Errors": []}


def test_missing_first_segment_is_a_conflict_before_any_byte(swift):
    c = f"slo-{uuid.uuid4().hex[:10]}"
    swift("PUT", f"/{c}")
    swift("PUT", f"/{c}/s1", data=b"1" * 4)
    swift("PUT", f"/{c}/s2", data=b"2" * 4)
    swift("PUT", f"/{c}/m", params={"multipart-manifest": "put"},
          data=json.dumps([{"path": f"/{c}/s1"}, {"path": f"/{c}/s2"}]))
    swift("DELETE", f"/{c}/s1")
    assert swift("GET", f"/{c}/m").status_code == 409
    head = swift("HEAD", f"/{c}/m", params={"part-number": "5"})
    assert head.status_code == 416 and "Last-Modified" in head.headers


def test_manifest_may_not_list_itself(swift, slo):
    entries = [{"path": f"/{slo}/a"}]
    assert swift("PUT", f"/{slo}/selfish", params={"multipart-manifest": "put"},
                 data=json.dumps(entries)).status_code == 201
    # it exists now (an SLO, so a HEAD of it checks out): only the name check refuses it
    again = swift("PUT", f"/{slo}/selfish", params={"multipart-manifest": "put"},
                  data=json.dumps(entries + [{"path": f"/{slo}/selfish"}]))
    assert again.status_code == 400
    assert f"/{slo}/selfish, Manifest may not reference itself" in again.text
    assert swift("GET", f"/{slo}/selfish").content == b"a" * 7


def test_assembled_read_names_the_manifest_etag(swift, slo):
    manifest = swift("HEAD", f"/{slo}/m", params={"multipart-manifest": "get"})
    got = swift("GET", f"/{slo}/m")
    assert got.headers["X-Manifest-Etag"] == manifest.headers["ETag"].strip('"')
    assert got.headers["ETag"] != manifest.headers["ETag"]


def test_copy_of_a_missing_object_to_a_forbidden_destination_is_404(swift, client_for, slo):
    other = client_for("test2:tester2", "testing2")
    dest = f"no-{uuid.uuid4().hex[:8]}"
    assert other("PUT", f"/{dest}").status_code == 201            # no write ACL for test:tester
    copy = {"Destination": f"{dest}/x", "Destination-Account": other.url.rsplit("/", 1)[1]}
    # Swift's copy reads the source before the destination is authorized
    assert swift("COPY", f"/{slo}/not-there", headers=copy).status_code == 404
    assert swift("COPY", f"/{slo}/a", headers=copy).status_code == 403


def test_heartbeat_plain_text_lists_each_segment_error(swift, slo):
    resp = swift("PUT", f"/{slo}/hb-text", params={"multipart-manifest": "put", "heartbeat": "on"},
                 data=json.dumps([{"path": f"/{slo}/a"}, {"path": f"/{slo}/nope"}]))
    assert resp.status_code == 202 and resp.headers["Content-Type"].startswith("text/plain")
    lines = resp.text.strip().splitlines()
    assert lines[0] == "Response Status: 400 Bad Request"
    assert lines[-2:] == ["Errors:", f"/{slo}/nope, 404 Not Found"]
    assert swift("HEAD", f"/{slo}/hb-text").status_code == 404
