"""The [s3] section: the S3 API served by the proxy."""
from strato.config import Field, Section


def _check_credentials(entries):
    for entry in entries:
        if len(entry.split()) != 4:
            return f"credential {entry!r} is not 'access_key secret_key account user'"
    return None


SECTION = Section("s3", "S3 API on the proxy port.", {
    "region": Field("str", "us-east-1", "Region the S3 API reports and signs for."),
    "domain": Field("str", "", "Base domain for virtual-host-style addressing "
                    "(bucket.<domain>); empty turns it off."),
    "max_clock_skew": Field("int", 900, "Seconds of request clock skew tolerated.", min=1),
    "min_part_size": Field("int", 5 * 1024 * 1024, "Smallest multipart part (bytes) allowed "
                           "before the last one (S3: 5 MiB; EntityTooSmall below).", min=1),
    "credentials": Field("list", [], "Access keys as 'access_key secret_key account user' "
                         "(space-separated: Swift-style keys such as test:tester contain colons) "
                         "(the all-in-one adds two generated pairs).", check=_check_credentials),
})
