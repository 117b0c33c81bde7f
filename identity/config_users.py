"""Mirror the all-in-one's configured Swift users and S3 keys into identity, so the credentials
aio.json hands out (`[proxy] users`, `[s3] credentials`) also work once the proxy trusts identity.

Mapping: `account:user:key[:groups]` -> project `account`, user `user` (Default domain) with
password `key`; role `admin` for `.reseller_admin`, `member` for `.admin` (the account owner),
else `reader`. `access secret account user` -> an EC2 credential of that user on that project.
The bootstrap admin is left alone (its password is `[identity] admin_password`). Swift allows the
same user name with different keys in two accounts; identity has one password per user, so the
first key wins and the conflict is logged.
"""
from __future__ import annotations

import json
import logging
import uuid

from identity.ec2 import credential_id
from identity.passwords import hash_password, verify_password
from identity.store import Store

log = logging.getLogger(__name__)
RESERVED_USERS = {"admin"}


def swift_users(config) -> list[tuple[str, str, str, set]]:
    """[(account, user, key, groups)] from [proxy] users (empty when there is no proxy section)."""
    try:
        entries = config.proxy.users
    except (AttributeError, KeyError):
        return []
    out = []
    for entry in entries:
        parts = entry.split(":")
        if len(parts) >= 3:
            groups = set(parts[3].split(",")) if len(parts) > 3 else set()
            out.append((parts[0], parts[1], parts[2], groups))
    return out


def s3_keys(config) -> list[tuple[str, str, str, str]]:
    """[(access, secret, account, user)] from [s3] credentials."""
    try:
        entries = config.s3.credentials
    except (AttributeError, KeyError):
        return []
    return [tuple(e.split()) for e in entries if len(e.split()) == 4]


def role_for(groups: set) -> str:
    if ".reseller_admin" in groups:
        return "admin"
    if ".admin" in groups:
        return "member"
    return "reader"


def mirror(store: Store, config, roles: dict, applied: dict) -> None:
    """Create or update the configured users; `applied` (user -> key, kept in bootstrap.json)
    skips the argon2 check for keys already applied on an earlier start."""
    for account, user_name, key, groups in swift_users(config):
        if user_name in RESERVED_USERS:
            continue
        project = store.find_by_name("projects", account, "default")
        if project is None:
            project = store.create("projects", {
                "id": uuid.uuid4().hex, "name": account, "domain_id": "default",
                "parent_id": "default", "description": f"Swift account {account}",
                "enabled": True, "is_domain": False, "tags": [], "options": {}})
        user = store.find_by_name("users", user_name, "default")
        if user is None:
            user = store.create("users", {
                "id": uuid.uuid4().hex, "name": user_name, "domain_id": "default",
                "enabled": True, "default_project_id": project["id"], "options": {},
                "password_hash": hash_password(key)})
            applied[user_name] = key
        elif applied.get(user_name) != key:
            if user_name in applied:
                log.warning("user %s is configured with two keys; keeping the first", user_name)
            elif not verify_password(user.get("password_hash"), key):
                store.update("users", user["id"], {"password_hash": hash_password(key)})
                applied[user_name] = key
            else:
                applied[user_name] = key
        store.grant(user["id"], "project", project["id"], roles[role_for(groups)]["id"])

    for access, secret, account, user_name in s3_keys(config):
        if store.get("credentials", credential_id(access)) is not None:
            continue
        project = store.find_by_name("projects", account, "default")
        user = store.find_by_name("users", user_name, "default")
        if project is None or user is None:
            log.warning("S3 key %s names an unknown account or user (%s:%s)", access, account,
                        user_name)
            continue
        store.create("credentials", {
            "id": credential_id(access), "type": "ec2", "user_id": user["id"],
            "project_id": project["id"],
            "blob": json.dumps({"access": access, "secret": secret, "trust_id": None})})
