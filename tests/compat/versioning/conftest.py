"""Real clients (python-swiftclient, boto3) against the session all-in-one, for object versioning."""
import uuid

import pytest
import swiftclient


def _versions_cleanup(conn, name):
    """Suspend versioning, delete every version, then the container (Swift's way out)."""
    try:
        conn.post_container(name, {"X-Versions-Enabled": "false"})
        _, rows = conn.get_container(name, query_string="versions")
        for row in rows:
            if "name" in row:
                conn.delete_object(name, row["name"],
                                   query_string=f"version-id={row['version_id']}")
        for row in conn.get_container(name)[1]:
            conn.delete_object(name, row["name"])
        conn.delete_container(name)
    except swiftclient.ClientException:
        pass


@pytest.fixture
def conn(aio):
    info = aio["swift"]
    c = swiftclient.Connection(authurl=info["auth_url"], user=info["user"], key=info["key"],
                               retries=0)
    yield c
    c.close()


@pytest.fixture
def versioned(conn):
    name = f"ver-{uuid.uuid4().hex[:10]}"
    conn.put_container(name, headers={"X-Versions-Enabled": "true"})
    yield name
    _versions_cleanup(conn, name)


@pytest.fixture
def plain_container(conn):
    """A container created without versioning (cleaned up as a versioned one)."""
    name = f"ver-{uuid.uuid4().hex[:10]}"
    conn.put_container(name)
    yield name
    _versions_cleanup(conn, name)


@pytest.fixture
def raw(conn):
    """raw(method, path, **kw): requests against the storage URL with the user's token."""
    import requests
    url, token = conn.get_auth()

    def call(method, path, headers=None, **kw):
        return requests.request(method, f"{url}/{path}", timeout=30,
                                headers={"X-Auth-Token": token, **(headers or {})}, **kw)
    return call
