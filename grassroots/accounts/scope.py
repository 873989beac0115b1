"""Which units a user may act on, by permission: the heart of `.restrict()`."""

from __future__ import annotations

from collections import defaultdict


def _minimal(paths: set[str]) -> list[str]:
    """Drop paths that lie under another path in the set."""
    out: list[str] = []
    for p in sorted(paths, key=len):
        if not any(p.startswith(q) for q in out):
            out.append(p)
    return out


def permission_paths(user) -> dict[str, list[str]]:
    """{permission: [unit paths]} for a user, cached on the user object for the request."""
    cached = getattr(user, "_grassroots_scope", None)
    if cached is not None:
        return cached
    from .models import RoleAssignment

    raw: dict[str, set[str]] = defaultdict(set)
    rows = RoleAssignment.objects.filter(user=user).values_list("role__permissions", "unit__path")
    for perms, path in rows:
        for perm in perms or []:
            raw[perm].add(path)
    result = {perm: _minimal(paths) for perm, paths in raw.items()}
    user._grassroots_scope = result
    return result


def scope_paths(user, permission: str) -> list[str]:
    return permission_paths(user).get(permission, [])


def has_perm_anywhere(user, permission: str) -> bool:
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or bool(scope_paths(user, permission))


def covers(user, permission: str, unit) -> bool:
    """Whether the user holds `permission` on `unit` (directly or through an ancestor)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return any(unit.path.startswith(p) for p in scope_paths(user, permission))


def forget(user) -> None:
    if hasattr(user, "_grassroots_scope"):
        del user._grassroots_scope
