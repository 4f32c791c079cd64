"""Scanned PDFs: pages without a text layer are read by French OCR, flagged, cited with their page;
without tesseract the file is refused with one French line saying what to install.

The scans are made here: French paragraphs drawn on A4 images with Pillow, saved as an image-only
PDF (no text layer at all, as a scanner would write it)."""

from __future__ import annotations

import difflib
import json
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.errors import CorpusError
from ingest import ocr, run
from ingest.loaders import load

from .conftest import write

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
META = 'title: "Compte rendu scanné"\ntype: note\ndate: "2024-06"\nsource: "archive papier"\naccess: public\n'
PAGE_1 = (
    "Compte rendu de la réunion du comité territorial. Les participants ont présenté l'état "
    "d'avancement des coopérations engagées sur le territoire et les prochaines étapes du programme."
)
PAGE_2 = (
    "La coopérative Bois du Haut-Jura réunit trente-sept scieries et menuiseries depuis 2019. "
    "Elle mutualise un séchoir, une scierie mobile et un bureau d'études au service de la filière."
)
needs_ocr = pytest.mark.skipif(not ocr.available(), reason=f"OCR indisponible ici : {ocr.unavailable_reason()}")


def make_scanned_pdf(path: Path, paragraphs: list[str], dpi: int = 300, sidecar: str | None = META) -> Path:
    """One A4 page image per paragraph (12 pt type at `dpi`), saved as an image-only PDF."""
    from PIL import Image, ImageDraw, ImageFont

    size = round(12 * dpi / 72)
    font = ImageFont.truetype(str(DEJAVU), size) if DEJAVU.exists() else ImageFont.load_default(size=size)
    pages = []
    for text in paragraphs:
        page = Image.new("L", (round(8.27 * dpi), round(11.69 * dpi)), 255)
        draw = ImageDraw.Draw(page)
        y = round(1.2 * dpi)
        for line in textwrap.wrap(text, 62):
            draw.text((round(0.9 * dpi), y), line, font=font, fill=0)
            y += round(size * 1.5)
        pages.append(page)
    path.parent.mkdir(parents=True, exist_ok=True)
    pages[0].save(str(path), "PDF", resolution=dpi, save_all=True, append_images=pages[1:])
    if sidecar is not None:
        write(path.with_name(path.name + ".meta.yaml"), sidecar)
    return path


def char_accuracy(expected: str, got: str) -> float:
    """1 - (character edits / length), whitespace normalised: the usual OCR accuracy measure."""
    a, b = " ".join(expected.split()), " ".join(got.split())
    ops = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    edits = sum(max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in ops if tag != "equal")
    return 1 - edits / len(a)


@needs_ocr
def test_scanned_pages_are_read_in_french_and_flagged(tmp_path):
    path = make_scanned_pdf(tmp_path / "c" / "scan.pdf", [PAGE_1, PAGE_2])
    started = time.perf_counter()
    doc = load(path, tmp_path / "c")
    seconds = time.perf_counter() - started
    assert doc.ocr_pages == {1, 2}
    accuracy = [char_accuracy(PAGE_1, doc.pages[0]), char_accuracy(PAGE_2, doc.pages[1])]
    # Figures for the README: `python -m pytest tests/test_ocr.py -k read_in_french -s`
    print(f"\nOCR : {len(doc.pages) / seconds:.2f} page(s)/s (300 dpi, A4), exactitude caractères {min(accuracy):.3f}–{max(accuracy):.3f}")
    assert min(accuracy) >= 0.95, (accuracy, doc.pages)
    assert "coopérative Bois du Haut-Jura" in doc.pages[1] and "séchoir" in doc.pages[1]


@needs_ocr
def test_question_on_a_scanned_page_is_answered_and_cited_with_its_page(settings, tiny_corpus):
    from assistant.engine import Assistant

    make_scanned_pdf(tiny_corpus / "archives" / "compte-rendu.pdf", [PAGE_1, PAGE_2])
    report = run(settings)
    assert "archives/compte-rendu" in report.added and report.ok, report.skipped
    from assistant.store import open_store

    metas = list(open_store(settings).iter_metadatas(where={"doc_id": "archives/compte-rendu"}))
    assert metas and all(m.get("ocr") is True and m["page"] in (1, 2) for m in metas)
    assert all("ocr" not in m for m in open_store(settings).iter_metadatas(where={"doc_id": "public/ptce"}))

    answer = Assistant(settings).ask("Combien de scieries la coopérative Bois du Haut-Jura réunit-elle ?", role="public")
    assert not answer.abstained, answer.answer
    assert "trente-sept" in answer.answer
    cited = [c for c in answer.citations if c.doc_id == "archives/compte-rendu"]
    assert cited and cited[0].page == 2 and cited[0].ocr
    from ui.components import meta_line

    assert "OCR" in meta_line(cited[0].type, cited[0].access, cited[0].date, cited[0].section, cited[0].page, cited[0].ocr)
    assert "OCR" not in meta_line("note", "public", "2024", "", 3)


