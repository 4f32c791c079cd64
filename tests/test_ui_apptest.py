"""The web app driven by Streamlit's AppTest, over the shipped corpus ingested with the real model.

Flows: a question gets a cited answer with source cards; starters are answered from public
documents; signing in changes what is visible; a bad password is refused; a removed account
is signed out; feedback lands in SQLite; the admin page exists for staff only; OIDC sign-in
maps an e-mail to a role.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

APP = Path(__file__).resolve().parent.parent / "ui" / "app.py"
QUESTION = "Qu'est-ce qu'un pôle territorial de coopération économique ?"
COMMUNITY = ("camille", "motdepasse-communaute")
STAFF = ("sam", "motdepasse-equipe")


@pytest.fixture(scope="module")
def app_paths(real_store, tmp_path_factory):
    """The ingested store, an accounts file (one community, one staff account), a feedback db,
    and the title of a document only the community may see."""
    from assistant.store import open_store
    from ui.auth import UserStore

    settings, _ = real_store
    tmp = tmp_path_factory.mktemp("ui")
    users = UserStore(tmp / "users.json")
    users.add(*COMMUNITY, "community")
    users.add(*STAFF, "staff")
    by_access: dict[str, set[str]] = {}
    for meta in open_store(settings).iter_metadatas():
        by_access.setdefault(meta["access"], set()).add(meta["title"])
    community_only = sorted(by_access.get("community", set()) - by_access.get("public", set()))
    assert community_only, "le corpus livré doit contenir un document réservé à la communauté"
    return {
        "corpus": settings.corpus_dir,
        "store": settings.store,
        "users": tmp / "users.json",
        "feedback": tmp / "feedback.sqlite3",
        "community_title": community_only[0],
    }


def set_env(monkeypatch, paths: dict) -> None:
    monkeypatch.setenv("COOPTER_CORPUS_DIR", str(paths["corpus"]))
    monkeypatch.setenv("COOPTER_STORE", str(paths["store"]))
    monkeypatch.setenv("COOPTER_USERS_FILE", str(paths["users"]))
    monkeypatch.setenv("COOPTER_FEEDBACK_DB", str(paths["feedback"]))


@pytest.fixture
def app(app_paths, monkeypatch):
    from streamlit.testing.v1 import AppTest

    set_env(monkeypatch, app_paths)
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def text_of(block) -> str:
    """All Markdown shown in a block, Markdown escapes removed."""
    return "\n".join(m.value for m in block.markdown).replace("\\", "")


def ask(at, question: str):
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return at


def sign_in(at, name: str, password: str):
    at.sidebar.text_input(key="signin-name").input(name)
    at.sidebar.text_input(key="signin-password").input(password)
    next(b for b in at.sidebar.button if b.label == "Se connecter").click().run()
    assert not at.exception, at.exception
    return at


def document_titles(at) -> list[str]:
    at.switch_page("views/documents.py").run()
    assert not at.exception, at.exception
    return list(at.selectbox[0].options)


def test_question_gets_cited_answer_with_source_card(app):
    ask(app, QUESTION)
    answer = app.chat_message[-1]
    assert answer.name == "assistant"
    assert "[1]" in text_of(answer)
    cards = answer.expander
    assert cards and cards[0].label.replace("\\", "").startswith("[1] ")
    assert "<mark>" in text_of(cards[0])  # the sentences used are highlighted
    assert not app.session_state["messages"][-1]["answer"].abstained


def test_starters_are_answered_from_public_documents(app):
    from ui.starters import ENTRY_POINTS

    starters = [b for b in app.button if (b.key or "").startswith("starter-")]
    assert len(starters) == 3 * len(ENTRY_POINTS) == 9
    for i in range(len(starters)):
        app.button(key=starters[i].key).click().run()
        assert not app.exception, app.exception
        answer = app.session_state["messages"][-1]["answer"]
        assert not answer.abstained, answer.question
        assert answer.citations and {c.access for c in answer.citations} == {"public"}
        next(b for b in app.button if b.label == "Nouvelle conversation").click().run()


def test_community_sign_in_reveals_community_documents(app, app_paths):
    title = app_paths["community_title"]
    assert title not in document_titles(app)
    sign_in(app, *COMMUNITY)
    assert app.session_state["auth"]["role"] == "community"
    assert title in document_titles(app)


def test_bad_password_is_refused(app):
    sign_in(app, COMMUNITY[0], "mauvais-mot-de-passe")
    assert any("incorrect" in e.value for e in app.error)
    assert "auth" not in app.session_state
    sign_in(app, "inconnu", "peu-importe")
    assert "auth" not in app.session_state


def test_removed_account_is_signed_out_on_next_question(app, app_paths):
    from ui.auth import UserStore

    UserStore(app_paths["users"]).add("dominique", "motdepasse-temporaire", "community")
    sign_in(app, "dominique", "motdepasse-temporaire")
    assert app.session_state["auth"]["role"] == "community"
    UserStore(app_paths["users"]).remove("dominique")
    ask(app, QUESTION)
    assert "auth" not in app.session_state
    assert any("plus actif" in w.value for w in app.warning)
    assert app.session_state["conversation"].role == "public"
    assert app.session_state["messages"][-1]["asked_as"] == "public"


def test_feedback_is_stored_in_sqlite(app, app_paths):
    ask(app, QUESTION)
    app.feedback[0].set_value(0).run()  # thumbs down
    form_input = next(t for t in app.text_input if t.label.startswith("Un commentaire"))
    form_input.input("Il manque les sources de financement.")
    next(b for b in app.button if b.label == "Envoyer le commentaire").click().run()
    assert not app.exception, app.exception
    answer = app.session_state["messages"][-1]["answer"]
    with sqlite3.connect(app_paths["feedback"]) as conn:
        row = conn.execute(
            "SELECT role, question, answer, cited_chunk_ids, rating, comment FROM feedback ORDER BY id DESC LIMIT 1"
        ).fetchone()
    role, question, text, chunk_ids, rating, comment = row
    assert (role, question, text, rating) == ("public", QUESTION, answer.answer, 0)
    assert json.loads(chunk_ids) == [c.chunk_id for c in answer.citations]
    assert comment == "Il manque les sources de financement."


@pytest.mark.parametrize("account", [None, COMMUNITY])
def test_admin_page_is_not_registered_below_staff(app, account):
    if account:
        sign_in(app, *account)
    with pytest.raises(ValueError):
        app.switch_page("views/admin.py")


def test_staff_admin_page_shows_feedback_status_and_reindexes(app):
    sign_in(app, *STAFF)
    app.switch_page("views/admin.py").run()
    assert not app.exception, app.exception
    assert app.title[0].value == "Administration"
    assert {m.label for m in app.metric} >= {"Documents", "Passages"}
    next(b for b in app.button if b.label == "Réindexer le corpus").click().run()
    assert not app.exception, app.exception
    assert any("Corpus réindexé" in s.value for s in app.success)


def test_oidc_sign_in_maps_email_to_role(app_paths, monkeypatch, tmp_path):
    from streamlit.testing.v1 import AppTest

    users = tmp_path / "users.json"
    (tmp_path / "oidc_roles.json").write_text(json.dumps({"domains": {"reseau.example": "community"}}))
    set_env(monkeypatch, {**app_paths, "users": users})
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.secrets["auth"] = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x"}
    at.user = {"is_logged_in": True, "email": "alex@reseau.example", "email_verified": True}
    at.run()
    assert not at.exception, at.exception
    assert at.session_state["auth"]["role"] == "community"
    assert app_paths["community_title"] in document_titles(at)
    at.user = {"is_logged_in": True, "email": "alex@ailleurs.example"}
    assert app_paths["community_title"] not in document_titles(at)
    assert "auth" in at.session_state and at.session_state["auth"]["role"] == "public"


@pytest.fixture(scope="module")
def real_store(tmp_path_factory):  # DEV-ONLY: remove once corpus/ is complete
    from assistant.settings import Settings
    from ingest import run

    s = Settings(corpus_dir=Path("/tmp/devcorpus"), store=tmp_path_factory.mktemp("dev") / "store")
    return s, run(s)
