"""Bucket subresources kept as container system metadata: acl, policy, tagging, cors, lifecycle,
ownershipControls, publicAccessBlock, versioning; the CORS preflight that reads the cors rules.

Each configuration is validated on PUT (MalformedXML / MalformedPolicy / InvalidTag ...), stored as
JSON in X-Container-Sysmeta-S3-<Name>, and rendered back as S3's XML on GET; DELETE clears it.
"""
from __future__ import annotations

import json

from aiohttp import web

from proxy.s3 import access, common, xmlio
from proxy.s3 import acl as acl_mod
from proxy.s3 import policy as policy_mod
from proxy.s3.body import read_small
from proxy.s3.errors import S3Error, not_implemented

SUBRESOURCES = ("versioning", "acl", "policy", "tagging", "cors", "lifecycle",
                "ownershipControls", "publicAccessBlock", "policyStatus")
MISSING = {"policy": "NoSuchBucketPolicy", "tagging": "NoSuchTagSet",
           "cors": "NoSuchCORSConfiguration", "lifecycle": "NoSuchLifecycleConfiguration",
           "ownershipControls": "OwnershipControlsNotFoundError",
           "publicAccessBlock": "NoSuchPublicAccessBlockConfiguration"}
SYSMETA = {"acl": "Acl", "policy": "Policy", "tagging": "Tagging", "cors": "Cors",
           "lifecycle": "Lifecycle", "ownershipControls": "Ownership",
           "publicAccessBlock": "Pab", "versioning": "Versioning"}
ACTIONS = {"acl": "BucketAcl", "policy": "BucketPolicy", "tagging": "BucketTagging",
           "cors": "BucketCORS", "lifecycle": "LifecycleConfiguration",
           "ownershipControls": "BucketOwnershipControls",
           "publicAccessBlock": "BucketPublicAccessBlock", "versioning": "BucketVersioning",
           "policyStatus": "BucketPolicyStatus"}
PAB_FIELDS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
CORS_METHODS = ("GET", "PUT", "HEAD", "POST", "DELETE")


async def _store(s3, bucket, name: str, value: str) -> None:
    result = await s3.core.container_write("POST", bucket.account, bucket.name,
                                           {common.BUCKET_SYSMETA + SYSMETA[name]: value})
    if result.status // 100 != 2:
        raise S3Error("ServiceUnavailable")


async def get(s3, name: str):
    bucket = await common.find_bucket(s3)
    permission = "READ_ACP" if name == "acl" else "FULL_CONTROL"
    access.check(s3, bucket, "s3:Get" + ACTIONS[name], permission)
    if name == "acl":
        acl = access.shown_acl(bucket, access.bucket_acl(bucket))
        return web.Response(body=acl_mod.to_xml(acl, lambda v: access.shown_id(s3, v)),
                            content_type="application/xml")
    if name == "policyStatus":
        root = xmlio.document("PolicyStatus")
        xmlio.add(root, "IsPublic", "true" if _policy_is_public(bucket) else "false")
        return common.xml_response(root)
    if name == "policy":
        text = bucket.sysmeta("Policy")
        if not text:
            raise S3Error("NoSuchBucketPolicy", BucketName=bucket.name)
        return web.Response(body=text.encode(), content_type="application/json")
    if name == "versioning":
        from proxy.s3 import versioning
        return versioning.get_config(bucket)
    data = access.ownership(bucket) if name == "ownershipControls" else bucket.json(SYSMETA[name])
    if data is None:
        raise S3Error(MISSING[name], BucketName=bucket.name)
    return common.xml_response(RENDER[name](data))


def _policy_is_public(bucket) -> bool:
    text = bucket.sysmeta("Policy")
    if not text:
        return False
    data = json.loads(text)
    for st in data.get("Statement", []):
        principal = st.get("Principal")
        if st.get("Effect") == "Allow" and (principal == "*" or principal == {"AWS": "*"}) \
                and not st.get("Condition"):
            return True
    return False


