"""Bad input: each broken file gives one clear reason, the others are ingested, the store stays
consistent and the CLI exit code says something was skipped. The tests build the broken files."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from assistant.cli import EXIT_SKIPPED, main
from ingest import run

from .conftest import front, write

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
META = 'title: "Doc PDF"\ntype: note\ndate: "2024"\nsource: "test"\naccess: public\n'


def make_pdf(path: Path, pages: list[str], password: str | None = None, image_only: bool = False) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    if DEJAVU.exists():
        pdf.add_font("DejaVu", "", str(DEJAVU))
        pdf.set_font("DejaVu", size=12)
    else:  # pragma: no cover - Latin-1 fallback
        pdf.set_font("Helvetica", size=12)
    for text in pages:
        pdf.add_page()
        if image_only:
            pdf.rect(20, 20, 100, 60, style="F")  # drawn shapes, no text layer
        else:
            pdf.multi_cell(0, 8, text)
    if password:
        pdf.set_encryption(owner_password="owner", user_password=password)
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(path))
    write(path.with_name(path.name + ".meta.yaml"), META)
    return path


def test_pdf_pages_are_kept_per_chunk(settings, tiny_corpus):
    make_pdf(tiny_corpus / "notes" / "deux-pages.pdf", ["Première page : la coopération économique.", "Seconde page : les collectivités œuvrent « ensemble »."])
    report = run(settings)
    assert report.ok, report.skipped
    from assistant.store import open_store

    metas = list(open_store(settings).iter_metadatas(where={"doc_id": "notes/deux-pages"}))
    assert sorted(m["page"] for m in metas) == [1, 2]
    docs = open_store(settings).collection.get(where={"doc_id": "notes/deux-pages"})["documents"]
    assert any("œuvrent « ensemble »" in d for d in docs)


def _broken_files(root: Path) -> dict[str, str]:
    """Write one file per kind of damage; return {file name: expected reason fragment}."""
    good = make_pdf(root / "bad" / "truncated.pdf", ["Un texte assez long pour un PDF valide."])
    raw = good.read_bytes()
    good.write_bytes(raw[: len(raw) // 3])  # truncated: no xref, no trailer
    make_pdf(root / "bad" / "encrypted.pdf", ["Texte secret."], password="motdepasse")
    make_pdf(root / "bad" / "scan.pdf", ["ignored"], image_only=True)
    write(root / "bad" / "vide.md", "")
    write(root / "bad" / "sans-meta.md", "# Titre\n\nPas de métadonnées.\n")
    write(root / "bad" / "niveau.md", front("Niveau", access="confidentiel") + "texte\n")
    write(root / "bad" / "binaire.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    write(root / "bad" / "classeur.xlsx", b"PK\x03\x04")  # .docx/.odt are read now: tests/test_office.py
    write(root / "bad" / "orphelin.html", "<html><body><p>Sans fichier de métadonnées.</p></body></html>")
    return {
        "truncated.pdf": "corrompu",
        "encrypted.pdf": "chiffré",
        "scan.pdf": "aucun texte extractible",
        "vide.md": "fichier vide",
        "sans-meta.md": "pas de bloc de métadonnées",
        "niveau.md": "niveau d'accès inconnu « confidentiel »",
        "binaire.txt": "pas un fichier texte",
        "classeur.xlsx": "format non pris en charge",
        "orphelin.html": "orphelin.html.meta.yaml",
    }


def test_each_bad_file_is_skipped_with_its_reason_and_the_rest_is_ingested(settings, tiny_corpus):
    expected = _broken_files(tiny_corpus)
    write(tiny_corpus / "latin1.txt", (front("Texte Latin-1") + "Coopération à Besançon, œuvre commune.\n").encode("cp1252"))
    report = run(settings)
    reasons = {Path(s.path).name: s.reason for s in report.skipped}
    assert set(reasons) == set(expected)
    for name, fragment in expected.items():
        assert fragment in reasons[name] or fragment in name, (name, reasons[name])
    assert "latin1" in report.added
    assert {"public/ptce", "communaute/atelier", "interne/pilotage"} <= set(report.added)
    from assistant.store import open_store

    texts = open_store(settings).collection.get(where={"doc_id": "latin1"})["documents"]
    assert any("Coopération à Besançon, œuvre commune." in t for t in texts)


def test_huge_file_is_refused_by_size(settings, tiny_corpus):
    write(tiny_corpus / "enorme.md", front("Énorme") + "x" * 2_000_000)
    report = run(settings.with_overrides(max_file_mb=1))
    assert [Path(s.path).name for s in report.skipped] == ["enorme.md"]
    assert "trop volumineux" in report.skipped[0].reason


def test_cli_reports_skipped_files_and_exits_3(settings, tiny_corpus, monkeypatch):
    _broken_files(tiny_corpus)
    monkeypatch.setenv("COOPTER_EMBED_MODEL", "fake:hashing")
    result = CliRunner().invoke(main, ["ingest", str(tiny_corpus), "--store", str(settings.store), "--json"])
    assert result.exit_code == EXIT_SKIPPED
    report = json.loads(result.stdout)
    assert len(report["skipped"]) == 9 and len(report["added"]) == 3


def test_missing_store_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("COOPTER_EMBED_MODEL", "fake:hashing")
    result = CliRunner().invoke(main, ["ask", "Qu'est-ce qu'un PTCE ?", "--store", str(tmp_path / "nulle-part")])
    assert result.exit_code == 2
    assert "coopter ingest" in result.stderr
    assert "Traceback" not in result.output
