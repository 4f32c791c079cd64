"""Word (.docx) and OpenDocument (.odt) files: structure kept, metadata from sidecar or document
properties, broken files refused with one French reason, shipped files match their sources."""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
import zipfile
from pathlib import Path

import pytest

from assistant.errors import CorpusError
from ingest import run
from ingest.chunking import Chunker
from ingest.embedder import HashingEmbedder
from ingest.loaders import load

from .conftest import ROOT, write

SIDECAR = (
    'type: fiche-projet\naccess: public\nsource: "test"\nthemes: [ptce]\n'
    'section_access:\n  "Retours d\'expérience": community\n'
)


def make_docx(path: Path, title: str | None = "Fiche Word", created=dt.datetime(2024, 5, 6), sidecar: str | None = SIDECAR) -> Path:
    import docx

    d = docx.Document()
    d.add_heading("Projet Alpha", 1)
    d.add_paragraph("Un pôle territorial de coopération économique « œuvre » à Besançon.")
    d.add_heading("Porteurs", 2)
    d.add_paragraph("La Région, qui finance.", style="List Bullet")
    d.add_paragraph("Une coopérative d'activité.", style="List Bullet 2")
    d.add_paragraph("Première étape numérotée.", style="List Number")
    table = d.add_table(rows=3, cols=3)
    for i, row in enumerate([["Acteur", "Rôle", "Territoire"], ["Ville", "financeur", "Dijon"], ["Scic", "opérateur", ""]]):
        for j, value in enumerate(row):
            table.cell(i, j).text = value
    table.cell(2, 1).merge(table.cell(2, 2))
    d.add_heading("Retours d'expérience", 2)
    d.add_paragraph("La confiance se construit lentement. CANARI-DOCX-4242")
    if title is not None:
        d.core_properties.title = title
    d.core_properties.created = created
    path.parent.mkdir(parents=True, exist_ok=True)
    d.save(str(path))
    if sidecar is not None:
        write(path.with_name(path.name + ".meta.yaml"), sidecar)
    return path


def make_odt(path: Path, title: str | None = "Fiche ODT", sidecar: str | None = SIDECAR) -> Path:
    from odfdo import Document, Header, List, Paragraph, Table

    d = Document("text")
    body = d.body
    body.append(Header(1, "Projet Bêta"))
    body.append(Paragraph("Une coopération entre l_ESS et la collectivité (non-lucrative) * étoile."))
    body.append(Header(2, "Porteurs"))
    items = List(["La Métropole, qui soutient.", "Une association."])
    items.get_item(1).append(List(["Sous-élément imbriqué."]))
    body.append(items)
    table = Table("T", width=2, height=2)
    for (x, y), value in {(0, 0): "Acteur", (1, 0): "Rôle", (0, 1): "Métropole", (1, 1): "financeur"}.items():
        table.set_value((x, y), value)
    body.append(table)
    body.append(Header(2, "Retours d'expérience"))
    body.append(Paragraph("Les groupements ouvrent la commande publique. CANARI-ODT-4343"))
    if title is not None:
        d.meta.set_title(title)
    d.meta.set_creation_date(dt.datetime(2023, 9, 1, 10, 0))
    path.parent.mkdir(parents=True, exist_ok=True)
    d.save(str(path))
    if sidecar is not None:
        write(path.with_name(path.name + ".meta.yaml"), sidecar)
    return path


def test_docx_headings_lists_and_tables_survive(tmp_path):
    doc = load(make_docx(tmp_path / "c" / "fiche.docx"), tmp_path / "c")
    assert doc.doc_id == "fiche"
    assert "# Projet Alpha" in doc.text and "## Porteurs" in doc.text
    assert "- La Région, qui finance." in doc.text
    assert "  - Une coopérative d'activité." in doc.text  # List Bullet 2 is nested one level
    assert "- Première étape numérotée." in doc.text
    assert "| Acteur | Rôle | Territoire |" in doc.text
    assert "| Scic | opérateur |" in doc.text  # merged cell written once
    assert "« œuvre » à Besançon" in doc.text


def test_odt_headings_lists_and_tables_survive_without_markdown_escapes(tmp_path):
    doc = load(make_odt(tmp_path / "c" / "fiche.odt"), tmp_path / "c")
    assert "# Projet Bêta" in doc.text and "## Porteurs" in doc.text
    assert "- La Métropole, qui soutient." in doc.text
    assert "  - Sous-élément imbriqué." in doc.text or "   - Sous-élément imbriqué." in doc.text
    assert "| Acteur | Rôle |" in doc.text and "| Métropole | financeur |" in doc.text
    assert "|---" not in doc.text
    assert "l_ESS et la collectivité (non-lucrative) * étoile." in doc.text  # odfdo's \_ \- \* undone


