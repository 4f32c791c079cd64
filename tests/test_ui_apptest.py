"""The web app: its small pure helpers, then the app driven by Streamlit's AppTest over the
shipped corpus ingested with the real model.

AppTest flows: a question gets a cited answer with source cards; starters are answered from public
documents; signing in changes what is visible; a bad password is refused; a removed account
is signed out; feedback lands in SQLite; the admin page exists for staff only; OIDC sign-in
maps an e-mail to a role.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

slow = pytest.mark.slow

APP = Path(__file__).resolve().parent.parent / "ui" / "app.py"
QUESTION = "Qu'est-ce qu'un pôle territorial de coopération économique ?"
COMMUNITY = ("camille", "motdepasse-communaute")
STAFF = ("sam", "motdepasse-equipe")


# -- pure helpers (fast) -------------------------------------------------------------------


def test_user_store_verifies_passwords_and_keeps_only_hashes(tmp_path):
    from assistant.errors import CoopterError
    from ui.auth import UserStore

    store = UserStore(tmp_path / "comptes" / "users.json")
    store.add("camille", "secret-1", "community")
    raw = store.path.read_text()
    assert "secret-1" not in raw and "$2b$" in raw
    assert oct(store.path.stat().st_mode & 0o777) == "0o600"
    assert store.verify("camille", "secret-1") == "community"
    assert store.verify("camille", "Secret-1") is None
    assert store.verify("inconnu", "secret-1") is None
    assert store.verify("camille", "x" * 100) is None
    store.add("camille", "secret-2", "staff")  # update
    assert store.list() == [("camille", "staff")] and store.role_of("camille") == "staff"
    store.remove("camille")
    assert store.role_of("camille") is None
    with pytest.raises(CoopterError, match="inconnu"):
        store.remove("camille")
    with pytest.raises(CoopterError, match="rôle inconnu"):
        store.add("x", "y", "admin")


def test_role_map_takes_highest_match_and_ignores_unverified_email(tmp_path):
    from ui.auth import RoleMap

    (tmp_path / "oidc_roles.json").write_text(
        json.dumps({"emails": {"Chef@Ademe.fr": "staff"}, "domains": {"ademe.fr": "community"}, "groups": {"equipe": "staff"}})
    )
    roles = RoleMap.beside(tmp_path / "users.json")
    assert roles.role_for("chef@ademe.fr") == "staff"
    assert roles.role_for("agent@ademe.fr") == "community"
    assert roles.role_for("agent@ademe.fr", email_verified=False) == "public"
    assert roles.role_for("x@ailleurs.fr", groups=["equipe"]) == "staff"
    assert roles.role_for(None) == "public"


def test_feedback_store_round_trip_and_csv(tmp_path):
    from ui.feedback import FeedbackStore

    store = FeedbackStore(tmp_path / "db" / "fb.sqlite3")
    row = store.add(role="public", question="Q ?", answer="R [1]", chunk_ids=["a", "b"], rating=1)
    store.update(row, rating=0, comment="  incomplet ")
    (got,) = store.rows()
    assert (got["rating"], got["comment"], got["cited_chunk_ids"]) == (0, "incomplet", ["a", "b"])
    assert store.to_csv().splitlines()[1].endswith("a b,0,incomplet")
    store.delete(row)
    assert store.rows() == []


def test_passage_highlight_escapes_html():
    from ui.components import highlight_html

    text = "Une phrase <b>sûre</b>.\nLa phrase   citée ici. Fin à 5 $."
    out = highlight_html(text, ["La phrase citée ici."])
    assert "<b>" not in out and "&lt;b&gt;" in out
    assert "<mark>La phrase   citée ici.</mark>" in out
    assert "$" not in out and "<br>" in out


def test_markdown_escape_and_overlap():
    from ui.components import md_escape, strip_overlap

    assert md_escape("# Titre [1] *x* $5") == "\\# Titre \\[1\\] \\*x\\* \\$5"
    assert md_escape("1. liste") == "1\\. liste"
    previous = "Début du passage. La phrase commune qui se répète entre deux passages."
    current = "La phrase commune qui se répète entre deux passages. La suite."
    assert strip_overlap(previous, current) == "La suite."
    assert strip_overlap("sans rapport", current) == current


# -- the app, through AppTest (real model, real store) ---------------------------------------


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


@slow
def test_question_gets_cited_answer_with_source_card(app):
    ask(app, QUESTION)
    answer = app.chat_message[-1]
    assert answer.name == "assistant"
    assert "[1]" in text_of(answer)
    cards = answer.expander
    assert cards and cards[0].label.replace("\\", "").startswith("[1] ")
    assert "<mark>" in text_of(cards[0])  # the sentences used are highlighted
    assert not app.session_state["messages"][-1]["answer"].abstained


@slow
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
        assert app.session_state["messages"] == [] and not app.chat_message


@slow
def test_community_sign_in_reveals_community_documents(app, app_paths):
    title = app_paths["community_title"]
    assert title not in document_titles(app)
    sign_in(app, *COMMUNITY)
    assert app.session_state["auth"]["role"] == "community"
    assert title in document_titles(app)


@slow
def test_bad_password_is_refused(app):
    sign_in(app, COMMUNITY[0], "mauvais-mot-de-passe")
    assert any("incorrect" in e.value for e in app.error)
    assert "auth" not in app.session_state
    sign_in(app, "inconnu", "peu-importe")
    assert "auth" not in app.session_state


@slow
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


@slow
def test_downgraded_account_loses_access_on_next_run(app, app_paths):
    from ui.auth import UserStore

    UserStore(app_paths["users"]).add("alix", "motdepasse-alix", "staff")
    sign_in(app, "alix", "motdepasse-alix")
    app.switch_page("views/admin.py").run()
    assert app.title[0].value == "Administration"
    UserStore(app_paths["users"]).add("alix", "motdepasse-alix", "community")
    app.switch_page("views/chat.py").run()
    ask(app, QUESTION)
    assert app.session_state["auth"]["role"] == "community"
    assert app.session_state["messages"][-1]["asked_as"] == "community"
    with pytest.raises(ValueError):
        app.switch_page("views/admin.py")


@slow
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


@slow
@pytest.mark.parametrize("account", [None, COMMUNITY])
def test_admin_page_is_not_registered_below_staff(app, account):
    if account:
        sign_in(app, *account)
    with pytest.raises(ValueError):
        app.switch_page("views/admin.py")


@slow
def test_staff_admin_page_shows_feedback_status_and_reindexes(app):
    sign_in(app, *STAFF)
    app.switch_page("views/admin.py").run()
    assert not app.exception, app.exception
    assert app.title[0].value == "Administration"
    assert {m.label for m in app.metric} >= {"Documents", "Passages"}
    next(b for b in app.button if b.label == "Réindexer le corpus").click().run()
    assert not app.exception, app.exception
    assert any("Corpus réindexé" in s.value for s in app.success)


@slow
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



@slow
def test_missing_store_explains_how_to_ingest(app_paths, monkeypatch, tmp_path):
    from streamlit.testing.v1 import AppTest

    set_env(monkeypatch, {**app_paths, "store": tmp_path / "vide"})
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    assert not at.exception, at.exception
    assert any("coopter ingest" in e.value for e in at.error)
    at.switch_page("views/documents.py").run()
    assert not at.exception and any("coopter ingest" in e.value for e in at.error)


# -- first contact: the page before the models, sources before the answer, the documents table --


def test_models_load_in_a_background_thread_once_per_settings(monkeypatch, tmp_path):
    import threading
    import time

    import assistant.engine
    from assistant.settings import Settings
    from ui import session

    gate = threading.Event()

    class SlowAssistant:
        def __init__(self, settings):
            gate.wait(30)
            self.settings = settings

        def ask(self, question, role):
            return None

    monkeypatch.setattr(assistant.engine, "Assistant", SlowAssistant)
    settings = Settings(store=tmp_path / "store")
    started = time.monotonic()
    loader = session.start_loading(settings)
    try:
        assert time.monotonic() - started < 1 and not loader.ready.is_set()
        assert session.start_loading(settings) is loader
        gate.set()
        assert loader.ready.wait(30) and loader.error is None
        assert isinstance(loader.bot, SlowAssistant)
    finally:
        gate.set()
        session._LOADERS.pop(loader.key, None)


def test_warm_up_asks_starters_only_while_no_visitor_is_answered(monkeypatch, tmp_path):
    import time

    import assistant.engine
    from assistant.settings import Settings
    from ui import session
    from ui.starters import ENTRY_POINTS

    asked = []

    class FakeAssistant:
        def __init__(self, settings):
            self.settings = settings

        def ask(self, question, role):
            asked.append((question, role))

    monkeypatch.setattr(assistant.engine, "Assistant", FakeAssistant)
    with session.answering():
        loader = session.start_loading(Settings(store=tmp_path / "store"))
        assert loader.ready.wait(30)
        time.sleep(0.3)
        assert asked == []  # a visitor's question goes first
    try:
        loader.thread.join(30)
        assert asked == [(questions[0], "public") for _, _, questions in ENTRY_POINTS]
    finally:
        session._LOADERS.pop(loader.key, None)


def test_chat_page_draws_title_starters_and_input_without_the_models(monkeypatch, tmp_path):
    from streamlit.testing.v1 import AppTest

    set_env(monkeypatch, {"corpus": tmp_path, "store": tmp_path / "vide", "users": tmp_path / "users.json",
                          "feedback": tmp_path / "feedback.sqlite3"})  # fmt: skip
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Assistant COOP'TER"
    assert len([b for b in at.button if (b.key or "").startswith("starter-")]) == 9
    assert at.chat_input
    assert any("coopter ingest" in e.value for e in at.error)


def test_server_flags_and_url_for_the_warm_up():
    from ui.warmup import server_flags, server_url

    flags = server_flags(["--server.port", "8600", "--server.headless", "true", "--server.baseUrlPath=/app/"])
    assert flags == ["server.port=8600", "server.headless=true", "server.baseUrlPath=/app/"]
    assert server_url(flags) == "http://127.0.0.1:8600/app/"
    assert server_url(["server.port=8601", "server.address=0.0.0.0"]) == "http://127.0.0.1:8601/"


@slow
def test_sources_reach_the_page_before_the_answer_text(real_assistant):
    events = []
    for piece in real_assistant.stream(QUESTION, role="public", on_retrieved=lambda ps, t: events.append(("sources", ps, t))):
        events.append(("text",) if isinstance(piece, str) else ("answer", piece))
    kinds = [e[0] for e in events]
    assert kinds[0] == "sources" and kinds.count("sources") == 1 and kinds[-1] == "answer" and "text" in kinds
    passages, timings = events[0][1], events[0][2]
    assert passages and {p.access for p in passages} == {"public"} and "retrieve_ms" in timings
    answer = events[-1][1]
    assert {c.doc_id for c in answer.citations} & {p.doc_id for p in passages}


@slow
def test_answer_shows_search_and_total_time(app):
    import re

    ask(app, QUESTION)
    answer = app.chat_message[-1]
    timing = re.compile(r"Recherche : \d+,\d s · réponse complète : \d+,\d s")
    assert any(timing.fullmatch(c.value) for c in answer.caption), [c.value for c in answer.caption]
    assert answer.expander  # the source cards
    clock = app.session_state["messages"][-1]["timing"]
    assert 0 < clock["search"] <= clock["total"]


@slow
def test_documents_table_wraps_and_opens_only_what_the_role_may_read(app, app_paths, real_assistant):
    import json

    app.switch_page("views/documents.py").run()
    assert not app.exception, app.exception
    table = app.dataframe[0]
    public = real_assistant.documents("public")
    assert sorted(table.value["Titre"]) == sorted(d.title for d in public)
    assert app_paths["community_title"] not in list(table.value["Titre"])
    # rows taller than 4rem wrap long titles and themes instead of cutting them
    assert table.proto.row_height > 64
    assert table.proto.selection_mode  # a click on a row opens the document

    doc = public[0]
    choice = app.selectbox(key="doc-choice")
    choice.select_index(choice.options.index(doc.title)).run()
    assert not app.exception, app.exception
    assert app.subheader[0].value == doc.title
    shown = text_of(app.main)
    assert real_assistant.document_text(doc.doc_id, "public")[0].text[:40].replace("\\", "") in shown

    assert json.loads(table.proto.columns)  # column widths are set

    # a document above the role's clearance cannot be opened, even by forcing the choice
    from streamlit.testing.v1 import AppTest

    hidden = next(d for d in real_assistant.documents("community") if d.title == app_paths["community_title"])
    forced = AppTest.from_file(str(APP), default_timeout=120)
    forced.session_state["doc-choice"] = hidden.doc_id
    forced.switch_page("views/documents.py").run()
    assert not forced.exception, forced.exception
    assert not forced.subheader and hidden.title not in text_of(forced.main)
    assert forced.session_state["doc-choice"] is None


def test_coopter_ui_starts_the_warm_up_with_the_server(monkeypatch, tmp_path):
    import os
    import subprocess

    from click.testing import CliRunner

    from assistant import cli

    calls = {}
    monkeypatch.setattr(subprocess, "Popen", lambda cmd, **kw: calls.setdefault("helper", cmd))

    def fake_execve(path, cmd, env):
        calls["server"] = cmd
        raise SystemExit(0)

    monkeypatch.setattr(os, "execve", fake_execve)
    result = CliRunner().invoke(cli.main, ["ui", "--store", str(tmp_path / "store"), "--server.port", "8600"])
    assert result.exit_code == 0, result.output
    server, helper = calls["server"], calls["helper"]
    assert server[server.index("--server.scriptHealthCheckEnabled") + 1] == "true"
    assert helper[1].endswith(os.path.join("ui", "warmup.py")) and "server.port=8600" in helper
    assert "--server.port" not in helper  # the helper must not pass for the server


@slow
def test_a_refusal_offers_its_suggested_questions_as_buttons(app):
    ask(app, "Quelle est la recette de la tarte tatin ?")
    answer = app.session_state["messages"][-1]["answer"]
    assert answer.abstained and len(answer.suggestions) == 2
    shown = text_of(app.chat_message[-1])
    assert "Je ne trouve pas" in shown and "Questions auxquelles je sais répondre :" not in shown
    buttons = [b for b in app.button if (b.key or "").startswith("suggest-")]
    assert [b.label for b in buttons] == answer.suggestions
    app.button(key=buttons[0].key).click().run()
    assert not app.exception, app.exception
    follow = app.session_state["messages"][-1]["answer"]
    assert follow.question == answer.suggestions[0] and not follow.abstained
