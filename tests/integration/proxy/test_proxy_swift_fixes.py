"""Swift functional-suite fixes (issue 3): content types kept on POST and symlinks, SLO copy sizes."""
import uuid

import pytest

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def container(swift):
    c = f"x-{uuid.uuid4().hex[:10]}"
    assert swift("PUT", f"/{c}").status_code == 201
    return c


def test_post_without_content_type_keeps_stored_type(swift, container):
    swift("PUT", f"/{container}/o", data=b"body", headers={"Content-Type": "text/x-foo"})
    resp = swift("POST", f"/{container}/o", headers={"X-Object-Meta-Color": "blue"})
    assert resp.status_code == 202
    head = swift("HEAD", f"/{container}/o")
    assert head.headers["Content-Type"] == "text/x-foo"
    assert head.headers["X-Object-Meta-Color"] == "blue"