@pytest.mark.parametrize("maker", [make_docx, make_odt])
def test_headings_give_the_section_path_and_the_raised_access(tmp_path, maker):
    path = maker(tmp_path / "c" / f"fiche{'.docx' if maker is make_docx else '.odt'}")
    doc = load(path, tmp_path / "c")
    chunks = Chunker(HashingEmbedder()).chunk(doc)
    sections = {c.section: c.access for c in chunks}
    assert any(s.endswith("Porteurs") for s in sections)
    retours = [c for c in chunks if c.section.endswith("Retours d'expérience")]
    assert retours and all(c.access == "community" for c in retours)
    assert all("CANARI" not in c.text for c in chunks if c.access == "public")
    assert all(c.page is None for c in chunks)


def test_title_and_date_default_to_the_document_properties(tmp_path):
    docx_doc = load(make_docx(tmp_path / "c" / "a.docx"), tmp_path / "c")
    assert (docx_doc.meta.title, docx_doc.meta.date) == ("Fiche Word", "2024-05-06")
    odt_doc = load(make_odt(tmp_path / "c" / "b.odt"), tmp_path / "c")
    assert (odt_doc.meta.title, odt_doc.meta.date) == ("Fiche ODT", "2023-09-01")
    # The sidecar wins over the properties.
    path = make_docx(tmp_path / "c" / "d.docx", sidecar=SIDECAR + 'title: "Titre du sidecar"\ndate: "2025-03"\n')
    doc = load(path, tmp_path / "c")
    assert (doc.meta.title, doc.meta.date) == ("Titre du sidecar", "2025-03")


def test_missing_title_everywhere_and_missing_sidecar_are_clear_errors(tmp_path):
    with pytest.raises(CorpusError, match="manquante.*title"):
        load(make_docx(tmp_path / "c" / "sans-titre.docx", title=None), tmp_path / "c")
    with pytest.raises(CorpusError, match="sans-sidecar.odt.meta.yaml"):
        load(make_odt(tmp_path / "c" / "sans-sidecar.odt", sidecar=None), tmp_path / "c")


