"""Thread-CPU cost of every step of an S3 GET in the proxy, next to the Swift GET's own steps.

Runs the proxy application of a running all-in-one in this process (its run/strato.toml, so the
same rings, nodes and keys) and a second little server whose handler receives the request boto3
sends for get_object (captured by capture.py, sent over loopback as it is on the wire) and a
Swift GET with a token: each step is then timed on that real aiohttp Request, N times in a row
(thread CPU, best of REPS), the I/O-bound node request excepted (it is the same for both APIs).

    get_steps.py --aio AIO_JSON [--bucket s3bench-4k --key o0 --container bench-4k] [-n 2000]
                 [--put-size 4096]

Then the same for the S3-only work of a PutObject (boto3's put_object of --put-size random bytes,
its Expect line dropped; nothing is stored), including the body as a PutObject reads it
(verified_body over an aiohttp StreamReader holding the captured body; the reader's set-up is
subtracted). Prints µs per call. Steps with "(sum)" are the whole that the indented steps make up.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import os
import sys
import time

from aiohttp import web
from multidict import CIMultiDict

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))  # the tree this script lives in

import capture  # noqa: E402  (benchmarks/s3/capture.py)
from proxy import account_acl, limits  # noqa: E402
from proxy import headers as hdrs  # noqa: E402
from proxy.app import create_app  # noqa: E402
from proxy.context import AUTH, CORE, S3_HANDLER  # noqa: E402
from proxy.httpserver import SwiftAppRunner  # noqa: E402
from proxy.request_ids import new_request_id  # noqa: E402
from proxy.s3 import addressing, context, handler, objects, payload, sigv4, versioning  # noqa: E402
from proxy.s3 import access, sse  # noqa: E402
from proxy.s3.credentials import from_config  # noqa: E402
from strato import config as config_mod  # noqa: E402


def timed(fn, n: int, reps: int) -> float:
    best = float("inf")
    for _ in range(reps):
        t0 = time.thread_time_ns()
        for _ in range(n):
            fn()
        best = min(best, time.thread_time_ns() - t0)
    return best / n / 1000


async def atimed(fn, n: int, reps: int) -> float:
    best = float("inf")
    for _ in range(reps):
        t0 = time.thread_time_ns()
        for _ in range(n):
            await fn()
        best = min(best, time.thread_time_ns() - t0)
    return best / n / 1000


@contextlib.asynccontextmanager
async def _node_answer(opening):
    """The node's answer to a GET for the steps that build the client's answer from it; its
    body is read and the answer closed after them (the I/O itself is not timed)."""
    result = await opening
    try:
        yield result
        await result.read()
    finally:
        result.close()


def _response(headers_of, extra: dict):
    """A step: the client's StreamResponse from headers_of() plus extra (Content-Length left to
    aiohttp, as both APIs' GETs do)."""
    def response():
        h = headers_of()
        h.popall("Content-Length", [None])
        h.update(extra)
        return web.StreamResponse(status=200, headers=h)
    return response


async def s3_steps(request: web.Request, app: web.Application, config, n: int, reps: int):
    core, settings = app[CORE], _settings(config)
    credentials = from_config(config)
    out = []
    t = lambda name, fn: out.append((name, timed(fn, n, reps)))  # noqa: E731
    request_id = new_request_id()

    async def build():
        return await context.build(request, core, settings, config.proxy.max_file_size,
                                   credentials, request_id)
    out.append(("context.build (sum)", await atimed(build, n, reps)))
    headers = context.lower_headers(request)
    target = context.raw_target(request)
    out.append(("  authenticate (sum)", await atimed(
        lambda: context.authenticate(request, headers, credentials, settings, target=target),
        n, reps)))
    t("  lower_headers", lambda: context.lower_headers(request))
    t("  raw_target", lambda: context.raw_target(request))
    target = context.raw_target(request)
    pairs = list(request.query.items())
    t("  sigv4.parse", lambda: sigv4.parse(request.method, headers, pairs))
    signed = sigv4.parse(request.method, headers, pairs)
    t("  check_payload_hash", lambda: sigv4.check_payload_hash(signed.payload_hash))
    out.append(("  credentials.lookup",
                await atimed(lambda: credentials.lookup(signed.credential.access_key), n, reps)))
    principal = await credentials.lookup(signed.credential.access_key)
    try:  # (older trees want the current time given)
        sigv4.check_time(signed, None, settings.max_clock_skew)
        t("  check_time", lambda: sigv4.check_time(signed, None, settings.max_clock_skew))
    except TypeError:
        t("  check_time (+ now)", lambda: sigv4.check_time(
            signed, dt.datetime.now(dt.timezone.utc), settings.max_clock_skew))
    raw_path = target.split("?", 1)[0]
    t("  sigv4.verify", lambda: sigv4.verify(signed, principal.secret, request.method, raw_path,
                                             pairs, headers))
    cred = signed.credential
    t("    signing_key (cached)", lambda: sigv4.signing_key(principal.secret, cred.date,
                                                          cred.region, cred.service))
    t("    canonical_headers", lambda: sigv4.canonical_headers(headers, signed.signed_headers))
    t("    canonical_uri", lambda: sigv4.canonical_uri(raw_path))
    canonical = sigv4.canonical_for(signed, request.method, raw_path, pairs, headers)
    t("    string_to_sign (sha256)",
      lambda: sigv4.string_to_sign(signed.amz_date, cred.scope, canonical))
    key = sigv4.signing_key(principal.secret, cred.date, cred.region, cred.service)
    sts = sigv4.string_to_sign(signed.amz_date, cred.scope, canonical)
    t("    hmac", lambda: sigv4._sign(key, sts))
    t("  payload.check_request", lambda: payload.check_request(request.method, headers,
                                                               request.query, True))
    t("  addressing.target", lambda: addressing.target(target, headers.get("host"),
                                                       settings.domain))
    s3 = await build()
    fields = [getattr(s3, f.name) for f in dataclasses.fields(s3)]
    t("  S3Request(...)", lambda: type(s3)(*fields))
    t("handler._ids", lambda: handler._ids(request_id))
    t("new_request_id", new_request_id)
    t("check_bucket_name", lambda: addressing.check_bucket_name(s3.bucket, strict=False))

    async def vers():
        return await versioning.object_request(s3, "GET", s3.query)
    out.append(("versioning.object_request (find_bucket)", await atimed(vers, n, reps)))
    _, bucket = await vers()
    t("access.is_owner + check", lambda: (access.is_owner(s3, bucket),
                                         access.check(s3, bucket, "s3:GetObject", "READ", s3.key)))
    async with _node_answer(core.object_read("GET", bucket.account, bucket.name, s3.key)) as result:
        bh = result.backend_headers
        t("sse.check_read + is_encrypted", lambda: (sse.is_encrypted(bh), sse.check_read(s3, bh)))
        t("answer_headers", lambda: objects.answer_headers(s3, result, None))
        t("answer headers + ids + StreamResponse", _response(
            lambda: objects.answer_headers(s3, result, None), handler._ids(request_id)))
    return out


