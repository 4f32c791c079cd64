"""Accounts of the web app, and how an identity becomes a role.

- `UserStore`: a JSON file {name: {"hash": bcrypt hash, "role": role}} managed with
  `coopter users add|list|remove`; `verify()` checks a password and returns the role.
- `RoleMap`: for a deployment behind an OpenID Connect provider (`st.login()`), a JSON file
  mapping e-mail addresses, e-mail domains and group claims to roles (docs/deployment-oidc.md).

Both files are re-read on every call, so removing or downgrading an account takes effect on the
user's next question. No Streamlit import here: the CLI uses this module.

- `SignInLimiter`: failed password sign-ins are limited per account name and per browser
  session (`verify_limited`), so passwords cannot be guessed at bcrypt speed.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from collections import deque
from functools import cache
from pathlib import Path

from assistant.access import ROLES
from assistant.errors import CoopterError

ANONYMOUS_ROLE = "public"
OIDC_ROLES_FILE = "oidc_roles.json"  # next to the users file
BCRYPT_MAX_BYTES = 72  # bcrypt ignores (or refuses) anything longer


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise CoopterError(f"rôle inconnu « {role} » (rôles possibles : {', '.join(ROLES)})")
    return role


def _read_json(path: Path) -> dict:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise CoopterError(f"fichier illisible : {path} (JSON attendu)") from None
    if not isinstance(data, dict):
        raise CoopterError(f"fichier mal formé : {path} (un objet JSON est attendu)")
    return data


@cache
def _dummy_hash() -> bytes:
    """A hash checked for unknown users, so that they take as long as known ones."""
    import bcrypt

    return bcrypt.hashpw(b"compte-inexistant", bcrypt.gensalt())


class UserStore:
    """Password accounts in a JSON file, passwords hashed with bcrypt."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def _load(self) -> dict[str, dict]:
        return _read_json(self.path)

    def _save(self, data: dict[str, dict]) -> None:
        """Write atomically, readable by the owner only (the file holds password hashes)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".users-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f, ensure_ascii=False, indent=2, sort_keys=True)
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def add(self, name: str, password: str, role: str) -> None:
        """Create or update an account. Raises CoopterError on an empty name or password,
        a password over 72 bytes, or an unknown role."""
        import bcrypt

        name = (name or "").strip()
        if not name:
            raise CoopterError("nom de compte vide")
        if not password:
            raise CoopterError("mot de passe vide")
        if len(password.encode()) > BCRYPT_MAX_BYTES:
            raise CoopterError(f"mot de passe trop long (au plus {BCRYPT_MAX_BYTES} octets)")
        _check_role(role)
        data = self._load()
        hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()
        data[name] = {"hash": hashed, "role": role}
        self._save(data)

    def remove(self, name: str) -> None:
        """Delete an account. Raises CoopterError when it does not exist."""
        data = self._load()
        if name not in data:
            raise CoopterError(f"compte inconnu « {name} »")
        del data[name]
        self._save(data)

    def list(self) -> list[tuple[str, str]]:
        """(name, role) of every account, sorted by name."""
        return sorted((name, str(entry.get("role", ""))) for name, entry in self._load().items())

    def role_of(self, name: str) -> str | None:
        """The account's current role; None when it no longer exists or its role is invalid."""
        entry = self._load().get(name)
        role = entry.get("role") if isinstance(entry, dict) else None
        return role if role in ROLES else None

    def verify(self, name: str, password: str) -> str | None:
        """The account's role when the password is right, else None.

        An unknown account still costs one bcrypt check, so timing does not reveal which
        names exist.
        """
        import bcrypt

        entry = self._load().get((name or "").strip())
        stored = entry.get("hash") if isinstance(entry, dict) else None
        secret = (password or "").encode()
        if not stored or not secret or len(secret) > BCRYPT_MAX_BYTES:
            bcrypt.checkpw(b"x", _dummy_hash())
            return None
        try:
            ok = bcrypt.checkpw(secret, stored.encode())
        except ValueError:  # a corrupted hash in the file
            return None
        role = entry.get("role")
        return role if ok and role in ROLES else None