def _broken(root: Path) -> dict[str, str]:
    good = make_docx(root / "tronque.docx")
    good.write_bytes(good.read_bytes()[:300])
    write(root / "entete.docx", b"PK\x03\x04")
    deck = make_pptx(root / "tronque.pptx")
    deck.write_bytes(deck.read_bytes()[:500])
    write(root / "chiffre.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    write(root / "texte.odt", "ceci n'est pas une archive")
    make_docx(root / "vide.docx")
    import docx

    docx.Document().save(str(root / "vide.docx"))
    with zipfile.ZipFile(root / "chiffre.odt", "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        z.writestr("META-INF/manifest.xml", '<manifest:encryption-data manifest:checksum="x"/>')
    write(root / "chiffre.odt.meta.yaml", SIDECAR)
    from odfdo import Document

    Document("spreadsheet").save(str(root / "tableur.odt"))
    write(root / "tableur.odt.meta.yaml", SIDECAR)
    return {
        "tronque.docx": "corrompu",
        "tronque.pptx": "corrompu",
        "entete.docx": "corrompu",
        "chiffre.docx": "chiffré par mot de passe ou au format ancien",
        "texte.odt": "corrompu",
        "vide.docx": "aucun texte",
        "chiffre.odt": "chiffré",
        "tableur.odt": "seul le texte",
    }


def test_broken_office_files_are_refused_with_one_french_reason(tmp_path):
    root = tmp_path / "c"
    for name, fragment in _broken(root).items():
        with pytest.raises(CorpusError) as exc:
            load(root / name, root)
        assert fragment in exc.value.reason, (name, exc.value.reason)
        assert "Traceback" not in str(exc.value)


def test_office_files_ingest_incrementally_beside_broken_ones(settings, tiny_corpus):
    make_docx(tiny_corpus / "fiches" / "alpha.docx")
    make_odt(tiny_corpus / "fiches" / "beta.odt")
    expected = _broken(tiny_corpus / "casses")
    first = run(settings)
    assert {"fiches/alpha", "fiches/beta"} <= set(first.added)
    assert {Path(s.path).name for s in first.skipped} == set(expected)
    second = run(settings)
    assert {"fiches/alpha", "fiches/beta"} <= set(second.unchanged) and second.chunks_written == 0
    # A changed sidecar (access level) re-embeds the document: metadata is part of its hash.
    side = tiny_corpus / "fiches" / "beta.odt.meta.yaml"
    side.write_text(side.read_text(encoding="utf-8").replace("access: public", "access: community"), encoding="utf-8")
    third = run(settings)
    assert third.updated == ["fiches/beta"]
    from assistant.store import open_store

    metas = list(open_store(settings).iter_metadatas(where={"doc_id": "fiches/beta"}))
    assert metas and all(m["access"] == "community" for m in metas)


def _script():
    spec = importlib.util.spec_from_file_location("make_office_docs", ROOT / "scripts" / "make-office-docs.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_shipped_office_files_are_what_the_script_makes_from_their_sources(tmp_path):
    sources = sorted((ROOT / "scripts" / "office-sources").glob("*.md"))
    assert {s.stem for s in sources} >= {"generateur-bfc", "la-place-toulouse"}
    _script().main(["--sources", str(ROOT / "scripts" / "office-sources"), "--corpus", str(tmp_path)])
    made = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert {p.suffix for p in made} >= {".docx", ".odt", ".yaml"}
    for rel in made:
        assert (tmp_path / rel).read_bytes() == (ROOT / "corpus" / rel).read_bytes(), f"{rel} : relancez scripts/make-office-docs.py"


@pytest.mark.parametrize("name", ["fiches-projets/generateur-bfc.docx", "fiches-projets/la-place-toulouse.odt"])
def test_shipped_office_files_read_back_as_their_markdown_source(name):
    path = ROOT / "corpus" / name
    doc = load(path, ROOT / "corpus")
    source = (ROOT / "scripts" / "office-sources" / (Path(name).stem + ".md")).read_text(encoding="utf-8")
    body = source.split("\n---\n", 1)[1]
    norm = lambda s: " ".join(s.split())  # noqa: E731
    assert norm(doc.text) == norm(body)
    assert doc.meta.title.startswith("Fiche projet")  # from the document's properties
    assert doc.meta.section_access == {"Retours d'expérience": "community"}


def make_pptx(path: Path, sidecar: str | None = SIDECAR) -> Path:
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    first = deck.slides.add_slide(deck.slide_layouts[1])  # title and content
    first.shapes.title.text = "Projet Gamma"
    body = first.placeholders[1].text_frame
    body.text = "Une coopérative « œuvre » à Lons-le-Saunier."
    sub = body.add_paragraph()
    sub.text = "Trois communes associées."
    sub.level = 1
    first.notes_slide.notes_text_frame.text = "Chiffres à vérifier avant diffusion."
    second = deck.slides.add_slide(deck.slide_layouts[5])  # title only
    second.shapes.title.text = "Budget"
    table = second.shapes.add_table(2, 2, Inches(1), Inches(2), Inches(6), Inches(1)).table
    for (i, j), value in {(0, 0): "Poste", (0, 1): "Montant", (1, 0): "Animation", (1, 1): "42 000 €"}.items():
        table.cell(i, j).text = value
    deck.core_properties.title = "Présentation Gamma"
    deck.core_properties.created = dt.datetime(2022, 11, 15)
    path.parent.mkdir(parents=True, exist_ok=True)
    deck.save(str(path))
    if sidecar is not None:
        write(path.with_name(path.name + ".meta.yaml"), sidecar)
    return path


def test_pptx_slides_become_pages_with_titles_bullets_tables_and_notes(tmp_path):
    doc = load(make_pptx(tmp_path / "c" / "deck.pptx"), tmp_path / "c")
    assert len(doc.pages) == 2 and not doc.text
    assert doc.pages[0].startswith("Projet Gamma\n")
    assert "- Une coopérative « œuvre » à Lons-le-Saunier." in doc.pages[0]
    assert "  - Trois communes associées." in doc.pages[0]
    assert "Notes : Chiffres à vérifier avant diffusion." in doc.pages[0]
    assert doc.pages[1].startswith("Budget") and "| Animation | 42 000 € |" in doc.pages[1]
    assert (doc.meta.title, doc.meta.date) == ("Présentation Gamma", "2022-11-15")
    chunks = Chunker(HashingEmbedder()).chunk(doc)
    assert sorted({c.page for c in chunks}) == [1, 2]  # slide numbers kept


@pytest.mark.parametrize("maker, suffix", [(make_docx, ".docx"), (make_odt, ".odt"), (make_pptx, ".pptx")])
def test_truncated_or_flipped_office_files_load_or_give_one_french_line(tmp_path, maker, suffix):
    import random

    good = maker(tmp_path / "src" / f"bon{suffix}").read_bytes()
    rng = random.Random(12)
    for i in range(25):
        data = bytearray(good[: rng.randrange(1, len(good))] if i % 2 else good)
        for _ in range(0 if i % 2 else 8):  # flip bytes anywhere, archive structure included
            data[rng.randrange(len(data))] = rng.randrange(256)
        path = tmp_path / "c" / f"f{i}{suffix}"
        write(path, bytes(data))
        write(path.with_name(path.name + ".meta.yaml"), SIDECAR + 'title: "t"\ndate: "2024"\n')
        try:
            load(path, tmp_path / "c")
        except CorpusError as exc:
            assert exc.reason and "\n" not in exc.reason and "Traceback" not in exc.reason
