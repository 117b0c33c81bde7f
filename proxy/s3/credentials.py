"""Who holds an S3 access key: config credentials first, then the identity service's EC2 keys.

A Principal is what the rest of the S3 layer needs: the secret (to check the signature), the
storage account the key acts as ("AUTH_test", where its buckets live) and a user name for logs and
ACL grants. Ownership is by account ("test"); responses show the owner as "account:user"
("test:tester") the way Swift's s3api does (access.shown_id).
"""
from __future__ import annotations

import dataclasses
import logging

from proxy.limits import RESELLER_PREFIX
from proxy.s3.errors import S3Error

log = logging.getLogger("strato.proxy.s3")


@dataclasses.dataclass(frozen=True)
class Principal:
    access_key: str
    secret: str
    account: str        # tempauth-style account name: the S3 canonical user id ("test")
    user: str

    @property
    def storage_account(self) -> str:
        return RESELLER_PREFIX + self.account


class Credentials:
    """Lookup of access keys: [s3] credentials, then (when given) an EC2 secret source."""

    def __init__(self, entries: list[str], ec2_lookup=None):
        self._config: dict[str, Principal] = {}
        for entry in entries:
            access, secret, account, user = entry.split()
            self._config[access] = Principal(access, secret, account, user)
        self._ec2 = ec2_lookup  # callable(access_key) -> (secret, user_id, project_id)

    async def lookup(self, access_key: str) -> Principal:
        found = self._config.get(access_key)
        if found is not None:
            return found
        if self._ec2 is not None:
            import asyncio
            try:
                # The identity store is LMDB on disk: never read it on the event loop.
                secret, user_id, project_id = await asyncio.get_running_loop().run_in_executor(
                    None, self._ec2, access_key)
            except Exception:  # noqa: BLE001 - unknown key or identity unavailable: same answer
                log.debug("EC2 lookup of %s failed", access_key, exc_info=True)
            else:
                return Principal(access_key, secret, project_id, user_id)
        raise S3Error("InvalidAccessKeyId", AWSAccessKeyId=access_key)


def from_config(config) -> Credentials:
    """Config credentials, then identity's EC2 credentials (its store in this data dir), when the
    identity package is installed; the project id is the account ("AUTH_<project id>")."""
    ec2 = None
    if getattr(config, "identity", None) is not None:
        try:
            from identity.validate import TokenValidator
            validator = TokenValidator.from_config(config)
            ec2 = validator.ec2_secret_for
        except Exception:  # noqa: BLE001 - no identity here: config credentials only
            log.info("S3: identity EC2 credentials unavailable; config credentials only")
            ec2 = None
    return Credentials(list(config.s3.credentials), ec2)
