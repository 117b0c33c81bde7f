"""First-start set-up (idempotent): key repository, Default domain, admin/member/reader roles,
the admin, test and alt projects with their users, EC2 key pairs, the configured Swift users and
S3 keys (identity/config_users.py), and `<data_dir>/openrc`.

Generated secrets are kept in `<data_dir>/identity/bootstrap.json` (mode 0600) so later starts,
aio.json and the tests read the same values. Blocking: it runs in the supervisor before any
service starts.
"""
from __future__ import annotations

import json
import os
import shlex
import uuid

from identity import config_users
from identity import keys as keyrepo
from identity.catalog import host_for
from identity.ec2 import credential_id
from identity.passwords import hash_password, verify_password
from identity.store import Store, db_path_for
from strato.generated_secrets import cli_safe_token

DEFAULT_DOMAIN = {"id": "default", "name": "Default", "description": "The default domain",
                  "enabled": True, "tags": [], "options": {}}
ROLES = ("admin", "member", "reader")
# (project, user, role, password key in bootstrap.json)
ACCOUNTS = (("admin", "admin", "admin", "admin_password"),
            ("test", "tester", "member", "tester_password"),
            ("alt", "alt", "member", "alt_password"))


def identity_dir(data_dir: str) -> str:
    return os.path.join(data_dir, "identity")


def secrets_path(data_dir: str) -> str:
    return os.path.join(identity_dir(data_dir), "bootstrap.json")


def read_bootstrap(data_dir: str) -> dict:
    """What bootstrap stored: passwords, and per user {"project_id", "user_id", "access",
    "secret"} under "accounts" (keys admin, tester, alt)."""
    try:
        with open(secrets_path(data_dir)) as f:
            return json.load(f)
    except FileNotFoundError:
        return {}


def _write_private(path: str, text: str, mode: int = 0o600) -> None:
    tmp = f"{path}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _ensure(store: Store, kind: str, record: dict, domain_id: str | None = None) -> dict:
    found = store.find_by_name(kind, record["name"], domain_id)
    if found is not None:
        return found
    record.setdefault("id", uuid.uuid4().hex)
    return store.create(kind, record)


def auth_url(config) -> str:
    section = config.identity
    return f"http://{host_for(section.bind_ip, section.public_host)}:{section.port}/v3"


def bootstrap(config) -> dict:
    data_dir = config.cluster.data_dir
    os.makedirs(identity_dir(data_dir), mode=0o700, exist_ok=True)
    keyrepo.setup(keyrepo.key_dir_for(data_dir))
    state = read_bootstrap(data_dir)
    if config.identity.admin_password:
        state["admin_password"] = config.identity.admin_password
    # The configured Swift key of test:tester and alt:alt is their identity password too, so
    # the credentials aio.json hands out work against identity (identity/config_users.py).
    configured = {(a, u): k for a, u, k, _ in config_users.swift_users(config)}
    for project_name, user_name, _, key in ACCOUNTS:
        if user_name not in config_users.RESERVED_USERS and (project_name, user_name) in configured:
            state[key] = configured[(project_name, user_name)]
        state.setdefault(key, cli_safe_token(18))
    accounts = state.setdefault("accounts", {})

    store = Store(db_path_for(data_dir))
    try:
        if store.get("domains", "default") is None:
            store.create("domains", dict(DEFAULT_DOMAIN))
        roles = {name: _ensure(store, "roles", {"name": name, "domain_id": None,
                                                "description": None, "options": {}})
                 for name in ROLES}
        for project_name, user_name, role, password_key in ACCOUNTS:
            project = _ensure(store, "projects", {
                "name": project_name, "domain_id": "default", "parent_id": "default",
                "description": f"Bootstrap project {project_name}", "enabled": True,
                "is_domain": False, "tags": [], "options": {}}, "default")
            password = state[password_key]
            user = store.find_by_name("users", user_name, "default")
            if user is None:
                user = store.create("users", {
                    "id": uuid.uuid4().hex, "name": user_name, "domain_id": "default",
                    "enabled": True, "default_project_id": project["id"], "options": {},
                    "password_hash": hash_password(password)})
            elif not verify_password(user.get("password_hash"), password):
                # The configured password wins (Keystone's bootstrap resets it too).
                store.update("users", user["id"], {"password_hash": hash_password(password),
                                                   "enabled": True})
            store.grant(user["id"], "project", project["id"], roles[role]["id"])
            account = accounts.setdefault(user_name, {})
            account.update(project_id=project["id"], user_id=user["id"], project=project_name)
            if not account.get("access") or \
                    store.get("credentials", credential_id(account["access"])) is None:
                account["access"], account["secret"] = uuid.uuid4().hex, uuid.uuid4().hex
                blob = {"access": account["access"], "secret": account["secret"],
                        "trust_id": None}
                store.create("credentials", {
                    "id": credential_id(account["access"]), "type": "ec2",
                    "user_id": user["id"], "project_id": project["id"],
                    "blob": json.dumps(blob)})
        config_users.mirror(store, config, roles, state.setdefault("applied_keys", {}))
    finally:
        store.close()
    _write_private(secrets_path(data_dir), json.dumps(state, indent=2, sort_keys=True))
    write_openrc(config, state["admin_password"])
    return state


def write_openrc(config, admin_password: str) -> str:
    path = os.path.join(config.cluster.data_dir, "openrc")
    lines = {"OS_AUTH_URL": auth_url(config), "OS_USERNAME": "admin",
             "OS_PASSWORD": admin_password, "OS_PROJECT_NAME": "admin",
             "OS_USER_DOMAIN_NAME": "Default", "OS_PROJECT_DOMAIN_NAME": "Default",
             "OS_IDENTITY_API_VERSION": "3", "OS_REGION_NAME": config.identity.region}
    text = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in lines.items())
    _write_private(path, text)
    return path