class RoleMap:
    """Roles of identities signed in through OpenID Connect.

    File format (JSON), every key optional:
        {"emails": {"alice@exemple.fr": "staff"},
         "domains": {"coopter.fr": "community"},
         "groups": {"coopter-equipe": "staff"}}
    The highest matching role wins; no match means public. An e-mail the provider reports as
    unverified is ignored.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)

    @classmethod
    def beside(cls, users_file: str | Path) -> RoleMap:
        """The mapping file that sits next to the users file."""
        return cls(Path(users_file).with_name(OIDC_ROLES_FILE))

    def role_for(self, email: str | None, groups: list[str] | None = None, email_verified: bool = True) -> str:
        """The highest role granted to this identity (public when none)."""
        data = _read_json(self.path)
        email = (email or "").strip().lower()
        found = []
        if email and email_verified:
            emails = {k.lower(): v for k, v in (data.get("emails") or {}).items()}
            domains = {k.lower().lstrip("@"): v for k, v in (data.get("domains") or {}).items()}
            found += [emails.get(email), domains.get(email.rpartition("@")[2])]
        group_roles = data.get("groups") or {}
        found += [group_roles.get(g) for g in groups or []]
        ranks = [ROLES.index(r) for r in found if r in ROLES]
        return ROLES[max(ranks)] if ranks else ANONYMOUS_ROLE


class TooManyAttempts(CoopterError):
    """Sign-in refused for a while after too many failures (the password is not even checked)."""

    def __init__(self, wait_s: float):
        self.wait_s = wait_s
        super().__init__(f"trop de tentatives de connexion : réessayez dans {max(1, round(wait_s))} s")


class SignInLimiter:
    """Failed sign-ins counted per account name and per session over a sliding window.

    Past `per_user` failures for one name (from any session), or `per_session` failures from
    one session (whatever names it tries), further attempts are refused for a delay that doubles
    with each new failure, up to `max_lock_s`. A success clears the name's and the session's
    count. An unknown name is counted like a known one, so the limiter does not tell them apart.
    The state is in memory, shared by the sessions of one app process; several replicas behind
    a load balancer each keep their own (put a rate limit in the proxy too: docs/security.md).
    """

    def __init__(self, per_user: int = 5, per_session: int = 10, window_s: float = 900.0,
                 base_lock_s: float = 30.0, max_lock_s: float = 900.0, clock=time.monotonic):
        self.per_user, self.per_session = per_user, per_session
        self.window_s, self.base_lock_s, self.max_lock_s = window_s, base_lock_s, max_lock_s
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _keys(name: str, session_id: str) -> list[tuple[str, int]]:
        return [(f"user:{(name or '').strip().lower()}", 0), (f"session:{session_id}", 1)]

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and now - times[0] > self.window_s:
            times.popleft()
        return times

    def wait_s(self, name: str, session_id: str) -> float:
        """Seconds before this name may be tried again from this session (0: now)."""
        now = self.clock()
        wait = 0.0
        with self._lock:
            for key, kind in self._keys(name, session_id):
                times = self._recent(key, now)
                limit = self.per_user if kind == 0 else self.per_session
                if len(times) >= limit:
                    lock = min(self.max_lock_s, self.base_lock_s * 2 ** (len(times) - limit))
                    wait = max(wait, times[-1] + lock - now)
        return max(0.0, wait)

    def failed(self, name: str, session_id: str) -> None:
        now = self.clock()
        with self._lock:
            for key, _ in self._keys(name, session_id):
                self._recent(key, now).append(now)

    def succeeded(self, name: str, session_id: str) -> None:
        with self._lock:
            for key, _ in self._keys(name, session_id):
                self._failures.pop(key, None)


LIMITER = SignInLimiter()  # one per app process: all browser sessions share it


def verify_limited(users_file: str | Path, name: str, password: str, session_id: str,
                   limiter: SignInLimiter | None = None) -> str | None:
    """`UserStore.verify` behind the sign-in limiter: the role, or None for a wrong password.
    Raises TooManyAttempts while the name or the session is locked out."""
    limiter = limiter or LIMITER
    wait = limiter.wait_s(name, session_id)
    if wait > 0:
        raise TooManyAttempts(wait)
    role = UserStore(users_file).verify(name, password)
    if role is None:
        limiter.failed(name, session_id)
    else:
        limiter.succeeded(name, session_id)
    return role
