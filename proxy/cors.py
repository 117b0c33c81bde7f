"""CORS for the Swift API, configured per container (Swift's semantics, strict mode).

Container metadata X-Container-Meta-Access-Control-Allow-Origin (space-separated origins or
`*`), -Max-Age and -Expose-Headers drive both the OPTIONS preflight and the headers added to
actual requests that carry an Origin. Pure functions over the container's metadata.
"""
from __future__ import annotations

ALLOWED_METHODS = "HEAD, GET, PUT, POST, COPY, OPTIONS, DELETE"
DEFAULT_EXPOSE = ("cache-control", "content-language", "content-type", "expires", "last-modified",
                  "pragma", "etag", "x-timestamp", "x-trans-id", "x-openstack-request-id")


def allowed_origins(meta: dict[str, str]) -> set[str]:
    return set((meta.get("access-control-allow-origin") or "").split())


def origin_allowed(origin: str | None, meta: dict[str, str]) -> bool:
    origins = allowed_origins(meta)
    return bool(origin) and ("*" in origins or origin in origins)


def preflight_headers(origin: str, request_headers: str | None, meta: dict[str, str]) -> dict:
    """Headers of a successful preflight answer."""
    out = {"Access-Control-Allow-Origin": "*" if "*" in allowed_origins(meta) else origin,
           "Access-Control-Allow-Methods": ALLOWED_METHODS,
           "Allow": ALLOWED_METHODS}
    if meta.get("access-control-max-age"):
        out["Access-Control-Max-Age"] = meta["access-control-max-age"]
    if request_headers:
        out["Access-Control-Allow-Headers"] = request_headers
    return out


def response_headers(origin: str, meta: dict[str, str], response_header_names) -> dict:
    """Headers added to an actual (non-preflight) answer for an allowed origin."""
    expose = set(DEFAULT_EXPOSE)
    expose.update(h.strip().lower() for h in (meta.get("access-control-expose-headers") or "")
                  .split(",") if h.strip())
    expose.update(n.lower() for n in response_header_names
                  if n.lower().startswith(("x-object-meta-", "x-container-meta-")))
    return {"Access-Control-Allow-Origin": "*" if "*" in allowed_origins(meta) else origin,
            "Access-Control-Expose-Headers": ", ".join(sorted(expose))}
