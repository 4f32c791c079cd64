"""Per-browser-session state: settings, the shared Assistant, who is signed in, the conversation.

The role is decided here and nowhere else. It enters the session only after a successful
password check (`sign_in`) or an OpenID Connect sign-in, and `resolve_role` re-reads the users
file (or the OIDC role map) at the start of every run, so every question is answered with the
account's current role: a removed account is signed out, a downgraded one loses access at once.
"""

from __future__ import annotations

import uuid

import streamlit as st

from assistant.errors import CoopterError
from assistant.schema import ACCESS_LABELS_FR
from assistant.settings import Settings, load_settings

from .auth import ANONYMOUS_ROLE, RoleMap, TooManyAttempts, UserStore, verify_limited

AUTH = "auth"  # {"name": ..., "role": ..., "via": "password" | "oidc"}
CONVERSATION = "conversation"
MESSAGES = "messages"
PENDING = "pending_question"


def settings() -> Settings:
    """Settings from defaults, coopter.toml and COOPTER_* variables; stops the page on error."""
    try:
        return load_settings()
    except CoopterError as exc:
        st.error(f"Configuration invalide : {exc}")
        st.stop()


@st.cache_resource(show_spinner="Chargement du modèle et de la base documentaire…")
def _load_assistant(settings: Settings):
    from assistant.engine import Assistant
    from ingest.embedder import set_offline_env

    set_offline_env()
    return Assistant(settings)


def assistant(settings: Settings):
    """The Assistant shared by all sessions (one per settings), or None after showing why."""
    try:
        return _load_assistant(settings)
    except CoopterError as exc:
        st.error(f"La base documentaire n'est pas disponible : {exc}")
        return None


def forget_assistant() -> None:
    """Drop the cached Assistant (after the store was created or rebuilt)."""
    _load_assistant.clear()


def oidc_enabled() -> bool:
    """True when secrets.toml has an [auth] section: sign-in goes through `st.login()`."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all, or an unreadable one
        return False


def role() -> str:
    """The role resolved for this run (public when nobody is signed in)."""
    auth = st.session_state.get(AUTH)
    return auth["role"] if auth else ANONYMOUS_ROLE


def user_name() -> str | None:
    auth = st.session_state.get(AUTH)
    return auth["name"] if auth else None


def _oidc_identity(settings: Settings) -> dict | None:
    if not (oidc_enabled() and st.user.is_logged_in):
        return None
    email = st.user.get("email") or ""
    groups = st.user.get("groups") or []
    if isinstance(groups, str):
        groups = [groups]
    verified = st.user.get("email_verified", True) is not False
    granted = RoleMap.beside(settings.users_file).role_for(email, list(groups), verified)
    return {"name": email or st.user.get("name") or "compte", "role": granted, "via": "oidc"}


def resolve_role(settings: Settings) -> str:
    """Re-check the signed-in identity against its source of truth; returns the current role.

    Also rebinds the conversation when the role changed (its history may hold passages the
    new role must not see).
    """
    auth = st.session_state.get(AUTH)
    try:
        if oidc_enabled():
            auth = _oidc_identity(settings)
        elif auth and auth["via"] == "password":
            current = UserStore(settings.users_file).role_of(auth["name"])
            if current is None:
                st.warning("Votre compte n'est plus actif : vous avez été déconnecté(e).")
                auth = None
            elif current != auth["role"]:
                st.info(f"Votre profil a changé : {ACCESS_LABELS_FR[current]}.")
                auth = {**auth, "role": current}
        else:
            auth = None
    except CoopterError as exc:
        st.error(f"Comptes indisponibles, session anonyme : {exc}")
        auth = None
    if auth is None:
        st.session_state.pop(AUTH, None)
    else:
        st.session_state[AUTH] = auth
    conversation()
    return role()


def sign_in(settings: Settings, name: str, password: str) -> bool:
    """Check a password against the users file; on success the session takes the account's role."""
    # Failures are limited per account name and per browser session (ui.auth.SignInLimiter).
    session_id = st.session_state.setdefault("signin_session", uuid.uuid4().hex)
    try:
        granted = verify_limited(settings.users_file, name, password, session_id)
    except TooManyAttempts as exc:
        st.error(f"Connexion refusée : {exc}.")
        return False
    except CoopterError as exc:
        st.error(f"Comptes indisponibles : {exc}")
        return False
    if granted is None:
        return False
    st.session_state[AUTH] = {"name": name.strip(), "role": granted, "via": "password"}
    conversation()
    return True


def sign_out() -> None:
    st.session_state.pop(AUTH, None)
    conversation()


def conversation():
    """This session's Conversation, recreated (history cleared) when the role changed."""
    from assistant.conversation import Conversation

    conv = st.session_state.get(CONVERSATION)
    if conv is None or conv.role != role():
        conv = Conversation(role=role())
        st.session_state[CONVERSATION] = conv
        st.session_state[MESSAGES] = []
    return conv


def messages() -> list[dict]:
    """The chat history shown on screen (dicts made by `add_message`)."""
    conversation()
    return st.session_state[MESSAGES]


def add_message(kind: str, text: str, answer=None) -> dict:
    """Append a message ("user" or "assistant"); returns it."""
    msg = {"id": uuid.uuid4().hex, "kind": kind, "text": text, "answer": answer, "asked_as": role()}
    messages().append(msg)
    return msg


def new_conversation() -> None:
    st.session_state.pop(CONVERSATION, None)
    st.session_state.pop(PENDING, None)
    conversation()


def ask_later(question: str) -> None:
    """Queue a question (a starter button) to be asked on this run."""
    st.session_state[PENDING] = question


def take_pending() -> str | None:
    return st.session_state.pop(PENDING, None)
