"""Server-side encryption headers. SSE-S3 (AES256) requests are accepted and answered; SSE-C is
refused with NotImplemented until its encrypted storage path lands (never stored in clear)."""
from __future__ import annotations

from proxy.s3.errors import not_implemented

SSE_C_HEADERS = ("x-amz-server-side-encryption-customer-algorithm",
                 "x-amz-server-side-encryption-customer-key",
                 "x-amz-server-side-encryption-customer-key-md5")


def for_write(s3, headers: dict):
    if any(h in s3.headers for h in SSE_C_HEADERS):
        raise not_implemented("SSE-C")
    if s3.headers.get("x-amz-server-side-encryption") == "AES256":
        headers["X-Object-Sysmeta-S3-Sse"] = "AES256"
    return None


def check_read(s3, backend_headers) -> None:
    if any(h in s3.headers for h in SSE_C_HEADERS):
        raise not_implemented("SSE-C")


def is_encrypted(backend_headers) -> bool:
    return False


def response_headers(backend_headers) -> dict:
    if backend_headers.get("X-Object-Sysmeta-S3-Sse") == "AES256":
        return {"x-amz-server-side-encryption": "AES256"}
    return {}
