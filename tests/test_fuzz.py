"""Property-based fuzzing (hypothesis): random and truncated bytes as PDF, Markdown, HTML and
text, random front matter, random / empty / 100 000-character / odd-Unicode questions.

The properties: loading either works or raises CorpusError with one French line; ingestion
never raises, skips what it cannot read with its reason and leaves a store that `coopter check`
finds consistent (the good documents still there); `ask` answers or refuses in one line, from
the Python API and the CLI, never with a traceback.

Example counts are kept modest so that the suite stays fast; FUZZ_EXAMPLES multiplies them for a
longer campaign: `FUZZ_EXAMPLES=10 python -m pytest tests/test_fuzz.py -q`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from assistant.cli import main
from assistant.errors import CoopterError, CorpusError
from assistant.settings import Settings
from ingest import run
from ingest.check import check
from ingest.chunking import Chunker
from ingest.embedder import HashingEmbedder
from ingest.loaders import load

from .conftest import front, write

SCALE = int(os.environ.get("FUZZ_EXAMPLES", "1"))
FUZZ = dict(deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
SUFFIXES = [".pdf", ".md", ".html", ".txt"]
META = 'title: "Doc"\ntype: note\ndate: "2024"\nsource: "test"\naccess: public\n'


def _samples() -> dict[str, bytes]:
    """One valid file per format, for truncation."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.multi_cell(0, 8, "La cooperation economique territoriale rassemble des acteurs. " * 10)
    md = (front("Échantillon") + "# Titre\n\n## Section\n\nLes PTCE réunissent des acteurs de l'ESS. " * 5).encode()
    html = "<html><body><h1>Titre</h1><p>Les coopérations territoriales « réunissent » des acteurs.</p></body></html>"
    return {".pdf": bytes(pdf.output()), ".md": md, ".html": html.encode(), ".txt": md}


SAMPLES = _samples()

# Printable and odd Unicode: combining marks, RTL, zero-width, emoji, private use, lone surrogates
# (what Python makes of invalid UTF-8 in a command-line argument).
ODD = st.sampled_from(["\u0301", "\u200b", "\u202e", "\ufeff", "\U0001F600", "\ue000", "\ud800", "\x00", "\r", "ﬁ", "İ", "ß", "\u2028"])
TEXT = st.text(st.one_of(st.characters(blacklist_categories=("Cs",)), ODD), max_size=300)


@st.composite
def file_bytes(draw):
    suffix = draw(st.sampled_from(SUFFIXES))
    kind = draw(st.sampled_from(["random", "truncated", "front"]))
    if kind == "random":
        data = draw(st.binary(max_size=2000))
    elif kind == "truncated":
        sample = SAMPLES[suffix]
        data = sample[: draw(st.integers(0, len(sample)))]
    else:  # random front matter: keys, values and YAML syntax of all sorts
        keys = ["title", "type", "date", "source", "themes", "access", "section_access", "authors", draw(st.text(max_size=8))]
        lines = [f"{draw(st.sampled_from(keys))}: {draw(TEXT.map(lambda t: t.replace(chr(10), ' ')))}" for _ in range(draw(st.integers(0, 8)))]
        body = draw(TEXT)
        data = ("---\n" + "\n".join(lines) + "\n---\n" + body).encode("utf-8", "surrogatepass")
    return suffix, data


def _load_or_refuse(path: Path, corpus: Path) -> None:
    try:
        doc = load(path, corpus)
    except CorpusError as exc:
        assert exc.reason.strip() and "\n" not in exc.reason, exc.reason
        return
    Chunker(HashingEmbedder(), 200, 40).chunk(doc)  # what loads must also chunk


