"""Web pages of corpus/sources.yaml kept in sync, against a local HTTP server on 127.0.0.1 that
the tests start (no internet here): first fetch, unchanged (304), changed, gone, unreachable,
redirect, robots.txt, too large, not HTML; and the shipped sources.yaml fetches nothing."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from ingest import run
from ingest.websync import doc_id_for_url, read_sources

from .conftest import CORPUS, write

LAST_MODIFIED = "Mon, 03 Feb 2025 10:00:00 GMT"


def page(title: str, sections: dict[str, str]) -> str:
    body = "".join(f"<h2>{h}</h2><p>{p}</p>" for h, p in sections.items())
    return (
        f"<!DOCTYPE html><html lang='fr'><head><meta charset='utf-8'><title>{title} | Site</title></head><body>"
        "<nav><ul><li><a href='/'>Accueil</a></li><li><a href='/contact'>Contact</a></li></ul></nav>"
        f"<main><article><h1>{title}</h1>{body}</article></main>"
        "<footer><p>Mentions légales — plan du site — cookies</p></footer></body></html>"
    )


PROGRAMME = page(
    "Le programme COOP'TER",
    {
        "Objectifs": "Le programme accompagne les coopérations économiques territoriales de transition portées "
        "par des collectivités et des acteurs de l'économie sociale et solidaire, pendant trois années.",
        "Calendrier": "L'appel à manifestation d'intérêt ouvre au printemps ; les lauréats sont annoncés à "
        "l'automne et rejoignent une communauté d'entraide entre territoires.",
    },
)
RESSOURCES = page(
    "Ressources pour coopérer",
    {
        "Guides": "Les guides pratiques décrivent les étapes d'une coopération : diagnostic partagé, "
        "gouvernance, modèle économique, évaluation des effets sur le territoire.",
    },
)


class Site:
    """A tiny web server: path -> page; honours If-None-Match / If-Modified-Since; logs requests."""

    def __init__(self):
        self.pages: dict[str, dict] = {}
        self.requests: list[tuple[str, dict]] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                site.requests.append((self.path, dict(self.headers)))
                p = site.pages.get(self.path)
                if p is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                if p.get("location"):
                    self.send_response(p.get("status", 301))
                    self.send_header("Location", p["location"])
                    self.end_headers()
                    return
                if p.get("status", 200) >= 400:
                    self.send_response(p["status"])
                    self.end_headers()
                    return
                etag, modified = p.get("etag"), p.get("last_modified")
                if (etag and self.headers.get("If-None-Match") == etag) or (
                    modified and not etag and self.headers.get("If-Modified-Since") == modified
                ):
                    self.send_response(304)
                    self.end_headers()
                    return
                body = p["body"].encode() if isinstance(p["body"], str) else p["body"]
                self.send_response(p.get("status", 200))
                self.send_header("Content-Type", p.get("type", "text/html; charset=utf-8"))
                self.send_header("Content-Length", str(len(body)))
                if etag:
                    self.send_header("ETag", etag)
                if modified:
                    self.send_header("Last-Modified", modified)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def hits(self, path: str) -> list[dict]:
        return [h for p, h in self.requests if p == path]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def site():
    s = Site()
    s.pages["/robots.txt"] = {"body": "User-agent: *\nDisallow: /prive/\n", "type": "text/plain"}
    s.pages["/programme.html"] = {"body": PROGRAMME, "etag": '"v1"', "last_modified": LAST_MODIFIED}
    s.pages["/ressources"] = {"body": RESSOURCES, "last_modified": LAST_MODIFIED}
    yield s
    s.stop()


def sources(corpus: Path, site: Site, entries: list[dict], **options) -> None:
    data = {
        "options": {"timeout_s": 3, **options},
        "defaults": {"type": "page", "access": "public", "themes": ["coopération"]},
        "sources": [{**e, "url": site.url(e["url"])} if e.get("url", "").startswith("/") else e for e in entries],
    }
    write(corpus / "sources.yaml", yaml.safe_dump(data, allow_unicode=True))


def _texts(settings, doc_id):
    from assistant.store import open_store

    got = open_store(settings).collection.get(where={"doc_id": doc_id}, include=["documents", "metadatas"])
    return got["documents"], got["metadatas"]


def test_first_fetch_keeps_headings_and_metadata_then_unchanged_is_a_conditional_hit(settings, tiny_corpus, site):
    sources(tiny_corpus, site, [{"url": "/programme.html", "id": "web/programme"}, {"url": "/ressources", "access": "community"}])
    first = run(settings)
    ressources = doc_id_for_url(site.url("/ressources"))
    assert {"web/programme", ressources} <= set(first.added), first.skipped
    assert first.ok
    texts, metas = _texts(settings, "web/programme")
    assert {m["section"] for m in metas} == {"Objectifs", "Calendrier"}  # h1 = title, h2 = sections
    assert all(m["title"] == "Le programme COOP'TER | Site" or m["title"].startswith("Le programme COOP'TER") for m in metas)
    assert all(m["source"] == site.url("/programme.html") and m["date"] == "2025-02-03" for m in metas)
    assert not any("Mentions légales" in t or "Accueil" in t for t in texts)  # boilerplate dropped
    assert all(m["access"] == "community" for m in _texts(settings, ressources)[1])

    second = run(settings)
    assert {"web/programme", ressources} <= set(second.unchanged) and second.chunks_written == 0
    assert site.hits("/programme.html")[-1].get("If-None-Match") == '"v1"'
    assert site.hits("/ressources")[-1].get("If-Modified-Since") == LAST_MODIFIED
    assert any("2 inchangée(s) selon le serveur (304)" in n for n in second.notes)
    assert len(site.hits("/robots.txt")) == 2  # once per run, not per page


def test_a_new_chunking_refetches_pages_a_304_would_keep(settings, tiny_corpus, site, monkeypatch):
    """After a chunking change the pages are fetched without validators and re-chunked: a 304
    would leave their chunks as the old chunking made them."""
    import ingest.chunking
    import ingest.pipeline

    sources(tiny_corpus, site, [{"url": "/programme.html", "id": "web/programme"}])
    run(settings)
    monkeypatch.setattr(ingest.chunking, "chunk_kind", lambda section, text: "references")
    monkeypatch.setattr(ingest.pipeline, "CHUNKING_VERSION", ingest.chunking.CHUNKING_VERSION + 1)
    redo = run(settings)
    assert "web/programme" in redo.updated
    assert "If-None-Match" not in site.hits("/programme.html")[-1]
    assert all(m["kind"] == "references" for m in _texts(settings, "web/programme")[1])


def test_changed_page_is_replaced_and_gone_page_is_purged_with_a_warning(settings, tiny_corpus, site):
    sources(tiny_corpus, site, [{"url": "/programme.html", "id": "web/programme"}, {"url": "/ressources", "id": "web/ressources"}])
    run(settings)
    site.pages["/programme.html"] = {
        "body": PROGRAMME.replace("pendant trois années", "pendant quatre années désormais"),
        "etag": '"v2"',
    }
    del site.pages["/ressources"]
    report = run(settings)
    assert report.updated == ["web/programme"]
    assert report.removed == ["web/ressources"]
    assert any("page disparue (HTTP 404)" in n and "ressources" in n for n in report.notes)
    texts, _ = _texts(settings, "web/programme")
    assert any("quatre années" in t for t in texts) and not any("trois années" in t for t in texts)
    assert _texts(settings, "web/ressources")[0] == []
    assert run(settings).removed == []  # purged once; the 404 is then only reported
    site.pages["/programme.html"]["status"] = 410
    assert "web/programme" in run(settings).removed


def test_unreachable_server_keeps_the_pages_and_names_them(settings, tiny_corpus, site):
    sources(tiny_corpus, site, [{"url": "/programme.html", "id": "web/programme"}])
    run(settings)
    before, _ = _texts(settings, "web/programme")
    site.stop()
    started = time.perf_counter()
    report = run(settings)
    assert time.perf_counter() - started < 30
    assert [s.path for s in report.skipped] == [site.url("/programme.html")]
    assert "injoignable" in report.skipped[0].reason and "version précédente conservée" in report.skipped[0].reason
    assert report.removed == [] and _texts(settings, "web/programme")[0] == before
    site.__init__()  # a fresh server (new port) so the fixture's teardown has one to stop


def test_redirect_is_followed_and_reported(settings, tiny_corpus, site):
    site.pages["/ancien"] = {"location": "/programme.html", "status": 301}
    sources(tiny_corpus, site, [{"url": "/ancien", "id": "web/programme"}])
    report = run(settings)
    assert report.added[-1] == "web/programme" and report.ok
    assert any("redirigée vers" in n and "/programme.html" in n for n in report.notes)


def test_robots_txt_is_respected_even_after_a_redirect(settings, tiny_corpus, site):
    site.pages["/prive/note.html"] = {"body": PROGRAMME}
    site.pages["/vers-prive"] = {"location": "/prive/note.html", "status": 302}
    sources(tiny_corpus, site, [{"url": "/prive/note.html", "id": "web/prive"}, {"url": "/vers-prive", "id": "web/vers-prive"}])
    report = run(settings)
    reasons = {s.path: s.reason for s in report.skipped}
    assert reasons == {site.url("/prive/note.html"): "refusée par robots.txt", site.url("/vers-prive"): "refusée par robots.txt"}
    assert site.hits("/prive/note.html") == []  # never fetched


def test_too_large_and_non_html_pages_are_skipped_with_their_reason(settings, tiny_corpus, site):
    site.pages["/gros.html"] = {"body": PROGRAMME + "<p>" + "coopération " * 20000 + "</p>"}
    site.pages["/rapport.pdf"] = {"body": b"%PDF-1.4 ...", "type": "application/pdf"}
    sources(tiny_corpus, site, [{"url": "/gros.html"}, {"url": "/rapport.pdf"}, {"url": "/programme.html"}], max_page_mb=0.1)
    report = run(settings)
    reasons = {s.path.rsplit("/", 1)[-1]: s.reason for s in report.skipped}
    assert "trop volumineuse" in reasons["gros.html"]
    assert "« application/pdf » non pris en charge" in reasons["rapport.pdf"]
    assert doc_id_for_url(site.url("/programme.html")) in report.added  # the others still come in


def test_entry_removed_from_sources_is_purged_and_a_broken_sources_file_purges_nothing(settings, tiny_corpus, site):
    sources(tiny_corpus, site, [{"url": "/programme.html", "id": "web/programme"}])
    run(settings)
    write(tiny_corpus / "sources.yaml", "sources: [\n")  # broken YAML
    broken = run(settings)
    assert broken.removed == [] and any(s.path.endswith("sources.yaml") for s in broken.skipped)
    assert _texts(settings, "web/programme")[0]
    sources(tiny_corpus, site, [{"url": "/programme.html", "id": "web/programme", "enabled": False}])
    assert run(settings).removed == ["web/programme"]


def test_shipped_sources_file_lists_the_programme_pages_but_fetches_nothing_by_default():
    parsed = read_sources(CORPUS)
    assert parsed is not None and parsed.entries == []  # every entry ships disabled: ingest works offline
    listed = yaml.safe_load((CORPUS / "sources.yaml").read_text(encoding="utf-8"))["sources"]
    assert len(listed) >= 3 and all(e.get("enabled") is False for e in listed)
    from ingest.loaders import discover

    assert not any(p.name == "sources.yaml" for p in discover(CORPUS))


def test_sync_figures_on_the_local_server(settings, tiny_corpus, site):
    """Figures for the README: `python -m pytest tests/test_websync.py -k figures -s`."""
    n = 20
    for i in range(n):
        site.pages[f"/p{i}"] = {"body": PROGRAMME.replace("COOP'TER", f"COOP'TER n°{i}"), "etag": f'"e{i}"'}
    sources(tiny_corpus, site, [{"url": f"/p{i}", "id": f"web/p{i}"} for i in range(n)])
    t0 = time.perf_counter()
    first = run(settings)
    t1 = time.perf_counter()
    second = run(settings)
    t2 = time.perf_counter()
    assert len([d for d in first.added if d.startswith("web/")]) == n
    hits = sum(1 for i in range(n) if site.hits(f"/p{i}")[-1].get("If-None-Match") == f'"e{i}"')
    note = next(x for x in second.notes if x.startswith("pages web"))
    print(f"\nsync web : {n} pages, 1er passage {t1 - t0:.2f} s ({n / (t1 - t0):.1f} pages/s, embedder factice), "
          f"2e passage {t2 - t1:.2f} s, requêtes conditionnelles {hits}/{n} ; {note}")
    assert hits == n and f"{n} inchangée(s) selon le serveur (304)" in note


def test_sitemap_lists_the_pages_and_an_unreachable_sitemap_purges_nothing(settings, tiny_corpus, site):
    locs = "".join(f"<url><loc>{site.url(p)}</loc></url>" for p in ("/programme.html", "/ressources", "/prive/note.html", "/autre/page"))
    site.pages["/sitemap.xml"] = {"body": f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</urlset>', "type": "application/xml"}
    site.pages["/index.xml"] = {"body": f"<sitemapindex><sitemap><loc>{site.url('/sitemap.xml')}</loc></sitemap></sitemapindex>", "type": "application/xml"}
    sources(tiny_corpus, site, [{"sitemap": site.url("/index.xml"), "include": "/", "access": "community"}])
    # include "/" keeps every path; robots.txt still keeps /prive/ out; /autre/page answers 404.
    first = run(settings)
    ids = {doc_id_for_url(site.url("/programme.html")), doc_id_for_url(site.url("/ressources"))}
    assert ids <= set(first.added)
    assert {s.path.rsplit("/", 1)[-1]: s.reason for s in first.skipped} == {
        "note.html": "refusée par robots.txt", "page": "page introuvable (HTTP 404)"}
    assert all(m["access"] == "community" for d in ids for m in _texts(settings, d)[1])
    del site.pages["/index.xml"]
    second = run(settings)
    assert second.removed == [] and any(s.path.endswith("/index.xml") and "pages déjà indexées conservées" in s.reason for s in second.skipped)
    assert all(_texts(settings, d)[0] for d in ids)


def test_coopter_check_does_not_take_synced_pages_for_orphans(settings, tiny_corpus, site):
    from ingest.check import check

    sources(tiny_corpus, site, [{"url": "/programme.html", "id": "web/programme"}])
    run(settings)
    report = check(settings)
    assert not [i for i in report.issues if i.doc_id == "web/programme"], report.issues
