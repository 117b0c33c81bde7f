"""Generated passwords, keys and secrets that every command line accepts as a value.

secrets.token_urlsafe draws from A-Z a-z 0-9 - _, so one token in 64 starts with "-", and then
`swift --os-password -Xy...`, `openstack --os-password ...` and `aws configure set ...` read it as
an option and fail ("expected one argument"). A generated credential never starts with "-".
"""
import secrets


def cli_safe_token(nbytes: int) -> str:
    """A URL-safe random token of nbytes of entropy whose first character is not "-"."""
    while True:
        token = secrets.token_urlsafe(nbytes)
        if not token.startswith("-"):
            return token
