"""libiscsi's command-line initiators against a real target on loopback."""
import pytest

pytestmark = pytest.mark.timeout(120)


def test_discovery(target, tools):
    tools.need("iscsi-ls")
    out = tools.run("iscsi-ls", "-s", f"iscsi://{target.portal}").stdout
    assert f"Target:{target.iqn} Portal:{target.portal},1" in out
    assert "Lun:0" in out and "DIRECT_ACCESS" in out and "Size:63M" in out   # last LBA x 512


def test_inquiry(target, tools):
    tools.need("iscsi-inq")
    out = tools.run("iscsi-inq", target.url).stdout
    assert "Vendor:STRATO" in out and "Peripheral Device Type:DIRECT_ACCESS" in out


def test_inquiry_with_header_and_data_digests(target, tools):
    tools.need("iscsi-inq")
    out = tools.run("iscsi-inq", target.url + "?header_digest=crc32c").stdout
    assert "Vendor:STRATO" in out


def test_read_capacity_16(target, tools):
    tools.need("iscsi-readcapacity16")
    out = tools.run("iscsi-readcapacity16", target.url).stdout
    assert "Total size:67108864" in out and "LOGICAL BLOCK LENGTH IN BYTES:512" in out


def test_unknown_target_refused(target, tools):
    tools.need("iscsi-inq")
    result = tools.run("iscsi-inq", f"iscsi://{target.portal}/iqn.2026-11.org.strato:nope/0",
                       check=False)
    assert result.returncode != 0


def test_chap_one_way(chap_target, tools):
    tools.need("iscsi-inq")
    out = tools.run("iscsi-inq", chap_target.url_with("alice", "wonderland12")).stdout
    assert "Vendor:STRATO" in out


@pytest.mark.parametrize("user,secret", [("alice", "wrong-secret"), ("bob", "wonderland12")])
def test_chap_wrong_credentials_refused(chap_target, tools, user, secret):
    tools.need("iscsi-inq")
    result = tools.run("iscsi-inq", chap_target.url_with(user, secret), check=False)
    assert result.returncode != 0
    assert "Authentication failure" in result.stderr + result.stdout


def test_chap_required(chap_target, tools):
    tools.need("iscsi-inq")
    assert tools.run("iscsi-inq", chap_target.url, check=False).returncode != 0


def test_chap_mutual(chap_target, tools):
    tools.need("iscsi-inq")
    url = chap_target.url_with("alice", "wonderland12") + \
        "?target_user=tgt&target_password=looking-glass"
    assert "Vendor:STRATO" in tools.run("iscsi-inq", url).stdout
    bad = chap_target.url_with("alice", "wonderland12") + \
        "?target_user=tgt&target_password=not-the-target"
    assert tools.run("iscsi-inq", bad, check=False).returncode != 0
