"""The revocation list: which tokens stopped being valid before they expired. No I/O here.

Two kinds of entry, both dropped once every token they could match has expired:
  * an audit id (one token, plus the tokens rescoped from it, which carry it as their parent);
  * a subject (user, project or domain) revoked at a time: every token of that subject issued
    at or before that time is dead. Identity adds one when a user is disabled, deleted, changes
    password or loses a role, and when a project or domain is disabled or deleted.
Serialized as JSON; identity/revocation_file.py persists and shares it.
"""
from __future__ import annotations

import dataclasses
import json

from identity.tokens import AuthContext

FORMAT_VERSION = 1
SUBJECT_KINDS = ("user", "project", "domain")


@dataclasses.dataclass
class RevocationList:
    audit: dict = dataclasses.field(default_factory=dict)  # audit id -> prune after (epoch s)
    # kind -> {id: [revoked_at, prune_after]}
    subjects: dict = dataclasses.field(default_factory=lambda: {k: {} for k in SUBJECT_KINDS})

    def revoke_token(self, ctx: AuthContext) -> None:
        self.audit[ctx.audit_id] = ctx.expires_at

    def revoke_subject(self, kind: str, ident: str, now: float, token_ttl: float) -> None:
        if kind not in SUBJECT_KINDS:
            raise ValueError(kind)
        self.subjects[kind][ident] = [now, now + token_ttl]

    def is_revoked(self, ctx: AuthContext) -> bool:
        audit = self.audit
        for audit_id in ctx.audit_ids:
            if audit_id in audit:
                return True
        subjects = self.subjects
        for kind, ident in (("user", ctx.user_id), ("project", ctx.project_id),
                            ("domain", ctx.domain_id), ("domain", ctx.user_domain_id)):
            entry = subjects[kind].get(ident) if ident else None
            if entry is not None and ctx.issued_at <= entry[0]:
                return True
        return False

    def prune(self, now: float) -> bool:
        """Drop entries that can no longer match a live token; True when something was dropped."""
        before = len(self)
        self.audit = {k: v for k, v in self.audit.items() if v > now}
        self.subjects = {kind: {k: v for k, v in entries.items() if v[1] > now}
                         for kind, entries in self.subjects.items()}
        return len(self) != before

    def __len__(self) -> int:
        return len(self.audit) + sum(len(v) for v in self.subjects.values())

    def to_bytes(self) -> bytes:
        return json.dumps({"version": FORMAT_VERSION, "audit": self.audit,
                           "subjects": self.subjects}, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> "RevocationList":
        """Parse; raises ValueError on anything that is not a list this module wrote."""
        if not data:
            return cls()
        try:
            body = json.loads(data)
            if body.get("version") != FORMAT_VERSION:
                raise ValueError("unknown revocation list version")
            audit = {str(k): float(v) for k, v in body["audit"].items()}
            subjects = {kind: {str(k): [float(v[0]), float(v[1])]
                               for k, v in body["subjects"].get(kind, {}).items()}
                        for kind in SUBJECT_KINDS}
        except (KeyError, TypeError, AttributeError, IndexError, json.JSONDecodeError) as exc:
            raise ValueError(f"malformed revocation list: {exc}") from None
        return cls(audit=audit, subjects=subjects)
