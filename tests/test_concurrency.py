"""Under load: one shared Assistant (as the web app holds one) answering 20 simultaneous
questions from 20 threads, each with its own role, with the real embedder; questions asked
while an ingestion rewrites the store get consistent answers; 20 app sessions through AppTest;
and the page scripts run without Streamlit's "magic", whose `ast.parse` in script threads raced
with the loader thread on CPython 3.11.7 (see .streamlit/config.toml)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from assistant.engine import Assistant
from assistant.settings import Settings
from ingest import run

from .conftest import front, write

DOCS = {  # doc id -> (access, question, marker only its answer holds)
    "public/ptce": ("public", "Qu'est-ce qu'un pôle territorial de coopération économique ?", "MARQUE-PUBLIC-PTCE"),
    "public/scic": ("public", "Qu'est-ce qu'une société coopérative d'intérêt collectif ?", "MARQUE-PUBLIC-SCIC"),
    "communaute/atelier": ("community", "Quels capitaux patients l'atelier financement a-t-il retenus ?", "MARQUE-COMM-ATELIER"),
    "interne/comite": ("staff", "Quand le comité de sélection interne se réunit-il ?", "MARQUE-STAFF-COMITE"),
}
RANK = {"public": 0, "community": 1, "staff": 2}


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    root = tmp_path_factory.mktemp("charge")
    texts = {
        "public/ptce": "Un pôle territorial de coopération économique rassemble des acteurs de l'ESS, des collectivités et des entreprises autour d'un projet économique commun.",
        "public/scic": "Une société coopérative d'intérêt collectif associe salariés, usagers et collectivités au capital de l'entreprise.",
        "communaute/atelier": "L'atelier financement a retenu les capitaux patients des fondations et les prêts d'honneur pour financer les coopérations.",
        "interne/comite": "Le comité de sélection interne se réunit en mars et en octobre pour instruire les candidatures.",
    }
    for doc_id, (access, _, marker) in DOCS.items():
        write(root / "corpus" / f"{doc_id}.md", front(doc_id.split("/")[1].capitalize(), access=access)
              + f"## Contenu\n\n{texts[doc_id]} {marker}.\n")
    settings = Settings(corpus_dir=root / "corpus", store=root / "store")  # the real embedder
    run(settings)
    return settings, Assistant(settings)


def _expected(role: str, doc_id: str) -> bool:
    return RANK[DOCS[doc_id][0]] <= RANK[role]


def test_twenty_simultaneous_questions_each_with_its_own_role(shared):
    _, bot = shared
    jobs = []
    for i in range(20):
        role = ("public", "community", "staff")[i % 3]
        doc_id = list(DOCS)[i % len(DOCS)]
        jobs.append((role, doc_id))
    t0 = time.perf_counter()
    reference = {(r, d): bot.ask(DOCS[d][1], role=r) for r, d in set(jobs)}  # one at a time
    one_each = (time.perf_counter() - t0) / len(reference)

    barrier = threading.Barrier(20)

    def ask(job):
        role, doc_id = job
        barrier.wait()  # all 20 start together
        return bot.ask(DOCS[doc_id][1], role=role)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(ask, jobs))
    wall = time.perf_counter() - started
    for (role, doc_id), answer in zip(jobs, answers):
        ref = reference[(role, doc_id)]
        assert (answer.answer, [c.chunk_id for c in answer.citations]) == (ref.answer, [c.chunk_id for c in ref.citations])
        cited = {c.doc_id for c in answer.citations}
        assert (doc_id in cited) == _expected(role, doc_id), (role, doc_id, answer.answer)
        assert (DOCS[doc_id][2] in " ".join(c.text for c in answer.citations)) == _expected(role, doc_id)
        assert all(RANK[c.access] <= RANK[role] for c in answer.citations)
        assert all(RANK[p.access] <= RANK[role] for p in answer.retrieved)
    print(f"\n20 questions simultanées (3 profils) : {wall:.2f} s au total, toutes correctes "
          f"(une à la fois : {one_each:.2f} s par question)")


def test_questions_during_an_ingest_get_consistent_answers(tmp_path):
    """An ingestion replaces every document (version 1 -> 2) while questions are asked: each
    answer cites chunks of one version whose text is whole, never a chunk above the role, and
    once the ingestion is over the answers are version 2."""
    from ingest.embedder import HashingEmbedder

    corpus = tmp_path / "corpus"

    def write_corpus(version: int) -> None:
        for i in range(30):
            access = ("public", "community", "staff")[i % 3]
            write(corpus / f"d{i:02d}.md", front(f"Document {i}", access=access)
                  + f"## Coopération\n\nLa coopération territoriale {i} réunit les collectivités. VERSION-{version}-DOC-{i}.\n")

    write_corpus(1)
    settings = Settings(corpus_dir=corpus, store=tmp_path / "store", embed_model="fake:hashing", abstain_threshold=0.05)
    embedder = HashingEmbedder()
    run(settings, embedder=embedder)
    bot = Assistant(settings, embedder=embedder)
    write_corpus(2)
    done = threading.Event()
    errors: list[BaseException] = []

    def ingest():
        try:
            run(settings, embedder=embedder)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            done.set()

    thread = threading.Thread(target=ingest)
    thread.start()
    asked = 0
    while not done.is_set() or asked < 5:
        for role in ("public", "community", "staff"):
            answer = bot.ask("Que réunit la coopération territoriale 3 ?", role=role)
            asked += 1
            for c in answer.citations:
                assert RANK[c.access] <= RANK[role]
                # A whole chunk of one version, as written by that version's ingestion.
                assert c.text.count("VERSION-") == 1 and c.text.rstrip().endswith(".")
    thread.join()
    assert not errors, errors
    final = bot.ask("Que réunit la coopération territoriale 3 ?", role="staff")
    assert final.citations and all("VERSION-2" in c.text for c in final.citations)
    print(f"\n{asked} questions posées pendant l'ingestion, toutes cohérentes")


def test_twenty_app_sessions_each_with_its_own_role(shared, tmp_path, monkeypatch):
    """20 web-app sessions (Streamlit's AppTest) open at once, each signed in with its own
    account and role, ask in turn: each gets its own role's answer and holds only its own
    conversation. AppTest drives one global runtime, so the sessions are served one after the
    other here; simultaneous answering is test_twenty_simultaneous_questions_each_with_its_own_role
    (the app's sessions share that one Assistant)."""
    from streamlit.testing.v1 import AppTest

    from ui.auth import UserStore

    from .test_signin import APP

    settings, _ = shared
    users = UserStore(tmp_path / "users.json")
    roles = [("public", "community", "staff")[i % 3] for i in range(20)]
    for i, role in enumerate(roles):
        if role != "public":
            users.add(f"compte{i}", f"secret-{i}", role)
    monkeypatch.setenv("COOPTER_CORPUS_DIR", str(settings.corpus_dir))
    monkeypatch.setenv("COOPTER_STORE", str(settings.store))
    monkeypatch.setenv("COOPTER_USERS_FILE", str(users.path))
    monkeypatch.setenv("COOPTER_FEEDBACK_DB", str(tmp_path / "feedback.sqlite3"))

    started = time.perf_counter()
    sessions = []
    for i, role in enumerate(roles):  # all 20 open and signed in before anyone asks
        at = AppTest.from_file(str(APP), default_timeout=180)
        at.run()
        if role != "public":
            at.sidebar.text_input(key="signin-name").input(f"compte{i}")
            at.sidebar.text_input(key="signin-password").input(f"secret-{i}")
            next(b for b in at.sidebar.button if b.label == "Se connecter").click().run()
        assert not at.exception, at.exception
        sessions.append(at)
    for i, at in enumerate(sessions):
        at.chat_input[0].set_value(DOCS[list(DOCS)[i % len(DOCS)]][1]).run()
        assert not at.exception, at.exception
    wall = time.perf_counter() - started
    for i, (role, at) in enumerate(zip(roles, sessions)):
        doc_id = list(DOCS)[i % len(DOCS)]
        assert (at.session_state["auth"]["role"] if "auth" in at.session_state else "public") == role
        messages = at.session_state["messages"]
        assert [m["kind"] for m in messages] == ["user", "assistant"]  # its own conversation only
        answer = messages[-1]["answer"]
        assert (doc_id in {c.doc_id for c in answer.citations}) == _expected(role, doc_id), (role, doc_id, answer.answer)
        assert all(RANK[c.access] <= RANK[role] for c in answer.citations)
    print(f"\n20 sessions de l'application (AppTest, 3 profils) ouvertes ensemble, chacune servie : {wall:.1f} s")


def test_page_scripts_run_without_streamlit_magic(settings, monkeypatch):
    """Streamlit's "magic" rewrites every page script with `ast.parse` in its script thread, and
    AppTest does it again at each run. Before CPython 3.11.8, two threads building AST objects at
    once can fail with « SystemError: AST constructor recursion depth mismatch » (gh-106905); the
    app's loader thread builds some too (np.load parses .npy headers with ast.literal_eval), and
    test_twenty_app_sessions_each_with_its_own_role failed that way once. Stressed (AppTest runs
    beside a thread calling np.load), 2 runs in 40 failed with magic, 0 without. So:
    .streamlit/config.toml turns magic off, which changes nothing users see (no page relies on
    it), and AppTest honours that file."""
    import ast

    from streamlit import config
    from streamlit.runtime.scriptrunner import magic
    from streamlit.testing.v1 import AppTest

    from .conftest import ROOT

    pages = [ROOT / "ui" / "app.py", *sorted((ROOT / "ui" / "views").glob("*.py"))]
    for page in pages:  # magic would display nothing: no bare expression, no stray string
        tree = magic.add_magic(page.read_text(encoding="utf-8"), str(page))
        writes = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr == "transparent_write"]
        assert not writes, f"{page.name}, lignes {writes} : affichées par la « magie » de Streamlit, désactivée"
    assert config.get_option("runner.magicEnabled") is False, (
        f"runner.magicEnabled vient de {config.get_where_defined('runner.magicEnabled')} : "
        ".streamlit/config.toml le met à false (pytest lancé depuis la racine du dépôt)")
    rewritten = []
    monkeypatch.setattr(magic, "add_magic", lambda code, path: rewritten.append(path) or ast.parse(code, path))
    run(settings)
    for name, value in (("CORPUS_DIR", settings.corpus_dir), ("STORE", settings.store), ("EMBED_MODEL", "fake:hashing"),
                        ("ABSTAIN_THRESHOLD", "0.05"), ("USERS_FILE", settings.users_file),
                        ("FEEDBACK_DB", settings.feedback_db)):
        monkeypatch.setenv(f"COOPTER_{name}", str(value))
    at = AppTest.from_file(str(ROOT / "ui" / "app.py"), default_timeout=60)
    at.run()
    at.chat_input[0].set_value("Qu'est-ce qu'un pôle territorial de coopération économique ?").run()
    assert not at.exception, at.exception
    assert at.session_state["messages"][-1]["kind"] == "assistant"
    assert rewritten == []  # no page script went through ast.parse
