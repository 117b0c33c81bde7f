"""Swift's staticweb: a container served as a web site, to anonymous readers (or X-Web-Mode: true).

Container metadata drives it: X-Container-Meta-Web-Index (index object per "directory"),
-Web-Listings (HTML listings when there is no index), -Web-Listings-Css, -Web-Listings-Label,
-Web-Error (<status><suffix> objects used as error pages), -Web-Directory-Type (the content type
of directory markers, default application/directory). Behaviour follows Swift's middleware:
  * container or "directory" path without a trailing slash -> 301 to the same path with one;
  * index object present -> it; else listing when enabled; else 404 (with the error page);
  * a directory marker object (that content type, at most 1 byte) counts as absent.
serve() answers None when staticweb does not apply, and the request goes the normal way.
"""
from __future__ import annotations

import dataclasses
import html
import json
from urllib.parse import quote

from aiohttp import web

from strato.truth import is_true
from proxy import tempurl
from proxy.context import Ctx
from proxy.errors import SwiftError

ORIGINAL_PATH = "strato.original_path"  # request key: the client's path before domain_remap


def applies(ctx: Ctx) -> bool:
    if ctx.method not in ("GET", "HEAD") or ctx.container is None:
        return False
    # Anonymous readers, TempURL holders (a prefix TempURL browses the site, as in Swift), or
    # anyone asking with X-Web-Mode.
    return ctx.identity is None or ctx.tempurl or is_true(ctx.headers.get("X-Web-Mode"))


def human_readable(value: int) -> str:
    """Swift's size rendering in listings: 1023, 1Ki, 5Mi..."""
    value, index, suffixes = float(value), -1, "KMGTPEZY"
    while value >= 1024 and index + 1 < len(suffixes):
        index += 1
        value = round(value / 1024)
    return "%d" % value if index == -1 else "%d%si" % (round(value), suffixes[index])


@dataclasses.dataclass
class _Site:
    ctx: Ctx
    index: str
    error: str
    listings: str
    label: str
    css: str
    dir_type: str

    # -- answers ----------------------------------------------------------------------------------
    def redirect_with_slash(self) -> web.Response:
        request = self.ctx.request
        path = request.get(ORIGINAL_PATH) or request.raw_path.split("?", 1)[0]
        host = request.headers.get("Host", request.host)
        raise SwiftError(301, "", headers={"Location": f"{request.scheme}://{host}{path}/"})

    async def error_page(self, status: int, body: bytes = b"") -> web.Response:
        """The status, with the container's <status><web-error> object as body when it exists."""
        if self.error:
            core, ctx = self.ctx.core, self.ctx
            page = await core.object_read("GET", ctx.account, ctx.container,
                                          f"{status}{self.error}", {})
            if 200 <= page.status < 300:
                return web.Response(status=status, body=await page.read(), headers={
                    "Content-Type": page.headers.get("Content-Type", "text/html")})
            await page.read()
        raise SwiftError(status, body.decode() if body else None)

    async def listing(self, prefix: str) -> web.StreamResponse:
        ctx = self.ctx
        label = ctx.request.path
        if self.label:
            label = "%s/%s" % (self.label, "/".join(label.split("/")[4:]))
        if not is_true(self.listings):
            body = ("<!DOCTYPE html>\n<html>\n<head>\n<title>Listing of %s</title>\n"
                    % html.escape(label))
            body += self._style(prefix, disabled=True)
            body += ("</head>\n<body>  <h1>Web Listing Disabled</h1>   <p>The owner of this web "
                     "site has disabled web listing.   <p>If you are the owner of this web site, "
                     "you can enable   web listing by setting X-Container-Meta-Web-Listings.</p>")
            if self.index:
                body += ("<h1>Index File Not Found</h1> <p>The owner of this web site has set  "
                         "<b>X-Container-Meta-Web-Index: %s</b>.  However, this file is not "
                         "found.</p>" % html.escape(self.index))
            body += " </body>\n</html>\n"
            return await self.error_page(404, body.encode())
        params = {"delimiter": "/", "format": "json"}
        if prefix:
            params["prefix"] = prefix
        result = await ctx.core.container_read("GET", ctx.account, ctx.container, params)
        raw = await result.read()
        if not 200 <= result.status < 300:
            return await self.error_page(result.status)
        rows = json.loads(raw) if raw else []
        if prefix and not rows:
            return await self.error_page(404)
        qs = tempurl.listing_query(ctx.query) if ctx.tempurl else ""
        out = ["<!DOCTYPE html>\n<html>\n <head>\n  <title>Listing of %s</title>\n"
               % html.escape(label), self._style(prefix),
               " </head>\n <body>\n  <h1 id=\"title\">Listing of %s</h1>\n  <table id=\"listing\">\n"
               "   <tr id=\"heading\">\n    <th class=\"colname\">Name</th>\n"
               "    <th class=\"colsize\">Size</th>\n    <th class=\"coldate\">Date</th>\n   </tr>\n"
               % html.escape(label)]
        granted = (ctx.query.get("temp_url_prefix") or "") if ctx.tempurl else ""
        if len(prefix) > len(granted):  # no way up out of what a prefix TempURL grants
            out.append("   <tr id=\"parent\" class=\"item\">\n    <td class=\"colname\"><a href=\"../%s\">"
                       "../</a></td>\n    <td class=\"colsize\">&nbsp;</td>\n"
                       "    <td class=\"coldate\">&nbsp;</td>\n   </tr>\n" % qs)
        for row in rows:
            if "subdir" in row:
                sub = row["subdir"][len(prefix):]
                out.append("   <tr class=\"item subdir\">\n    <td class=\"colname\"><a href=\"./%s\">"
                           "%s</a></td>\n    <td class=\"colsize\">&nbsp;</td>\n"
                           "    <td class=\"coldate\">&nbsp;</td>\n   </tr>\n"
                           % (quote(sub).replace(".", "%2E") + qs, html.escape(sub)))
        for row in rows:
            if "name" in row:
                name = row["name"][len(prefix):]
                types = " ".join("type-" + html.escape(t.lower())
                                 for t in row.get("content_type", "").split("/"))
                modified = html.escape(row.get("last_modified", "")).split(".")[0].replace("T", " ")
                out.append("   <tr class=\"item %s\">\n    <td class=\"colname\"><a href=\"./%s\">%s</a>"
                           "</td>\n    <td class=\"colsize\">%s</td>\n    <td class=\"coldate\">%s</td>\n"
                           "   </tr>\n" % (types, quote(name).replace(".", "%2E") + qs, html.escape(name),
                                           human_readable(row.get("bytes", 0)), modified))
        out.append("  </table>\n </body>\n</html>\n")
        body = "".join(out).encode()
        headers = {"Content-Type": "text/html; charset=UTF-8"}
        if ctx.method == "HEAD":
            headers["Content-Length"] = str(len(body))
            return web.Response(status=200, headers=headers)
        return web.Response(status=200, body=body, headers=headers)

    def _style(self, prefix: str, disabled: bool = False) -> str:
        if self.css:
            if self.css.startswith(("/", "http://", "https://")):
                path = quote(self.css, ":/")
            else:
                path = "../" * prefix.count("/") + quote(self.css)
            return '  <link rel="stylesheet" type="text/css" href="%s" />\n' % path
        if disabled:
            return ("  <style type=\"text/css\">\n   h1 {font-size: 1em; font-weight: bold;}\n"
                    "   p {font-size: 2}\n  </style>\n")
        return ("  <style type=\"text/css\">\n   h1 {font-size: 1em; font-weight: bold;}\n"
                "   th {text-align: left; padding: 0px 1em 0px 1em;}\n"
                "   td {padding: 0px 1em 0px 1em;}\n   a {text-decoration: none;}\n  </style>\n")

    async def status_of(self, obj: str) -> int:
        """Status of a GET of obj, a directory marker counting as 404 (a HEAD: nothing is sent)."""
        ctx = self.ctx
        res = await ctx.core.object_read("HEAD", ctx.account, ctx.container, obj, {})
        await res.read()
        if 200 <= res.status < 400:
            length = int(res.headers.get("Content-Length") or 0)
            if res.headers.get("Content-Type", "").split(";")[0] == self.dir_type and length <= 1:
                return 404
        return res.status