async def s3_put_steps(request: web.Request, app: web.Application, config, n: int, reps: int):
    """The S3-only work of a PutObject (the node fan-out excepted): context, body plan, stored
    headers, body verification (SHA-256 + CRC32 of the captured body), the answer."""
    from proxy.s3 import common, sse
    from proxy.s3.body import object_length
    core, settings = app[CORE], _settings(config)
    credentials = from_config(config)
    out = []
    t = lambda name, fn: out.append((name, timed(fn, n, reps)))  # noqa: E731
    body = await request.read()
    request_id = new_request_id()

    async def build():
        return await context.build(request, core, settings, config.proxy.max_file_size,
                                   credentials, request_id)
    out.append(("context.build (sum)", await atimed(build, n, reps)))
    s3 = await build()
    target = context.raw_target(request)
    out.append(("  authenticate (sum)", await atimed(
        lambda: context.authenticate(request, s3.headers, credentials, settings, target=target),
        n, reps)))
    t("    sigv4.verify", lambda: sigv4.verify(s3.signed, s3.principal.secret, "PUT",
                                               target.split("?", 1)[0], [], s3.headers))
    t("  lower_headers", lambda: context.lower_headers(request))
    t("  payload.check_request (PUT)", lambda: payload.check_request(
        "PUT", s3.headers, request.query, True))
    bucket = await common.find_bucket(s3)
    out.append(("find_bucket", await atimed(lambda: common.find_bucket(s3), n, reps)))
    t("access.check", lambda: access.check(s3, bucket, "s3:PutObject", "WRITE", s3.key))
    t("verifier_for + object_length", lambda: object_length(s3, payload.verifier_for(s3)))
    t("new_object_headers", lambda: objects.new_object_headers(s3, bucket))
    t("sse.for_write", lambda: sse.for_write(s3, {}))

    def verify_body():
        verifier = payload.verifier_for(s3)
        for _ in verifier.feed(body):
            pass
        verifier.finish(len(body))
    t(f"body verification ({len(body)} B: SHA-256, checksum)", verify_body)
    try:
        from proxy.s3.body import verified_body
    except ImportError:  # (a tree without it)
        verified_body = None
    if verified_body is not None:
        # The path a PutObject takes: the body read from a request stream by verified_body.
        loop = asyncio.get_running_loop()
        stream_of = _body_stream(body, loop)

        async def read_verified():
            async for _ in verified_body(_WithContent(stream_of()), payload.verifier_for(s3)):
                pass

        async def stream_only():
            return stream_of()
        setup = await atimed(stream_only, n, reps)
        out.append((f"verifier_for + verified_body ({len(body)} B, from a request stream)",
                    await atimed(read_verified, n, reps) - setup))
    extra = handler._ids(request_id)

    def answer():
        headers = {"ETag": '"0123456789abcdef0123456789abcdef"',
                   "x-amz-checksum-crc32": "AAAAAA=="}
        response = common.empty(200, headers)
        response.headers.update(extra)
        return response
    t("answer (common.empty + ids)", answer)
    return out


class _WithContent:
    """What verified_body reads of an S3Request: request.content, the body stream."""

    def __init__(self, content):
        self.request = self
        self.content = content


