"""Users (argon2-hashed passwords), login sessions with expiry, lockout after failed logins.

A session token is 256 random bits handed to the client once; only its SHA-256 is
stored. Each session also carries a CSRF token (double-submit: cookie + header/form
field) for cookie-authenticated state-changing requests. A login always creates a new
session (no fixation), and logging in while presenting an old session revokes it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select, update

from casegraph.governance.audit import append_event
from casegraph.governance.config import governance_config
from casegraph.governance.permissions import ROLES
from casegraph.store.db import now_iso, parse_iso, session_scope
from casegraph.store.models import Session as SessionRow
from casegraph.store.models import User

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not-a-real-password-timing-equaliser")
USERNAME_RE = re.compile(r"^[a-z][a-z0-9._-]{1,63}$")


class UserAdminError(Exception):
    """A user-management request that cannot be done (bad name, role, duplicate...)."""


class AuthError(Exception):
    """Login refused; ``reason`` is a code (bad_credentials, locked, disabled)."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


@dataclass(frozen=True)
class Principal:
    """Who is acting: the user and role, plus the session (None for the CLI)."""

    username: str
    role: str
    user_id: int | None = None
    session_kind: str | None = None  # cookie | bearer | None (CLI/internal)
    csrf_token: str | None = None
    expires_at: str | None = None


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def generate_password() -> str:
    return secrets.token_urlsafe(18)


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise UserAdminError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")


def get_user(ws: Any, username: str) -> User | None:
    with session_scope(ws) as s:
        return s.scalar(select(User).where(User.username == username))


def add_user(ws: Any, username: str, role: str, password: str | None = None, *,
             actor: str = "system", actor_role: str = "admin") -> tuple[User, str | None]:
    """Create a user; returns (user, generated password or None when one was given)."""
    username = username.strip().lower()
    if not USERNAME_RE.match(username):
        raise UserAdminError("user name must be 2-64 characters: lower-case letters, digits, "
                             "'.', '_', '-', starting with a letter")
    _check_role(role)
    generated = None
    if password is None:
        password = generated = generate_password()
    minlen = governance_config(ws).password_min_chars
    if len(password) < minlen:
        raise UserAdminError(f"password must be at least {minlen} characters")
    with session_scope(ws) as s:
        if s.scalar(select(User.id).where(User.username == username)) is not None:
            raise UserAdminError(f"user {username!r} already exists")
        user = User(username=username, password_hash=_hasher.hash(password), role=role,
                    disabled=False, failed_logins=0, created_at=now_iso())
        s.add(user)
        s.flush()
        append_event(s, actor=actor, role=actor_role, action="user.add", object_ids=[username],
                     detail={"role": role})
    return user, generated


def list_users(ws: Any) -> list[User]:
    with session_scope(ws) as s:
        return list(s.scalars(select(User).order_by(User.username)))


def _modify(ws: Any, username: str, action: str, actor: str, actor_role: str,
            **values: Any) -> User:
    with session_scope(ws) as s:
        user = s.scalar(select(User).where(User.username == username))
        if user is None:
            raise UserAdminError(f"no user {username!r}")
        shown = [k for k in values if k != "password_hash"]
        before = {k: getattr(user, k) for k in shown}
        for k, v in values.items():
            setattr(user, k, v)
        if values.get("disabled") or "role" in values or "password_hash" in values:
            # a disabled user, a changed role or a new password ends every open session
            s.execute(update(SessionRow).where(SessionRow.user_id == user.id)
                      .values(revoked=True))
        append_event(s, actor=actor, role=actor_role, action=action, object_ids=[username],
                     detail={"before": before, "after": {k: values[k] for k in shown},
                             "password_changed": "password_hash" in values})
        return user


def disable_user(ws: Any, username: str, *, actor: str = "system",
                 actor_role: str = "admin") -> User:
    return _modify(ws, username, "user.disable", actor, actor_role, disabled=True)


def enable_user(ws: Any, username: str, *, actor: str = "system",
                actor_role: str = "admin") -> User:
    return _modify(ws, username, "user.enable", actor, actor_role, disabled=False,
                   failed_logins=0, locked_until=None)


def set_role(ws: Any, username: str, role: str, *, actor: str = "system",
             actor_role: str = "admin") -> User:
    _check_role(role)
    return _modify(ws, username, "user.set_role", actor, actor_role, role=role)


def set_password(ws: Any, username: str, password: str, *, actor: str = "system",
                 actor_role: str = "admin") -> User:
    minlen = governance_config(ws).password_min_chars
    if len(password) < minlen:
        raise UserAdminError(f"password must be at least {minlen} characters")
    return _modify(ws, username, "user.set_password", actor, actor_role,
                   password_hash=_hasher.hash(password))


