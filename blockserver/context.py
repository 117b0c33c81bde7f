"""Who is asking: the request context every manager call takes (filled by blockserver.api.auth)."""
from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class RequestContext:
    project_id: str
    user_id: str
    roles: tuple[str, ...] = ()
    is_admin: bool = False
    # The negotiated microversion (major, minor): responses and some rules depend on it.
    microversion: tuple[int, int] = (3, 0)

    def at_least(self, minor: int) -> bool:
        return self.microversion >= (3, minor)
