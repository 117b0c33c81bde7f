"""S3 request XML: entity references are dropped, never expanded or fetched (Swift's s3api reads
`<ID>id&xxe;</ID>` as "id"); and absolute-form request targets are reduced to their path."""
import pytest

from proxy.s3 import xmlio
from proxy.s3.context import raw_target
from proxy.s3.errors import S3Error

NS = "http://s3.amazonaws.com/doc/2006-03-01/"


def test_external_entity_is_dropped_not_fetched(tmp_path):
    secret = tmp_path / "secret.conf"
    secret.write_text("[swift-hash]\nsuffix = leaked\n")
    body = (f'<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file://{secret}"> ]>'
            f'<Delete xmlns="{NS}"><Object><Key>k&xxe;</Key></Object></Delete>').encode()
    root = xmlio.parse(body, "Delete")
    assert xmlio.text(xmlio.child(root, "Object"), "Key") == "k"


def test_internal_entities_do_not_expand():
    laughs = b'<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">' + b"".join(
        b'<!ENTITY %c "&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;">' % ((ord("a") + i + 1,) + (ord("a") + i,) * 10)
        for i in range(8)) + b']><Tagging><TagSet>&i;x</TagSet></Tagging>'
    root = xmlio.parse(laughs, "Tagging")
    assert xmlio.text(root, "TagSet") == "x"


def test_character_references_and_namespaced_attributes_still_read():
    body = (f'<AccessControlPolicy xmlns="{NS}"><Grantee xmlns:xsi="{xmlio.XSI}" '
            f'xsi:type="CanonicalUser"><ID>a&amp;b&#65;</ID></Grantee></AccessControlPolicy>').encode()
    root = xmlio.parse(body, "AccessControlPolicy")
    grantee = xmlio.child(root, "Grantee")
    assert grantee.get(f"{{{xmlio.XSI}}}type") == "CanonicalUser"
    assert xmlio.text(grantee, "ID") == "a&bA"


@pytest.mark.parametrize("body", [b"<Delete><Object>", b"<Delete>&undeclared;</Delete>",
                                  b"<Other/>", b"", b"<Delete/><Delete/>"])
def test_malformed_bodies_stay_malformed(body):
    with pytest.raises(S3Error) as info:
        xmlio.parse(body, "Delete")
    assert info.value.code == "MalformedXML"


class _Req:
    def __init__(self, raw_path):
        self.raw_path = raw_path


@pytest.mark.parametrize("sent, path", [
    ("/b/k?x=1", "/b/k?x=1"),
    ("http://127.0.0.1:8080/b?X-Amz-Date=1", "/b?X-Amz-Date=1"),
    ("https://host/b/k%20x", "/b/k%20x"),
    ("http://host?acl", "/?acl"),
    ("http://host", "/"),
])
def test_absolute_form_target_is_signed_by_its_path(sent, path):
    assert raw_target(_Req(sent)) == path


def test_carriage_return_in_a_key_survives_an_xml_parser():
    """A bare CR in XML text reads back as LF (XML end-of-line handling): listings and error
    documents carry it as &#13; (rclone lists without encoding-type=url by default)."""
    import xml.etree.ElementTree as ET
    root = xmlio.document("ListBucketResult")
    xmlio.add(xmlio.add(root, "Contents"), "Key", "a\rb\r\nc\td")
    body = xmlio.render(root)
    assert b"\r" not in body and b"a&#13;b&#13;\nc\td" in body
    assert ET.fromstring(body).find(f"{{{NS}}}Contents/{{{NS}}}Key").text == "a\rb\r\nc\td"
    error = S3Error("NoSuchKey", Key="x\ry").to_xml()
    assert ET.fromstring(error).find("Key").text == "x\ry"
