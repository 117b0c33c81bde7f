"""Transfer-Encoding of an object PUT as Swift's swob reads it (proxy/limits.check_content_length);
the wire tests in tests/integration/protocol/ only reach the 501 (llhttp refuses some of the rest)."""
import pytest

from proxy import limits
from proxy.errors import SwiftError


@pytest.mark.parametrize("te, status", [("gzip, chunked", 501), ("chunked,chunked", 501),
                                        ("gzip", 400), ("identity", 400)])
def test_transfer_codings_other_than_one_chunked_are_refused(te, status):
    with pytest.raises(SwiftError) as err:
        limits.check_content_length({"Transfer-Encoding": te}, 100)
    assert err.value.status == status


def test_chunked_and_content_length():
    assert limits.check_content_length({"Transfer-Encoding": " Chunked "}, 100) is None
    assert limits.check_content_length({"Content-Length": "7"}, 100) == 7
    with pytest.raises(SwiftError) as err:
        limits.check_content_length({}, 100)
    assert err.value.status == 411
