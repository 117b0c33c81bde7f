"""Form POST (Swift's formpost middleware) through a real cluster: a browser-style
multipart/form-data POST, signed with a TempURL key, stores its files as objects; every refusal
is Swift's answer and stores nothing."""
import hashlib
import hmac
import time
import uuid
from urllib.parse import urlsplit

import pytest
import requests

pytestmark = pytest.mark.timeout(60)
KEY = "form-key"


def sign(path, redirect="", max_size=1024, max_count=3, expires=None, key=KEY,
         digest=hashlib.sha256):
    expires = int(time.time()) + 60 if expires is None else expires
    body = f"{path}\n{redirect}\n{max_size}\n{max_count}\n{expires}"
    fields = {"max_file_size": str(max_size), "max_file_count": str(max_count),
              "expires": str(expires),
              "signature": hmac.new(key.encode(), body.encode(), digest).hexdigest()}
    if redirect:
        fields["redirect"] = redirect
    return fields


@pytest.fixture
def form(swift):
    """(container, url of its 'up/' prefix, that path as signed)."""
    c = f"fp-{uuid.uuid4().hex[:10]}"
    assert swift("PUT", f"/{c}", headers={"X-Container-Meta-Temp-URL-Key": KEY}).status_code \
        == 201
    url = f"{swift.url}/{c}/up/"
    return c, url, urlsplit(url).path


def post(url, fields, files, **kwargs):
    # fields first: as in Swift, a field after a file does not apply to it
    return requests.post(url, data=list(fields.items()), files=files, timeout=30, **kwargs)


def test_files_become_objects(swift, form):
    c, url, path = form
    got = post(url, sign(path), [("f1", ("a.txt", b"hello", "text/plain")),
                                 ("f2", ("b.bin", b"\0" * 100, "application/x-thing"))])
    assert (got.status_code, got.text) == (201, "201 Created")
    a = swift("GET", f"/{c}/up/a.txt")
    assert (a.status_code, a.content, a.headers["Content-Type"]) == (200, b"hello", "text/plain")
    b = swift("GET", f"/{c}/up/b.bin")
    assert (b.content, b.headers["Content-Type"]) == (b"\0" * 100, "application/x-thing")
    # no token: the form's signature was the authorization, and the token is still required
    assert requests.get(f"{swift.url}/{c}/up/a.txt").status_code == 401


def test_optional_fields_apply_to_the_files_after_them(swift, form):
    c, url, path = form
    fields = {**sign(path, digest=hashlib.sha512), "x_delete_after": "3600",
              "content-type": "text/csv"}
    got = post(url, fields, [("f", ("t.csv", b"1,2", "application/octet-stream"))])
    assert got.status_code == 201
    head = swift("HEAD", f"/{c}/up/t.csv")
    assert head.headers["Content-Type"] == "text/csv"
    assert int(head.headers["X-Delete-At"]) > time.time() + 3000


def test_redirect_carries_the_status(swift, form):
    c, url, path = form
    redirect = "https://app.example/done?x=1"
    got = post(url, sign(path, redirect=redirect, max_count=1, digest=hashlib.sha1),
               [("f1", ("one.txt", b"1")), ("f2", ("two.txt", b"2"))], allow_redirects=False)
    assert got.status_code == 303
    assert got.headers["Location"] == \
        redirect + "&status=400&message=max%20file%20count%20exceeded"
    assert swift("HEAD", f"/{c}/up/one.txt").status_code == 200
    assert swift("HEAD", f"/{c}/up/two.txt").status_code == 404


@pytest.mark.parametrize("case, status, text", [
    ("bad signature", 401, "FormPost: Invalid Signature"),
    ("other key", 401, "FormPost: Invalid Signature"),
    ("expired", 401, "FormPost: Form Expired"),
    ("too big", 400, "FormPost: max_file_size exceeded"),
    ("no file", 400, "400 Bad Request\r\nFormPost: No Files To Process"),
    ("not an integer", 400, "FormPost: max_file_size not an integer"),
])
def test_refusals_store_nothing(swift, form, case, status, text):
    c, url, path = form
    fields = sign(path, max_size=10)
    files = [("f", ("x.bin", b"y" * 10))]
    if case == "bad signature":
        fields["signature"] = "0" * 64
    elif case == "other key":
        fields = sign(path, max_size=10, key="not-the-key")
    elif case == "expired":
        fields = sign(path, max_size=10, expires=int(time.time()) - 1)
    elif case == "too big":
        files = [("f", ("x.bin", b"y" * 11))]
    elif case == "no file":
        files = [("f", ("", b""))]  # an empty file input is a plain field
    elif case == "not an integer":
        fields["max_file_size"] = "ten"
    got = post(url, fields, files)
    assert (got.status_code, got.text) == (status, text)
    assert swift("GET", f"/{c}").text == ""  # nothing stored


def test_malformed_body_and_plain_posts(swift, form):
    c, url, _ = form
    got = requests.post(url, data=b"not multipart",
                        headers={"Content-Type": "multipart/form-data; boundary=zzz"})
    assert (got.status_code, got.text) == (400, "FormPost: invalid starting boundary")
    # without a boundary it is not a form: a container POST needs a token as usual
    bare = requests.post(f"{swift.url}/{c}", headers={"Content-Type": "multipart/form-data"})
    assert bare.status_code == 401
    info = requests.get(swift.url.split("/v1/")[0] + "/info").json()
    assert info["formpost"] == {"allowed_digests": ["sha1", "sha256", "sha512"]}
