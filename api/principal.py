"""Who is asking: an account as the API sees it (a token's or an API key's)."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Principal:
    user_id: int
    username: str
    role: str
    credit_code: str | None
    via: str  # "token" or "api_key"

    @property
    def reads_all(self) -> bool:
        return self.role in ("admin", "reviewer")
