"""Sign-in rate limiting: failed attempts are limited per account name (from any session) and
per browser session (whatever names it tries); while locked, even the right password is refused
without being checked; unknown names are treated like known ones."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from ui.auth import SignInLimiter, TooManyAttempts, UserStore, verify_limited

APP = Path(__file__).resolve().parent.parent / "ui" / "app.py"


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def users(tmp_path):
    store = UserStore(tmp_path / "users.json")
    store.add("camille", "bon-mot-de-passe", "community")
    return store


def test_five_failures_lock_the_account_and_the_delay_doubles(users):
    clock = Clock()
    limiter = SignInLimiter(clock=clock)
    for i in range(5):
        assert verify_limited(users.path, "camille", f"faux-{i}", f"s{i}", limiter) is None
    with pytest.raises(TooManyAttempts, match="réessayez dans 30 s"):
        verify_limited(users.path, "camille", "bon-mot-de-passe", "autre-session", limiter)
    clock.now += 31
    assert verify_limited(users.path, "Camille ", "faux", "s9", limiter) is None  # same name, other spelling
    with pytest.raises(TooManyAttempts, match="60 s"):
        verify_limited(users.path, "camille", "bon-mot-de-passe", "s9", limiter)
    clock.now += 61
    assert verify_limited(users.path, "camille", "bon-mot-de-passe", "s9", limiter) == "community"
    assert limiter.wait_s("camille", "s9") == 0  # a success clears the count


def test_unknown_names_are_limited_like_known_ones(users):
    limiter = SignInLimiter(clock=Clock())
    for name in ("camille", "personne"):
        for i in range(4):
            limiter.failed(name, f"{name}-{i}")  # (bcrypt is slow: the first four directly)
        assert verify_limited(users.path, name, "faux", f"{name}-4", limiter) is None
        with pytest.raises(TooManyAttempts) as locked:
            verify_limited(users.path, name, "faux", "x", limiter)
        assert "30 s" in str(locked.value)


def test_one_session_trying_many_names_is_locked(users):
    clock = Clock()
    limiter = SignInLimiter(clock=clock)
    for i in range(9):
        limiter.failed(f"nom-{i}", "session-a")
    assert verify_limited(users.path, "nom-9", "faux", "session-a", limiter) is None
    with pytest.raises(TooManyAttempts):
        verify_limited(users.path, "camille", "bon-mot-de-passe", "session-a", limiter)
    # Another session may still sign in to an account that was not targeted.
    assert verify_limited(users.path, "camille", "bon-mot-de-passe", "session-b", limiter) == "community"
    clock.now += 901  # failures older than the window no longer count
    assert verify_limited(users.path, "camille", "bon-mot-de-passe", "session-a", limiter) == "community"


def test_app_refuses_the_right_password_after_five_failures(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    name = f"dominique-{uuid.uuid4().hex[:6]}"  # the app's limiter is per process: a fresh name
    UserStore(tmp_path / "users.json").add(name, "le-bon", "staff")
    monkeypatch.setenv("COOPTER_STORE", str(tmp_path / "store"))  # no store: the sign-in still works
    monkeypatch.setenv("COOPTER_EMBED_MODEL", "fake:hashing")
    monkeypatch.setenv("COOPTER_USERS_FILE", str(tmp_path / "users.json"))
    monkeypatch.setenv("COOPTER_FEEDBACK_DB", str(tmp_path / "feedback.sqlite3"))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()

    def attempt(password: str):
        at.sidebar.text_input(key="signin-name").input(name)
        at.sidebar.text_input(key="signin-password").input(password)
        next(b for b in at.sidebar.button if b.label == "Se connecter").click().run()
        assert not at.exception, at.exception

    for i in range(5):
        attempt(f"mauvais-{i}")
    attempt("le-bon")
    errors = " ".join(e.value for e in at.sidebar.error) + " ".join(e.value for e in at.error)
    assert "trop de tentatives de connexion" in errors
    assert "auth" not in at.session_state  # still signed out