async def serve(ctx: Ctx, route) -> web.StreamResponse | None:
    """The static-web answer, or None to serve the request normally. route(ctx) serves a ctx."""
    info = await ctx.core.container_info(ctx.account, ctx.container)
    if not info.exists:
        return None
    meta = info.meta("container")
    site = _Site(ctx, meta.get("web-index", "").strip(), meta.get("web-error", "").strip(),
                 meta.get("web-listings", "").strip(), meta.get("web-listings-label", "").strip(),
                 meta.get("web-listings-css", "").strip(),
                 meta.get("web-directory-type", "").strip() or "application/directory")
    ctx.authorize(info.get("X-Container-Read"))
    if ctx.obj is None:
        if not site.listings and not site.index:
            if ctx.tempurl:  # a TempURL never lists a container by itself
                raise SwiftError(401, "Unauthorized")
            if is_true(ctx.headers.get("X-Web-Mode")):
                raise SwiftError(404)
            return None
        if not ctx.request.path.endswith("/"):
            return site.redirect_with_slash()
        if site.index and await site.status_of(site.index) != 404:
            return await route(dataclasses.replace(ctx, obj=site.index))
        return await site.listing("")
    status = await site.status_of(ctx.obj)
    if status < 400:
        return await route(ctx)
    if status != 404:
        raise SwiftError(status)
    if not site.listings and not site.index:
        raise SwiftError(404)
    if site.index:
        index = ctx.obj.rstrip("/") + "/" + site.index
        if await site.status_of(index) < 400:
            if not ctx.obj.endswith("/"):
                return site.redirect_with_slash()
            return await route(dataclasses.replace(ctx, obj=index))
    if not ctx.obj.endswith("/"):
        probe = await ctx.core.container_read("GET", ctx.account, ctx.container, {
            "limit": "1", "delimiter": "/", "prefix": ctx.obj + "/", "format": "json"})
        raw = await probe.read()
        if 200 <= probe.status < 300 and raw and json.loads(raw):
            return site.redirect_with_slash()
        return await site.error_page(404)
    return await site.listing(ctx.obj)
