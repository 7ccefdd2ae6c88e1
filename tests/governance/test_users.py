"""Users, sessions, lockout, disabling."""

from __future__ import annotations

import pytest

from casegraph.governance.audit import list_events, verify
from casegraph.governance.users import (
    AuthError,
    UserAdminError,
    add_user,
    disable_user,
    expire_session_now,
    list_users,
    login,
    logout,
    resolve_session,
    set_role,
    upsert_user,
)

PW = "correct-horse-battery"


def test_add_and_login(gws) -> None:
    u, generated = add_user(gws, "Ana", "analyst", PW)
    assert u.username == "ana" and generated is None
    assert u.password_hash.startswith("$argon2")
    token, p = login(gws, "ana", PW)
    assert p.role == "analyst"
    assert resolve_session(gws, token).username == "ana"
    assert resolve_session(gws, token, kind="cookie") is None  # a bearer token is not a cookie
    assert logout(gws, token)
    assert resolve_session(gws, token) is None


def test_generated_password(gws) -> None:
    _, generated = add_user(gws, "bob", "officer")
    assert generated and len(generated) >= 16
    login(gws, "bob", generated)


@pytest.mark.parametrize("name,role,pw,msg", [
    ("x", "analyst", PW, "2-64 characters"),
    ("ok-name", "wizard", PW, "unknown role"),
    ("ok-name", "analyst", "short", "at least"),
])
def test_add_refuses(gws, name, role, pw, msg) -> None:
    with pytest.raises(UserAdminError, match=msg):
        add_user(gws, name, role, pw)


def test_duplicate_refused(gws) -> None:
    add_user(gws, "ana", "analyst", PW)
    with pytest.raises(UserAdminError, match="already exists"):
        add_user(gws, "ana", "admin", PW)


def test_wrong_password_and_unknown_user_are_audited(gws) -> None:
    add_user(gws, "ana", "analyst", PW)
    with pytest.raises(AuthError) as e:
        login(gws, "ana", "nope")
    assert e.value.reason == "bad_credentials"
    with pytest.raises(AuthError):
        login(gws, "ghost", "nope")
    evs, _ = list_events(gws, action="auth.login")
    assert [e.result for e in evs] == ["failed", "failed"]
    assert verify(gws).ok


def test_lockout_after_repeated_failures(gws) -> None:
    add_user(gws, "ana", "analyst", PW)
    for _ in range(4):
        with pytest.raises(AuthError) as e:
            login(gws, "ana", "bad")
        assert e.value.reason == "bad_credentials"
    with pytest.raises(AuthError) as e:
        login(gws, "ana", "bad")
    assert e.value.reason == "locked"
    with pytest.raises(AuthError) as e:  # even the right password is refused while locked
        login(gws, "ana", PW)
    assert e.value.reason == "locked" and "locked until" in str(e.value)


def test_disabled_user_and_role_change_end_sessions(gws) -> None:
    add_user(gws, "ana", "analyst", PW)
    add_user(gws, "sue", "supervisor", PW)
    t1, _ = login(gws, "ana", PW)
    t2, _ = login(gws, "sue", PW)
    disable_user(gws, "ana")
    assert resolve_session(gws, t1) is None
    with pytest.raises(AuthError) as e:
        login(gws, "ana", PW)
    assert e.value.reason == "disabled"
    set_role(gws, "sue", "analyst")
    assert resolve_session(gws, t2) is None
    assert login(gws, "sue", PW)[1].role == "analyst"
    assert [u.username for u in list_users(gws)] == ["ana", "sue"]


def test_password_change_ends_sessions(gws) -> None:
    from casegraph.governance.users import set_password

    add_user(gws, "ana", "analyst", PW)
    token, _ = login(gws, "ana", PW)
    set_password(gws, "ana", "a-brand-new-password")
    assert resolve_session(gws, token) is None
    with pytest.raises(AuthError):
        login(gws, "ana", PW)
    assert login(gws, "ana", "a-brand-new-password")[1].username == "ana"


def test_session_expiry(gws) -> None:
    add_user(gws, "ana", "analyst", PW)
    token, _ = login(gws, "ana", PW)
    expire_session_now(gws, token)
    assert resolve_session(gws, token) is None


def test_login_revokes_presented_session(gws) -> None:
    add_user(gws, "ana", "analyst", PW)
    old, _ = login(gws, "ana", PW, kind="cookie")
    new, _ = login(gws, "ana", PW, kind="cookie", previous_token=old)
    assert new != old
    assert resolve_session(gws, old) is None
    assert resolve_session(gws, new) is not None


def test_upsert_user_resets(gws) -> None:
    upsert_user(gws, "demo", "analyst", PW)
    upsert_user(gws, "demo", "supervisor", "another-password-1")
    assert login(gws, "demo", "another-password-1")[1].role == "supervisor"
    evs, _ = list_events(gws, user="system")
    assert all("$argon2" not in str(e.detail) for e in evs)  # hashes never reach the log