async def put(s3, name: str):
    bucket = await common.find_bucket(s3)
    if name == "policyStatus":
        raise S3Error("MethodNotAllowed", Method="PUT", ResourceType="policyStatus")
    permission = "WRITE_ACP" if name == "acl" else "FULL_CONTROL"
    access.check(s3, bucket, "s3:Put" + ACTIONS[name], permission)
    if name not in ("acl",) and not access.is_owner(s3, bucket) and name in ("policy",):
        raise S3Error("AccessDenied")
    body = await read_small(s3, policy_mod.MAX_POLICY_BYTES if name == "policy" else 256 * 1024)
    if name == "acl":
        acl = acl_mod.from_headers(s3.headers, bucket.owner)
        if acl is None:
            acl = acl_mod.from_xml(body, bucket.owner, access.shown_id(s3, bucket.owner))
        elif body.strip():
            raise S3Error("UnexpectedContent", "This request does not support content",
                          status=400)
        access.refuse_acl(bucket, acl)
        await _store(s3, bucket, "acl", acl.to_json())
        return common.empty(200)
    if name == "policy":
        policy_mod.parse(body, bucket.name)
        if _pab(bucket).get("BlockPublicPolicy") and '"*"' in body.decode("utf-8", "replace"):
            raise S3Error("AccessDenied")
        # Stored compact: a pretty-printed policy's newlines cannot travel in a metadata header
        # (s3cmd setpolicy sends the file as written). AWS, too, answers the policy minified.
        document = json.loads(body.decode("utf-8", "replace"))  # (parse() read it this way)
        compact = json.dumps(document, separators=(",", ":"))
        await _store(s3, bucket, "policy", compact)
        return common.empty(204)
    if name == "versioning":
        from proxy.s3 import versioning
        return await versioning.put_config(s3, bucket, body)
    data = PARSE[name](body)
    if name == "ownershipControls" and data == access.ENFORCED and \
            access.grants_outside(access.bucket_acl(bucket), bucket):
        # AWS: move the bucket ACL's grants to others (into a policy) before turning ACLs off
        raise S3Error("InvalidBucketAclWithObjectOwnership")
    await _store(s3, bucket, name, json.dumps(data))
    return common.empty(204 if name == "cors" else 200)


async def delete(s3, name: str):
    bucket = await common.find_bucket(s3)
    if name in ("acl", "versioning", "policyStatus"):
        raise S3Error("MethodNotAllowed", Method="DELETE", ResourceType=name)
    access.check(s3, bucket, "s3:Delete" + ACTIONS[name].replace("LifecycleConfiguration",
                                                                 "BucketLifecycle"),
                 "FULL_CONTROL")
    await _store(s3, bucket, name, "")
    return common.empty(204)


def _pab(bucket) -> dict:
    return bucket.json("Pab", {}) or {}


# -- tagging ----------------------------------------------------------------------------------
def parse_tagging(body: bytes) -> list[list[str]]:
    from proxy.s3.objects import check_tags
    root = xmlio.parse(body, "Tagging")
    tag_set = xmlio.child(root, "TagSet")
    if tag_set is None:
        raise S3Error("MalformedXML")
    pairs = []
    for tag in xmlio.children(tag_set, "Tag"):
        key, value = xmlio.text(tag, "Key"), xmlio.text(tag, "Value")
        if key is None or value is None:
            raise S3Error("MalformedXML")
        pairs.append((key, value))
    check_tags(pairs) if len(pairs) <= 10 else None
    if len(pairs) > 50:
        raise S3Error("InvalidTag", "Bucket tag count cannot be greater than 50")
    return [[k, v] for k, v in pairs]


def render_tagging(pairs) -> object:
    root = xmlio.document("Tagging")
    tag_set = xmlio.add(root, "TagSet")
    for key, value in pairs:
        tag = xmlio.add(tag_set, "Tag")
        xmlio.add(tag, "Key", key)
        xmlio.add(tag, "Value", value)
    return root


# -- cors -------------------------------------------------------------------------------------
def parse_cors(body: bytes) -> list[dict]:
    root = xmlio.parse(body, "CORSConfiguration")
    rules = []
    for rule in xmlio.children(root, "CORSRule"):
        methods = [m.text or "" for m in xmlio.children(rule, "AllowedMethod")]
        origins = [o.text or "" for o in xmlio.children(rule, "AllowedOrigin")]
        if not methods or not origins:
            raise S3Error("MalformedXML")
        for method in methods:
            if method not in CORS_METHODS:
                raise S3Error("InvalidRequest", f"Found unsupported HTTP method in CORS config. "
                              f"Unsupported method is {method}")
        max_age = xmlio.text(rule, "MaxAgeSeconds")
        if max_age is not None and not max_age.strip().isdigit():
            raise S3Error("MalformedXML")
        rules.append({"id": xmlio.text(rule, "ID"), "methods": methods, "origins": origins,
                      "headers": [h.text or "" for h in xmlio.children(rule, "AllowedHeader")],
                      "expose": [h.text or "" for h in xmlio.children(rule, "ExposeHeader")],
                      "max_age": int(max_age) if max_age else None})
    if not rules or len(rules) > 100:
        raise S3Error("MalformedXML")
    return rules


