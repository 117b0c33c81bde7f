"""Request ids (proxy.request_ids: S3's x-amz-request-id, Swift's X-Trans-Id) and the SigV4 canonical URI's shortcut for plain paths."""
import os
import re
from urllib.parse import quote, unquote

from hypothesis import given, strategies as st

from proxy import request_ids
from proxy.s3 import sigv4

ID = re.compile(r"[0-9A-F]{16}\Z")


def test_request_ids_have_s3s_shape_and_do_not_repeat():
    ids = [request_ids.new_request_id() for _ in range(20000)]
    assert all(ID.match(i) for i in ids)
    assert len(set(ids)) == len(ids)


def test_a_forked_worker_does_not_repeat_its_parents_ids():
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: one id, then gone without running pytest's teardown
        os.write(write, request_ids.new_request_id().encode())
        os._exit(0)
    os.close(write)
    child = os.read(read, 64).decode()
    os.close(read)
    os.waitpid(pid, 0)
    parent = request_ids.new_request_id()
    assert ID.match(child)
    assert child[:8] != parent[:8]  # its own random prefix, not a copy of the parent's counter


def _reference_uri(raw_path: str) -> str:
    return "/".join(quote(unquote(s), safe="-_.~") for s in raw_path.split("/")) or "/"


@given(st.text(alphabet=st.sampled_from("aZ09-_.~/%+ ()!*'é=&?"), max_size=30))
def test_canonical_uri_equals_the_full_encoding(tail):
    raw = "/" + tail
    assert sigv4.canonical_uri(raw) == _reference_uri(raw)


def test_canonical_uri_of_plain_and_encoded_paths():
    assert sigv4.canonical_uri("/bucket/obj-1.txt~") == "/bucket/obj-1.txt~"
    assert sigv4.canonical_uri("/b/a%41(") == "/b/aA%28"
    assert sigv4.canonical_uri("/b//k") == "/b//k"


@given(st.text(alphabet=st.sampled_from("ab =;\t\n\x0b\x1f\xa0\u2003"), max_size=20))
def test_canonical_header_values_fold_whitespace_as_the_regex_does(value):
    expected = re.sub(r"\s+", " ", value.strip())
    assert sigv4.canonical_headers({"x-amz-meta-a": value}, ("x-amz-meta-a",)) == \
        f"x-amz-meta-a:{expected}\n"


def test_an_s3_answer_names_one_transaction_id():
    # x-amz-id-2 is the transaction id (as Swift's s3api sends it), built from the request id,
    # and it is the X-Trans-Id too: the proxy's hook sees it set and makes no second id.
    from proxy.s3.handler import _ids
    ids = _ids("00C0FFEE0000002A")
    assert ids["x-amz-request-id"] == "00C0FFEE0000002A"
    assert ids["x-amz-id-2"] == ids["X-Trans-Id"] == ids["X-Openstack-Request-Id"]
    assert re.fullmatch(r"tx0{5}00c0ffee0000002a-[0-9a-f]{10}", ids["X-Trans-Id"])
