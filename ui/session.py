"""Per-browser-session state: settings, the shared Assistant, who is signed in, the conversation.

The role is decided here and nowhere else. It enters the session only after a successful
password check (`sign_in`) or an OpenID Connect sign-in, and `resolve_role` re-reads the users
file (or the OIDC role map) at the start of every run, so every question is answered with the
account's current role: a removed account is signed out, a downgraded one loses access at once.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
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

log = logging.getLogger(__name__)


def settings() -> Settings:
    """Settings from defaults, coopter.toml and COOPTER_* variables; stops the page on error."""
    try:
        return load_settings()
    except CoopterError as exc:
        st.error(f"Configuration invalide : {exc}")
        st.stop()


class _Loader:
    """The Assistant of one Settings, loaded in a background thread, then warmed up.

    Loading (model, store, indexes) takes seconds: in a thread, the page is drawn at once and
    shows a progress message instead of a blank screen. Once loaded, one starter question per
    entry point is answered for nobody, so that the lexical index, the model's first calls and
    the sentence vectors the first visitors need are already done.
    """

    def __init__(self, settings: Settings):
        self.key = _key(settings)
        self.started = time.monotonic()
        self.ready = threading.Event()
        self.bot = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(settings,), name="coopter-chargement", daemon=True)
        self.thread.start()

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def _run(self, settings: Settings) -> None:
        try:
            from assistant.engine import Assistant
            from ingest.embedder import set_offline_env

            set_offline_env()
            self.bot = Assistant(settings)
        except BaseException as exc:  # noqa: BLE001 — shown (or re-raised) by the page that waits
            self.error = exc
        finally:
            self.ready.set()
        if self.bot is not None:
            self._warm()

    def _warm(self) -> None:
        from .starters import ENTRY_POINTS

        try:
            for _title, _icon, questions in ENTRY_POINTS:
                for question in questions[:WARM_PER_ENTRY]:
                    _wait_until_idle()
                    if _LOADERS.get(self.key) is not self:  # forgotten (re-ingest): stop
                        return
                    self.bot.ask(question, role="public")
        except Exception:  # a warm-up failure must not take the server down; questions will show it
            log.warning("préchauffage interrompu", exc_info=True)


_LOADERS: dict[str, _Loader] = {}  # one per process and settings, like st.cache_resource
_LOADERS_LOCK = threading.Lock()


WARM_PER_ENTRY = 1  # starter questions asked per entry point at warm-up
_asking = 0  # visitors' questions being answered now
_idle = threading.Condition()


@contextlib.contextmanager
def answering():
    """Marks a visitor's question in progress: the warm-up waits for it (the cores are shared,
    and a visitor must not wait behind questions nobody asked)."""
    global _asking
    with _idle:
        _asking += 1
    try:
        yield
    finally:
        with _idle:
            _asking -= 1
            _idle.notify_all()


def _wait_until_idle(timeout: float = 120) -> None:
    with _idle:
        _idle.wait_for(lambda: _asking == 0, timeout)


def _key(settings: Settings) -> str:
    """Settings as a dict key (they hold an unhashable `origin` map, left out of the dump)."""
    return settings.model_dump_json()


def start_loading(settings: Settings | None = None) -> _Loader:
    """Start loading the Assistant in the background (no-op when already started); returns
    its loader. app.py calls it on every run; under `coopter ui` the first run is ui/warmup.py's
    script health check, right after the server starts, so the first visitor waits less."""
    settings = settings or load_settings()
    with _LOADERS_LOCK:
        loader = _LOADERS.get(_key(settings))
        if loader is None:
            loader = _Loader(settings)
            _LOADERS[loader.key] = loader
        return loader


def assistant(settings: Settings):
    """The Assistant shared by all sessions (one per settings), or None after showing why.

    While it loads, a French progress message with the elapsed time takes its place."""
    loader = start_loading(settings)
    if not loader.ready.is_set():
        note, shown = st.empty(), -1
        while not loader.ready.wait(0.2):
            if int(loader.elapsed()) != shown:
                shown = int(loader.elapsed())
                note.info(f"Chargement du modèle et de la base documentaire… {shown} s", icon=":material/hourglass_top:")
        note.empty()
    if loader.error is not None:
        forget_assistant()  # tried again on the next run (e.g. after `coopter ingest`)
        if isinstance(loader.error, CoopterError):
            st.error(f"La base documentaire n'est pas disponible : {loader.error}")
            return None
        raise loader.error
    return loader.bot


def forget_assistant() -> None:
    """Drop the loaded Assistants (after the store was created or rebuilt)."""
    with _LOADERS_LOCK:
        _LOADERS.clear()


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