def render_cors(rules) -> object:
    root = xmlio.document("CORSConfiguration")
    for rule in rules:
        el = xmlio.add(root, "CORSRule")
        if rule.get("id"):
            xmlio.add(el, "ID", rule["id"])
        for header in rule["headers"]:
            xmlio.add(el, "AllowedHeader", header)
        for method in rule["methods"]:
            xmlio.add(el, "AllowedMethod", method)
        for origin in rule["origins"]:
            xmlio.add(el, "AllowedOrigin", origin)
        for header in rule["expose"]:
            xmlio.add(el, "ExposeHeader", header)
        if rule.get("max_age") is not None:
            xmlio.add(el, "MaxAgeSeconds", rule["max_age"])
    return root


def _wild(pattern: str, value: str) -> bool:
    import fnmatch
    return fnmatch.fnmatchcase(value.lower(), pattern.lower())


def match_cors(rules, origin: str, method: str, headers: list[str]) -> dict | None:
    for rule in rules or []:
        if method not in rule["methods"]:
            continue
        if not any(_wild(o, origin) for o in rule["origins"]):
            continue
        if all(any(_wild(p, h) for p in rule["headers"]) for h in headers if h):
            return rule
    return None


def cors_headers(rule: dict, origin: str, request_headers: list[str], preflight: bool) -> dict:
    out = {"Access-Control-Allow-Origin": "*" if rule["origins"] == ["*"] else origin,
           "Vary": "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"}
    if rule["origins"] != ["*"]:
        out["Access-Control-Allow-Credentials"] = "true"
    if preflight:
        out["Access-Control-Allow-Methods"] = ", ".join(rule["methods"])
        if request_headers:
            out["Access-Control-Allow-Headers"] = ", ".join(request_headers)
        if rule.get("max_age") is not None:
            out["Access-Control-Max-Age"] = str(rule["max_age"])
    if rule["expose"]:
        out["Access-Control-Expose-Headers"] = ", ".join(rule["expose"])
    return out


async def preflight(s3):
    origin = s3.headers.get("origin")
    method = s3.headers.get("access-control-request-method")
    if not origin or not method:
        raise S3Error("BadRequest", "Insufficient information. Origin request header needed.")
    bucket = await common.find_bucket(s3)
    wanted = [h.strip().lower() for h in
              s3.headers.get("access-control-request-headers", "").split(",") if h.strip()]
    rule = match_cors(bucket.json("Cors"), origin, method, wanted)
    if rule is None:
        raise S3Error("AccessForbidden", "CORSResponse: This CORS request is not allowed. This is "
                      "usually because the evalution of Origin, request method / "
                      "Access-Control-Request-Method or Access-Control-Request-Headers are not "
                      "whitelisted by the resource's CORS spec.", status=403)
    return common.empty(200, cors_headers(rule, origin, wanted, True))


# -- lifecycle --------------------------------------------------------------------------------
def parse_lifecycle(body: bytes) -> list[dict]:
    root = xmlio.parse(body, "LifecycleConfiguration")
    rules = []
    for rule in xmlio.children(root, "Rule"):
        status = xmlio.text(rule, "Status")
        if status not in ("Enabled", "Disabled"):
            raise S3Error("MalformedXML")
        prefix = xmlio.text(rule, "Prefix")
        filter_el = xmlio.child(rule, "Filter")
        if filter_el is not None:
            if xmlio.child(filter_el, "And") is not None or xmlio.child(filter_el, "Tag") \
                    is not None:
                raise not_implemented("Lifecycle filters on tags")
            prefix = xmlio.text(filter_el, "Prefix", prefix)
        expiration = xmlio.child(rule, "Expiration")
        days = None
        date = None
        if expiration is not None:
            days_text = xmlio.text(expiration, "Days")
            date = xmlio.text(expiration, "Date")
            if days_text is not None:
                if not days_text.isdigit() or int(days_text) < 1:
                    raise S3Error("InvalidArgument", "'Days' for Expiration action must be a "
                                  "positive integer")
                days = int(days_text)
            elif date is None and xmlio.text(expiration, "ExpiredObjectDeleteMarker") is None:
                raise S3Error("MalformedXML")
        for unsupported in ("Transition", "NoncurrentVersionTransition"):
            if xmlio.child(rule, unsupported) is not None:
                raise not_implemented(f"Lifecycle {unsupported}")
        abort = xmlio.child(rule, "AbortIncompleteMultipartUpload")
        rules.append({"id": xmlio.text(rule, "ID"), "status": status, "prefix": prefix or "",
                      "days": days, "date": date,
                      "abort_days": int(xmlio.text(abort, "DaysAfterInitiation", "0"))
                      if abort is not None else None})
    if not rules or len(rules) > 1000:
        raise S3Error("MalformedXML")
    return rules


