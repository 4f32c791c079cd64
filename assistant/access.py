"""Access levels: public < community < staff. A role sees its level and below.

The filter is applied inside retrieval (Chroma `where`, and a lexical index built only from
allowed chunks) and checked once more on every passage before it can reach an answer.
"""

from __future__ import annotations

from .errors import AccessError
from .schema import ACCESS_LEVELS, K_ACCESS, Passage

ROLES = ACCESS_LEVELS
DEFAULT_ROLE = "public"


def check_role(role: str | None) -> str:
    """Validate a role name; None means the default (public). Raises AccessError."""
    role = (role or DEFAULT_ROLE).strip()
    if role not in ROLES:
        raise AccessError(f"rôle inconnu « {role} » (rôles possibles : {', '.join(ROLES)})")
    return role


def allowed_levels(role: str) -> list[str]:
    role = check_role(role)
    return list(ACCESS_LEVELS[: ACCESS_LEVELS.index(role) + 1])


def where_for(role: str) -> dict:
    """Chroma `where` clause that keeps only chunks the role may see."""
    return {K_ACCESS: {"$in": allowed_levels(role)}}


def can_see(role: str, access: str) -> bool:
    return access in allowed_levels(role)


def visible(passages: list[Passage], role: str) -> list[Passage]:
    """Last line of defence: drop any passage above the role, whatever produced it."""
    levels = set(allowed_levels(role))
    return [p for p in passages if p.meta.get(K_ACCESS) in levels]
