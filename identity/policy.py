"""Who may call which identity API. No I/O.

Keystone's default rules, reduced: a token with the admin role (on any project or domain) is a
cloud administrator; everyone else may read themselves, the projects they hold a role on, and
manage their own EC2 credentials if they may write (member or admin). Readers only read.
"""
from __future__ import annotations

from identity.errors import Forbidden, Unauthorized
from identity.tokens import AuthContext

_DENIED = "You are not authorized to perform the requested action: {}."


def require_token(ctx: AuthContext | None) -> AuthContext:
    if ctx is None:
        raise Unauthorized("The request you have made requires authentication.")
    return ctx


def require_admin(ctx: AuthContext | None, action: str) -> AuthContext:
    ctx = require_token(ctx)
    if not ctx.is_admin:
        raise Forbidden(_DENIED.format(action))
    return ctx


def require_self_or_admin(ctx: AuthContext | None, user_id: str, action: str) -> AuthContext:
    ctx = require_token(ctx)
    if ctx.is_admin or ctx.user_id == user_id:
        return ctx
    raise Forbidden(_DENIED.format(action))


def require_self_writer_or_admin(ctx: AuthContext | None, user_id: str, action: str) -> AuthContext:
    """Changes to a user's own things (EC2 keys): the user with a writing role, or an admin."""
    ctx = require_self_or_admin(ctx, user_id, action)
    if not ctx.is_admin and not ctx.can_write:
        raise Forbidden(_DENIED.format(action))
    return ctx
