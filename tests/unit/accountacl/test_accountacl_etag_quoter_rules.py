"""etag_quoter's pure parts: the stored flag and the quoting of an answer's ETag."""
import asyncio

from multidict import CIMultiDict

from proxy import etag_quoter
from proxy.core import Info


def test_flags_become_sysmeta_as_swift_stores_them():
    assert etag_quoter.sysmeta_for({"X-Container-Rfc-Compliant-Etags": "t"}, "container") == {
        "X-Container-Sysmeta-Rfc-Compliant-Etags": "True"}
    assert etag_quoter.sysmeta_for({"X-Account-Rfc-Compliant-Etags": "no"}, "account") == {
        "X-Account-Sysmeta-Rfc-Compliant-Etags": "False"}
    assert etag_quoter.sysmeta_for({"X-Account-Rfc-Compliant-Etags": ""}, "account") == {
        "X-Account-Sysmeta-Rfc-Compliant-Etags": ""}
    assert etag_quoter.sysmeta_for({"X-Remove-Container-Rfc-Compliant-Etags": "x"},
                                   "container") == {"X-Container-Sysmeta-Rfc-Compliant-Etags": ""}
    assert etag_quoter.sysmeta_for({}, "container") == {}


def test_container_wins_then_account_then_default():
    class Core:
        def __init__(self, container, account):
            self.c, self.a = container, account

        async def container_info(self, account, container):
            return Info(204, CIMultiDict(self.c))

        async def account_info(self, account):
            return Info(204, CIMultiDict(self.a))

    c_true = {"X-Container-Sysmeta-Rfc-Compliant-Etags": "True"}
    c_false = {"X-Container-Sysmeta-Rfc-Compliant-Etags": "False"}
    a_true = {"X-Account-Sysmeta-Rfc-Compliant-Etags": "True"}
    for container, account, want in ((c_true, {}, True), (c_false, a_true, False),
                                     ({}, a_true, True), ({}, {}, False)):
        assert asyncio.run(etag_quoter.wanted(Core(container, account), "AUTH_a", "c")) is want


def test_only_bare_etags_are_quoted():
    class Req(dict):
        pass

    class Resp:
        def __init__(self, etag):
            self.headers = CIMultiDict({"ETag": etag})

    asked = Req(quote_etag=True)
    for given, shown in (("abc", '"abc"'), ('"abc"', '"abc"'), ('W/"abc"', 'W/"abc"')):
        resp = Resp(given)
        asyncio.run(etag_quoter.on_prepare(asked, resp))
        assert resp.headers["ETag"] == shown
    resp = Resp("abc")
    asyncio.run(etag_quoter.on_prepare(Req(), resp))
    assert resp.headers["ETag"] == "abc"
