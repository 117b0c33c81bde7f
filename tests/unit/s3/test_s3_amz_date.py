"""parse_amz_date (hand-sliced, cached) accepts exactly the basic ISO 8601 form SigV4 signs."""
import datetime as dt

import pytest

from proxy.s3 import sigv4
from proxy.s3.errors import S3Error


def test_valid_date_parses_as_utc():
    assert sigv4.parse_amz_date("20261121T101232Z") == dt.datetime(
        2026, 11, 21, 10, 12, 32, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize("text", ["", "2026112T101232Z", "20261121T101232", "20261121 101232Z",
                                  "20261321T101232Z", "20260230T101232Z", "20261121T246060Z",
                                  "2026-11-21T10:12Z", "\uff120261121T101232Z", "2026112aT101232Z"])
def test_malformed_date_is_access_denied(text):
    with pytest.raises(S3Error) as err:
        sigv4.parse_amz_date(text)
    assert err.value.code == "AccessDenied"