def _mixed_pdf(tmp_path, **scan_options):
    """corpus c/mixte.pdf: a page with a text layer, then a scanned page (PAGE_2)."""
    from pypdf import PdfWriter

    from .test_bad_input import make_pdf

    text_pdf = make_pdf(tmp_path / "texte.pdf", ["Page avec une couche texte sur les PTCE."])
    scan_pdf = make_scanned_pdf(tmp_path / "scan.pdf", [PAGE_2], sidecar=None, **scan_options)
    writer = PdfWriter()
    writer.append(str(text_pdf))
    writer.append(str(scan_pdf))
    out = tmp_path / "c" / "mixte.pdf"
    out.parent.mkdir()
    writer.write(str(out))
    write(out.with_name("mixte.pdf.meta.yaml"), META)
    return out


@needs_ocr
def test_a_mixed_pdf_reads_only_its_scanned_pages_by_ocr(tmp_path):
    out = _mixed_pdf(tmp_path)
    doc = load(out, tmp_path / "c")
    assert doc.ocr_pages == {2}
    assert "couche texte" in doc.pages[0] and "Haut-Jura" in doc.pages[1]


def _no_tesseract(monkeypatch):
    monkeypatch.setattr(ocr, "_check", lambda: f"tesseract absent ({ocr.INSTALL_HINT})")


def test_without_tesseract_a_scanned_pdf_is_refused_saying_what_to_install(tmp_path, monkeypatch):
    _no_tesseract(monkeypatch)
    path = make_scanned_pdf(tmp_path / "c" / "scan.pdf", [PAGE_2], dpi=100)
    with pytest.raises(CorpusError) as exc:
        load(path, tmp_path / "c")
    assert "aucun texte extractible" in exc.value.reason
    assert "apt-get install tesseract-ocr tesseract-ocr-fra" in exc.value.reason
    assert "\n" not in str(exc.value)


def test_without_tesseract_a_partly_scanned_pdf_keeps_its_text_and_says_so(tmp_path, monkeypatch):
    _no_tesseract(monkeypatch)
    out = _mixed_pdf(tmp_path, dpi=100)
    doc = load(out, tmp_path / "c")
    assert doc.ocr_pages == set() and "couche texte" in doc.pages[0]
    assert any("1 page(s) scannée(s) non lue(s)" in n and "tesseract-ocr-fra" in n for n in doc.notes)
    # Once OCR is installed the file must be read again: the unread pages are part of its hash.
    monkeypatch.setattr(ocr, "_check", lambda: "")
    monkeypatch.setattr(ocr, "ocr_pages", lambda path, pages, dpi=300: {p: "Texte lu par OCR." for p in pages})
    again = load(out, tmp_path / "c")
    assert again.content_hash != doc.content_hash and again.ocr_pages == {2}


def test_cli_ingest_without_tesseract_names_the_file_once_and_ingests_the_rest(settings, tiny_corpus, monkeypatch):
    from assistant.cli import EXIT_SKIPPED, main

    _no_tesseract(monkeypatch)
    make_scanned_pdf(tiny_corpus / "archives" / "scan.pdf", [PAGE_2], dpi=100)
    monkeypatch.setenv("COOPTER_EMBED_MODEL", "fake:hashing")
    result = CliRunner().invoke(main, ["ingest", str(tiny_corpus), "--store", str(settings.store), "--json"])
    assert result.exit_code == EXIT_SKIPPED
    report = json.loads(result.stdout)
    assert [Path(s["path"]).name for s in report["skipped"]] == ["scan.pdf"]
    assert "tesseract-ocr-fra" in report["skipped"][0]["reason"]
    assert len(report["added"]) == 3
    assert "Traceback" not in result.output


@needs_ocr
def test_a_scan_with_a_short_digital_stamp_is_still_read_by_ocr(tmp_path):
    from fpdf import FPDF

    scan = make_scanned_pdf(tmp_path / "scan.pdf", [PAGE_2], sidecar=None)
    import pypdfium2 as pdfium

    image = pdfium.PdfDocument(str(scan))[0].render(scale=150 / 72).to_pil()
    pdf = FPDF()
    pdf.add_page()
    pdf.image(image, x=0, y=0, w=210)
    pdf.set_font("Helvetica", size=8)
    pdf.text(180, 290, "Page 2 / 7")  # a stamp added after scanning: a text layer of 10 characters
    out = tmp_path / "c" / "tampon.pdf"
    out.parent.mkdir()
    pdf.output(str(out))
    write(out.with_name("tampon.pdf.meta.yaml"), META)
    doc = load(out, tmp_path / "c")
    assert doc.ocr_pages == {1} and "Haut-Jura" in doc.pages[0]