@hsettings(max_examples=150 * SCALE, **FUZZ)
@given(file_bytes(), st.booleans())
def test_loading_random_files_works_or_refuses_in_one_line(sample, with_sidecar):
    suffix, data = sample
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp)
        path = write(corpus / f"f{suffix}", data)
        if with_sidecar:
            write(corpus / f"f{suffix}.meta.yaml", META)
        _load_or_refuse(path, corpus)


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A tiny ingested corpus whose store the fuzzed runs must leave intact."""
    root = tmp_path_factory.mktemp("fuzz")
    corpus = root / "corpus"
    write(corpus / "public" / "ptce.md", front("Les PTCE") + "## Définition\n\nUn pôle territorial de coopération économique rassemble des acteurs.\n")
    write(corpus / "interne" / "note.md", front("Note", access="staff") + "## Calendrier\n\nLe comité se réunit en mars.\n")
    s = Settings(corpus_dir=corpus, store=root / "store", embed_model="fake:hashing", abstain_threshold=0.05)
    run(s)
    return s


@hsettings(max_examples=12 * SCALE, **FUZZ)
@given(st.lists(file_bytes(), min_size=1, max_size=3))
def test_ingesting_random_files_keeps_the_store_intact(base, files):
    fuzz_dir = base.corpus_dir / "fuzz"
    shutil.rmtree(fuzz_dir, ignore_errors=True)
    for i, (suffix, data) in enumerate(files):
        write(fuzz_dir / f"f{i}{suffix}", data)
        if suffix in (".pdf", ".html"):
            write(fuzz_dir / f"f{i}{suffix}.meta.yaml", META)
    result = CliRunner().invoke(main, ["ingest", str(base.corpus_dir), "--store", str(base.store)],
                                env={"COOPTER_EMBED_MODEL": "fake:hashing"})
    assert result.exit_code in (0, 3), result.output
    assert "Traceback" not in result.output and (result.exception is None or isinstance(result.exception, SystemExit))
    for line in result.stderr.splitlines():
        assert line.startswith(("ignoré : ", "note : ")), line
    report = check(base)
    assert report.ok, [str(i) for i in report.issues]
    shutil.rmtree(fuzz_dir)
    run(base)  # purge what was added
    assert _doc_ids(base) == {"public/ptce", "interne/note"}


def _doc_ids(s) -> set[str]:
    from assistant.store import open_store

    return set(open_store(s).index().doc_hashes())


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    """The same tiny corpus with the real embedder: tokenizers are where odd text bites."""
    root = tmp_path_factory.mktemp("fuzz-reel")
    corpus = root / "corpus"
    write(corpus / "public" / "ptce.md", front("Les PTCE") + "## Définition\n\nUn pôle territorial de coopération économique rassemble des acteurs.\n")
    write(corpus / "interne" / "note.md", front("Note", access="staff") + "## Calendrier\n\nLe comité se réunit en mars.\n")
    s = Settings(corpus_dir=corpus, store=root / "store")
    run(s)
    return s


@pytest.fixture(scope="module")
def bot(real):
    from assistant.engine import Assistant

    return Assistant(real)


QUESTIONS = st.one_of(
    TEXT,
    st.just(""),
    st.text(st.sampled_from(" \t\n\u200b\u00a0"), max_size=20),
    st.builds(lambda t, n: (t or "PTCE ") * n, TEXT, st.integers(1, 100_000 // 300)).map(lambda q: q[:100_000]),
    st.just("Qu'est-ce qu'un PTCE ? " * 4500),  # ~100 000 characters
)


@hsettings(max_examples=15 * SCALE, **FUZZ)
@given(QUESTIONS, st.sampled_from(["public", "community", "staff"]))
def test_any_question_gets_an_answer_or_one_clear_line(bot, question, role):
    try:
        answer = bot.ask(question, role=role)
    except CoopterError as exc:
        assert str(exc).strip() and "\n" not in str(exc)
        return
    assert answer.answer.strip()
    assert answer.abstained or answer.citations
    if role == "public":
        assert all(c.access == "public" for c in answer.citations)


@hsettings(max_examples=6 * SCALE, **FUZZ)
@given(QUESTIONS)
def test_cli_ask_never_shows_a_traceback(real, question):
    result = CliRunner().invoke(main, ["ask", question, "--store", str(real.store)])
    assert result.exit_code in (0, 2), (repr(question[:200]), result.exit_code, result.output[-2000:], result.exception)
    assert "Traceback" not in result.output and (result.exception is None or isinstance(result.exception, SystemExit))
    if result.exit_code == 2:
        assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith("Erreur : ")


def test_known_hard_questions(bot, real):
    """Cases the fuzzer found with the real embedder: a 100 000-character question took minutes
    to embed, a lone surrogate (undecodable bytes in a command-line argument) raised
    UnicodeEncodeError."""
    with pytest.raises(CoopterError, match="question trop longue"):
        bot.ask("Qu'est-ce qu'un PTCE ? " * 4500)
    assert bot.ask("\udcc3 Qu'est-ce qu'un PTCE ?").answer
    for question in ("\udcc3\udca9 PTCE ?", "x" * 100_000):
        result = CliRunner().invoke(main, ["ask", question, "--store", str(real.store), "--json"])
        assert result.exit_code in (0, 2) and "Traceback" not in result.output, result.output
