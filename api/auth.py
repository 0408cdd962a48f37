"""Log-in, sessions and who may see what.

Passwords are kept as argon2id hashes. A session is a random token the browser keeps in an
HttpOnly cookie (or a client sends as ``Authorization: Bearer``); the database keeps only its
SHA-256, so a copy of the database lets no one in. A cookie-borne request that changes
something must also carry the session's CSRF token (header ``X-CSRF-Token`` or form field
``csrf_token``); a bearer token cannot be sent by another site, so it needs none.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from intake.errors import (
    AuthenticationError,
    InputError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
)
from storage.db import Database
from storage.db.models import Role
from storage.db.repository import Lab, User

SESSION_COOKIE = "dossier_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
MIN_PASSWORD = 8

_hasher = PasswordHasher()
# Verifying against this when the name is unknown takes as long as for a real user, so the
# answer's timing does not tell which names exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

ROLE_ZH = {Role.SECRETARIAT: "秘书处", Role.REVIEWER: "审查人员", Role.UNIT: "推荐单位"}


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InputError(f"a password needs at least {MIN_PASSWORD} characters")
    return _hasher.hash(password)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Principal:
    """The user a request acts for, and how it proved it."""

    user: User
    csrf_token: str
    via_cookie: bool
    token_sha256: str

    @property
    def actor(self) -> str:
        return f"user:{self.user.username}"

    @property
    def role(self) -> Role:
        return self.user.role

    def require(self, *roles: Role) -> None:
        if self.user.role not in roles:
            raise PermissionDeniedError(
                f"{ROLE_ZH[self.user.role]} ({self.user.role.value}) may not do this",
                subject=self.user.username)

    def sees(self, lab: Lab) -> bool:
        return self.user.role != Role.UNIT or lab.recommending_unit == self.user.unit

    def check_lab(self, lab: Lab) -> None:
        """A unit asking for another unit's lab (or its report, job, page or file) is told that
        nothing is there, naming nothing: not even which lab it was."""
        if not self.sees(lab):
            raise NotFoundError("there is nothing here by that name or number")

    @property
    def unit_scope(self) -> str | None:
        return self.user.unit if self.user.role == Role.UNIT else None


class LoginLimiter:
    """At most ``attempts`` failed log-ins per user name within ``window`` seconds, and
    ``ADDRESS_FACTOR`` times as many per client address (an office shares one address); a
    success clears the name's count."""

    ADDRESS_FACTOR = 5

    def __init__(self, attempts: int, window: float) -> None:
        self.attempts, self.window = attempts, window
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures[key]
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def check(self, username: str, client: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key, allowed in ((f"user:{username.lower()}", self.attempts),
                                 (f"addr:{client}", self.attempts * self.ADDRESS_FACTOR)):
                failures = self._recent(key, now)
                if len(failures) >= allowed:
                    wait = int(failures[0] + self.window - now) + 1
                    raise RateLimitedError(f"too many failed log-ins; try again in {wait} s",
                                           subject=username)

    def failed(self, username: str, client: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in (f"user:{username.lower()}", f"addr:{client}"):
                self._recent(key, now).append(now)

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._failures.pop(f"user:{username.lower()}", None)


@dataclass(frozen=True)
class NewSession:
    token: str
    csrf_token: str
    user: User
    expires_at: datetime


def log_in(db: Database, limiter: LoginLimiter, username: str, password: str, *, client: str,
           hours: float) -> NewSession:
    """Check the name and password; a new session on success. Every attempt is audited."""
    username = username.strip()
    limiter.check(username, client)
    found = db.user_credentials(username)
    user, stored_hash = found if found else (None, _DUMMY_HASH)
    try:
        ok = _hasher.verify(stored_hash, password) and user is not None and user.active
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or user is None:
        limiter.failed(username, client)
        db.audit(actor=f"anonymous@{client}", action="login.failed", subject=f"user:{username}")
        raise AuthenticationError("wrong user name or password", subject=username)
    limiter.succeeded(username)
    if _hasher.check_needs_rehash(stored_hash):
        db.set_password_hash(user.id, _hasher.hash(password))
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    expires = datetime.now(UTC) + timedelta(hours=hours)
    db.add_session(user.id, token_sha256=token_digest(token), csrf_token=csrf, expires_at=expires)
    db.audit(actor=f"user:{user.username}", action="login", subject=f"user:{user.username}",
             detail={"client": client})
    return NewSession(token, csrf, user, expires)


def resolve(db: Database, token: str | None, *, via_cookie: bool) -> Principal:
    if not token:
        raise AuthenticationError("log in first")
    digest = token_digest(token)
    found = db.session_user(digest)
    if found is None:
        raise AuthenticationError("the session has ended; log in again")
    user, csrf = found
    return Principal(user, csrf, via_cookie, digest)


def check_csrf(principal: Principal, sent: str | None) -> None:
    if principal.via_cookie and not (sent and secrets.compare_digest(sent, principal.csrf_token)):
        raise PermissionDeniedError("the form is stale or came from another site (CSRF token "
                                    "missing or wrong); reload the page and try again")


def parse_bootstrap_users(spec: str) -> list[tuple[str, str, Role, str | None]]:
    """``name:password:role[:unit]`` entries separated by ``;``."""
    users = []
    for entry in filter(None, (e.strip() for e in spec.split(";"))):
        parts = entry.split(":", 3)
        if len(parts) < 3:
            raise InputError("a bootstrap user is name:password:role[:unit]",
                             subject="DOSSIER_API__BOOTSTRAP_USERS")
        name, password, role = parts[0], parts[1], Role(parts[2])
        users.append((name, password, role, parts[3] if len(parts) == 4 else None))
    return users