def _body_stream(body: bytes, loop):
    """A factory of aiohttp StreamReaders that hold `body` and its end, as the server fills them."""
    from aiohttp import streams

    class _Protocol:  # what StreamReader asks of its protocol; nothing here pauses
        _reading_paused = False
        connected = True

        def pause_reading(self, **_):
            pass

        def resume_reading(self, **_):
            pass

    protocol = _Protocol()

    def make():
        reader = streams.StreamReader(protocol, 2 ** 16, loop=loop)
        reader.feed_data(body)
        reader.feed_eof()
        return reader
    return make


def _settings(config):
    try:  # the handler's snapshot of [s3] where the tree has one (older trees read the section)
        from proxy.s3.settings import Settings
        return Settings.of(config.s3)
    except ImportError:
        return config.s3


async def swift_steps(request: web.Request, app: web.Application, config, n: int, reps: int):
    core, auth = app[CORE], app[AUTH]
    out = []
    t = lambda name, fn: out.append((name, timed(fn, n, reps)))  # noqa: E731
    t("split_path + check_names", lambda: limits.check_names(*limits.split_path(
        request.raw_path)[1:]))
    version, account, container, obj = limits.split_path(request.raw_path)
    t("authenticate", lambda: auth.authenticate(request.headers))
    identity = auth.authenticate(request.headers)
    out.append(("account_acl.resolve", await atimed(
        lambda: account_acl.resolve(core, identity, account), n, reps)))
    out.append(("container_info (cached)", await atimed(
        lambda: core.container_info(account, container), n, reps)))
    t("for_read headers", lambda: hdrs.for_read(request.headers))
    async with _node_answer(core.object_read("GET", account, container, obj,
                                             headers=hdrs.for_read(request.headers))) as result:
        t("answer headers + StreamResponse", _response(lambda: CIMultiDict(result.headers),
                                                       {"Accept-Ranges": "bytes"}))
    return out


async def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--aio", required=True)
    parser.add_argument("--bucket", default="s3bench-4k")
    parser.add_argument("--container", default="bench-4k")
    parser.add_argument("--key", default="o0")
    parser.add_argument("--put-size", type=int, default=4096)
    parser.add_argument("-n", type=int, default=2000)
    parser.add_argument("--reps", type=int, default=7)
    args = parser.parse_args(argv)
    aio = json.load(open(args.aio))
    config = config_mod.load(os.path.join(aio["data_dir"], "run", "strato.toml"))
    app = create_app(config, run_expirer=False)
    runner = SwiftAppRunner(app)
    await runner.setup()  # the proxy's resources (client session, rings) as it serves them
    results = {}

    async def bench(request: web.Request) -> web.Response:
        kind = "swift"
        if request.headers.get("Authorization"):
            kind = "s3 PUT" if request.method == "PUT" else "s3"
        steps = {"s3": s3_steps, "s3 PUT": s3_put_steps, "swift": swift_steps}[kind]
        results[kind] = await steps(request, app, config, args.n, args.reps)
        return web.Response(text="ok")

    bench_app = web.Application(handler_args={"max_field_size": 16384})
    bench_app.router.add_route("*", "/{tail:.*}", bench)
    brunner = web.AppRunner(bench_app)
    await brunner.setup()
    site = web.TCPSite(brunner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]

    client = capture.client_from_aio(args.aio)
    head, _ = capture.captured(client, "get_object", Bucket=args.bucket, Key=args.key)
    # The head names the all-in-one's Host (it is signed): only the socket goes elsewhere.
    swift = aio["swift"]
    import urllib.request
    req = urllib.request.Request(swift["auth_url"], headers={"X-Auth-User": swift["user"],
                                                             "X-Auth-Key": swift["key"]})
    with urllib.request.urlopen(req) as got:
        token, url = got.headers["X-Auth-Token"], got.headers["X-Storage-Url"]
    path = url.split("://", 1)[1].split("/", 1)[1]
    host = url.split("://", 1)[1].split("/", 1)[0]
    swift_head = (f"GET /{path}/{args.container}/{args.key} HTTP/1.1\r\nHost: {host}\r\n"
                  f"User-Agent: wrk\r\nX-Auth-Token: {token}\r\n\r\n").encode()
    put_head, put_body = capture.captured(client, "put_object", Bucket=args.bucket,
                                          Key=args.key + "-steps", Body=os.urandom(args.put_size))
    put_head = put_head.replace(b"\r\nExpect: 100-continue\r\n", b"\r\n")  # (not signed)
    for raw in (head, swift_head, put_head + put_body):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(raw)
        await writer.drain()
        await reader.readuntil(b"ok")
        writer.close()
    for kind in ("s3", "swift", "s3 PUT"):
        print(f"{kind}{'' if kind.endswith('PUT') else ' GET'} steps (µs of thread CPU per call, best of {args.reps} x {args.n}):")
        for name, us in results[kind]:
            print(f"  {name:<44} {us:8.2f}")
    await brunner.cleanup()
    await runner.cleanup()
    assert app[S3_HANDLER] is not None


if __name__ == "__main__":
    asyncio.run(main())