def login(ws: Any, username: str, password: str, *, kind: str = "bearer",
          previous_token: str | None = None, client: str | None = None
          ) -> tuple[str, Principal]:
    """Check credentials and open a new session; returns (token, principal).

    Raises :class:`AuthError` (bad credentials, locked out, disabled). Every attempt is
    audited (``auth.login`` with result ok / failed / locked / disabled).
    """
    if kind not in ("cookie", "bearer"):
        raise ValueError("kind must be cookie or bearer")
    cfg = governance_config(ws)
    name = (username or "").replace("\x00", "").strip().lower()[:64]
    now = dt.datetime.now(dt.UTC)
    with session_scope(ws) as s:
        user = s.scalar(select(User).where(User.username == name))
        detail: dict[str, Any] = {"kind": kind, "client": client}
        if user is None:
            try:
                _hasher.verify(_DUMMY_HASH, password or "")
            except VerificationError:
                pass
            append_event(s, actor=name or "-", role="-", action="auth.login", result="failed",
                         detail={**detail, "reason": "unknown user"})
            s.commit()
            raise AuthError("bad_credentials", "wrong user name or password")
        if user.disabled:
            append_event(s, actor=name, role=user.role, action="auth.login", result="disabled",
                         detail=detail)
            s.commit()
            raise AuthError("disabled", "this account is disabled; ask an administrator")
        if user.locked_until and parse_iso(user.locked_until) > now:
            append_event(s, actor=name, role=user.role, action="auth.login", result="locked",
                         detail=detail)
            s.commit()
            raise AuthError("locked", f"too many failed logins: account locked until "
                                      f"{user.locked_until[:16].replace('T', ' ')} UTC")
        try:
            ok = _hasher.verify(user.password_hash, password or "")
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            ok = False
        if not ok:
            user.failed_logins = (user.failed_logins or 0) + 1
            msg = "wrong user name or password"
            result = "failed"
            if user.failed_logins >= cfg.lockout_attempts:
                until = now + dt.timedelta(minutes=cfg.lockout_minutes)
                user.locked_until = now_iso(until)
                user.failed_logins = 0
                result = "locked"
                msg += (f"; too many failed logins: account locked for "
                        f"{cfg.lockout_minutes:g} minutes")
            append_event(s, actor=name, role=user.role, action="auth.login", result=result,
                         detail=detail)
            s.commit()
            raise AuthError("locked" if result == "locked" else "bad_credentials", msg)
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = _hasher.hash(password)
        user.failed_logins = 0
        user.locked_until = None
        user.last_login_at = now_iso(now)
        if previous_token:
            s.execute(update(SessionRow).where(SessionRow.token_hash == _hash_token(previous_token))
                      .values(revoked=True))
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(24)
        expires = now_iso(now + dt.timedelta(hours=cfg.session_hours))
        s.add(SessionRow(token_hash=_hash_token(token), user_id=user.id, kind=kind,
                         csrf_token=csrf, created_at=now_iso(now), expires_at=expires,
                         revoked=False))
        append_event(s, actor=name, role=user.role, action="auth.login", result="ok",
                     detail=detail)
        principal = Principal(user.username, user.role, user.id, kind, csrf, expires)
    return token, principal


def resolve_session(ws: Any, token: str | None, *, kind: str | None = None) -> Principal | None:
    """The principal of a live session token (None if unknown, expired, revoked, disabled)."""
    if not token or len(token) > 256:
        return None
    now = now_iso()
    with session_scope(ws) as s:
        row = s.get(SessionRow, _hash_token(token))
        if row is None or row.revoked or row.expires_at <= now:
            return None
        if kind is not None and row.kind != kind:
            return None
        user = s.get(User, row.user_id)
        if user is None or user.disabled:
            return None
        return Principal(user.username, user.role, user.id, row.kind, row.csrf_token,
                         row.expires_at)


def logout(ws: Any, token: str | None) -> bool:
    """Revoke a session; audited. Returns whether a live session was ended."""
    if not token:
        return False
    with session_scope(ws) as s:
        row = s.get(SessionRow, _hash_token(token))
        if row is None or row.revoked:
            return False
        row.revoked = True
        user = s.get(User, row.user_id)
        append_event(s, actor=user.username if user else "-", role=user.role if user else "-",
                     action="auth.logout", detail={"kind": row.kind})
        return True


def expire_session_now(ws: Any, token: str) -> None:
    """Make a session expired (for tests and forced logout)."""
    with session_scope(ws) as s:
        s.execute(update(SessionRow).where(SessionRow.token_hash == _hash_token(token))
                  .values(expires_at=now_iso(dt.datetime(2000, 1, 1, tzinfo=dt.UTC))))


def upsert_user(ws: Any, username: str, role: str, password: str, *, actor: str = "system",
                actor_role: str = "admin") -> User:
    """Create the user, or reset role, password and lock state of an existing one (demo)."""
    if get_user(ws, username.strip().lower()) is None:
        return add_user(ws, username, role, password, actor=actor, actor_role=actor_role)[0]
    _check_role(role)
    minlen = governance_config(ws).password_min_chars
    if len(password) < minlen:
        raise UserAdminError(f"password must be at least {minlen} characters")
    return _modify(ws, username.strip().lower(), "user.update", actor, actor_role, role=role,
                   password_hash=_hasher.hash(password), disabled=False, failed_logins=0,
                   locked_until=None)