def render_lifecycle(rules) -> object:
    root = xmlio.document("LifecycleConfiguration")
    for rule in rules:
        el = xmlio.add(root, "Rule")
        if rule.get("id"):
            xmlio.add(el, "ID", rule["id"])
        xmlio.add(xmlio.add(el, "Filter"), "Prefix", rule["prefix"])
        xmlio.add(el, "Status", rule["status"])
        if rule.get("days") or rule.get("date"):
            exp = xmlio.add(el, "Expiration")
            if rule.get("days"):
                xmlio.add(exp, "Days", rule["days"])
            else:
                xmlio.add(exp, "Date", rule["date"])
        if rule.get("abort_days") is not None:
            xmlio.add(xmlio.add(el, "AbortIncompleteMultipartUpload"), "DaysAfterInitiation",
                      rule["abort_days"])
    return root


def expiry_for(bucket, key: str, now: float) -> int | None:
    """X-Delete-At for a new object under the bucket's lifecycle Expiration rules (or None)."""
    rules = bucket.json("Lifecycle")
    if not rules:  # (most buckets: no lifecycle, nothing to import or walk per PUT)
        return None
    import datetime as dt
    best = None
    for rule in rules:
        if rule.get("status") != "Enabled" or not key.startswith(rule.get("prefix", "")):
            continue
        when = None
        if rule.get("days"):
            # S3 rounds to the next midnight UTC after the object's age reaches `days`.
            when = (int(now) // 86400 + rule["days"] + 1) * 86400
        elif rule.get("date"):
            try:
                when = int(dt.datetime.fromisoformat(rule["date"].replace("Z", "+00:00"))
                           .timestamp())
            except ValueError:
                continue
        if when is not None:
            best = when if best is None else min(best, when)
    return best


# -- ownership controls / public access block -----------------------------------------------
def parse_ownership(body: bytes) -> str:
    root = xmlio.parse(body, "OwnershipControls")
    rule = xmlio.child(root, "Rule")
    value = xmlio.text(rule, "ObjectOwnership") if rule is not None else None
    if value not in ("BucketOwnerPreferred", "ObjectWriter", "BucketOwnerEnforced"):
        raise S3Error("MalformedXML")
    return value


def render_ownership(value) -> object:
    root = xmlio.document("OwnershipControls")
    xmlio.add(xmlio.add(root, "Rule"), "ObjectOwnership", value)
    return root


def parse_pab(body: bytes) -> dict:
    root = xmlio.parse(body, "PublicAccessBlockConfiguration")
    out = {}
    for field in PAB_FIELDS:
        value = xmlio.text(root, field, "false").strip().lower()
        if value not in ("true", "false"):
            raise S3Error("MalformedXML")
        out[field] = value == "true"
    return out


def render_pab(data) -> object:
    root = xmlio.document("PublicAccessBlockConfiguration")
    for field in PAB_FIELDS:
        xmlio.add(root, field, "true" if data.get(field) else "false")
    return root


PARSE = {"tagging": parse_tagging, "cors": parse_cors, "lifecycle": parse_lifecycle,
         "ownershipControls": parse_ownership, "publicAccessBlock": parse_pab}
RENDER = {"tagging": render_tagging, "cors": render_cors, "lifecycle": render_lifecycle,
          "ownershipControls": render_ownership, "publicAccessBlock": render_pab}


async def list_versions(s3):
    """ListObjectVersions: every version (and delete marker) of a versioned bucket; in one that
    never was, each key is its one version "null" (proxy/s3/versioning.py)."""
    from proxy.s3 import versioning
    return await versioning.list_versions(s3)
