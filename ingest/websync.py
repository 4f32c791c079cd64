"""Web pages kept in sync: the URLs (or sitemaps) of `corpus/sources.yaml`, fetched at each
`coopter ingest`.

Each page is treated like a corpus file, with its own doc id:
- unchanged (304 to a conditional request, or the same extracted text) → nothing embedded;
- changed → its chunks replaced;
- gone (404/410) → purged, with a warning in the report;
- unreachable (network error, timeout, 5xx, robots.txt unreadable) → kept as it was, and named
  among the skipped files;
- refused by robots.txt, too large, not HTML, no main text → skipped (kept as it was, if it was).

Requests are conditional (If-None-Match / If-Modified-Since from the last answer, kept in
`websync.json` beside the index database); redirects are followed by hand, so robots.txt is
checked at every hop. Main text is extracted by trafilatura (Apache-2.0), made for this: it drops
menus, footers and boilerplate and writes Markdown with the headings' levels, lists and tables.
Fetching uses only the standard library.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import json
import logging
import re
import time
import urllib.error
import urllib.parse
import urllib.request
import urllib.robotparser
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.errors import CorpusError

log = logging.getLogger(__name__)

SOURCES_FILE = "sources.yaml"  # at the corpus root; loaders.discover() leaves it out
STATE_FILE = "websync.json"
HTML_TYPES = {"text/html", "application/xhtml+xml"}
DEFAULT_OPTIONS = {
    "timeout_s": 10.0, "max_page_mb": 5.0, "user_agent": "coopter-assistant/0.1", "max_redirects": 5,
    "max_sitemap_pages": 200,
}
REFUSED = "refusée par robots.txt"
META_KEYS = {"title", "type", "access", "date", "source", "authors", "publisher", "themes", "language", "section_access"}


@dataclass
class Source:
    url: str
    doc_id: str
    meta: dict[str, Any] = field(default_factory=dict)
    sitemap: str = ""  # an entry may list a sitemap instead: its pages, under `include`, are synced
    include: str = ""  # path prefix kept from the sitemap ("" = all)


@dataclass
class Sources:
    entries: list[Source]
    options: dict[str, Any]


class Unreachable(Exception):
    """The page could not be fetched now; the reason is French."""


@dataclass
class Response:
    status: int
    url: str  # after redirects
    headers: dict[str, str]
    body: bytes = b""


def tracked_doc_ids(index_dir: Path) -> set[str]:
    """Doc ids of the web pages the last sync kept, from the state beside the index database
    (`coopter check` must not take them for orphans: they have no file in the corpus)."""
    try:
        state = json.loads((Path(index_dir) / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    return {s["doc_id"] for s in state.values() if "doc_id" in s} | {d for s in state.values() for d in s.get("doc_ids", [])}


def doc_id_for_url(url: str) -> str:
    """web/<host>/<path>, readable and stable: https://www.avise.org/a/b.html -> web/avise.org/a/b"""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or "page"
    host = host[4:] if host.startswith("www.") else host
    path = re.sub(r"\.(html?|php|aspx?)$", "", parts.path.strip("/"))
    slug = "/".join(re.sub(r"[^\w.-]+", "-", p).strip("-") for p in path.split("/") if p)
    if parts.query:
        slug += "-" + hashlib.sha256(parts.query.encode()).hexdigest()[:8]
    return f"web/{host}" + (f"/{slug}" if slug else "")


def read_sources(corpus_dir: Path) -> Sources | None:
    """The enabled entries of `<corpus>/sources.yaml`, None when the file does not exist.
    Raises CorpusError naming the file when it cannot be used."""
    import yaml

    path = Path(corpus_dir) / SOURCES_FILE
    if not path.is_file():
        return None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError):
        raise CorpusError(str(path), "YAML illisible : corrigez-le (les pages déjà indexées sont conservées)") from None
    if not isinstance(data, dict):
        raise CorpusError(str(path), "un bloc « sources: » (liste d'URL) est attendu")
    options = {**DEFAULT_OPTIONS, **(data.get("options") or {})}
    defaults = data.get("defaults") or {}
    entries, ids = [], set()
    for i, raw in enumerate(data.get("sources") or [], start=1):
        if isinstance(raw, str):
            raw = {"url": raw}
        if not isinstance(raw, dict) or not str(raw.get("url") or raw.get("sitemap") or "").strip():
            raise CorpusError(str(path), f"entrée n°{i} sans « url » ni « sitemap »")
        if raw.get("enabled", True) is False:
            continue
        url = str(raw.get("url") or raw.get("sitemap")).strip()
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise CorpusError(str(path), f"entrée n°{i} : « {url} » n'est pas une URL http(s)")
        meta = {k: v for k, v in {**defaults, **raw}.items() if k in META_KEYS}
        if not raw.get("url"):
            entries.append(Source("", "", meta, sitemap=url, include=str(raw.get("include") or "")))
            continue
        doc_id = str(raw.get("id") or doc_id_for_url(url)).strip("/")
        if doc_id in ids:
            raise CorpusError(str(path), f"identifiant « {doc_id} » en double (clé id)")
        ids.add(doc_id)
        entries.append(Source(url, doc_id, meta))
    return Sources(entries, options)


# --- fetching ------------------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # redirects are followed by hand (robots.txt per hop)
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def _get(url: str, headers: dict[str, str], timeout: float, max_bytes: int) -> Response:
    request = urllib.request.Request(url, headers=headers)
    try:
        with _OPENER.open(request, timeout=timeout) as resp:
            body = resp.read(max_bytes + 1)
            return Response(resp.status, url, {k.lower(): v for k, v in resp.headers.items()}, body)
    except urllib.error.HTTPError as exc:  # 3xx (not followed), 304, 4xx, 5xx
        return Response(exc.code, url, {k.lower(): v for k, v in (exc.headers or {}).items()})
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise Unreachable(f"injoignable ({type(reason).__name__ if not isinstance(reason, str) else reason})") from None


class Robots:
    """robots.txt per origin, read once per run (RFC 9309: 4xx → all allowed; 5xx or
    unreachable → nothing fetched from that site this time)."""

    def __init__(self, user_agent: str, timeout: float):
        self.user_agent, self.timeout = user_agent, timeout
        self._cache: dict[str, urllib.robotparser.RobotFileParser | str] = {}

    def check(self, url: str) -> str:
        """'' when `url` may be fetched, else the French reason."""
        parts = urllib.parse.urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._cache:
            try:
                resp = _get(origin + "/robots.txt", {"User-Agent": self.user_agent}, self.timeout, 512 * 1024)
            except Unreachable as exc:
                self._cache[origin] = f"robots.txt {exc}"
            else:
                if resp.status >= 500:
                    self._cache[origin] = f"robots.txt indisponible (HTTP {resp.status})"
                else:
                    parser = urllib.robotparser.RobotFileParser()
                    lines = resp.body.decode("utf-8", "replace").splitlines() if resp.status == 200 else []
                    parser.parse(lines)
                    self._cache[origin] = parser
        rules = self._cache[origin]
        if isinstance(rules, str):
            return rules
        return "" if rules.can_fetch(self.user_agent, url) else REFUSED


def fetch(url: str, state: dict, options: dict, robots: Robots) -> Response:
    """GET with the validators of the last answer, following redirects. Raises Unreachable;
    returns the final response (whatever its status) otherwise."""
    headers = {"User-Agent": options["user_agent"], "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"}
    if state.get("etag"):
        headers["If-None-Match"] = state["etag"]
    if state.get("last_modified"):
        headers["If-Modified-Since"] = state["last_modified"]
    max_bytes = int(float(options["max_page_mb"]) * 1024 * 1024)
    current = url
    for _ in range(int(options["max_redirects"]) + 1):
        refused = robots.check(current)
        if refused == REFUSED:
            raise PermissionError(refused)
        if refused:  # robots.txt itself could not be read: try again next time
            raise Unreachable(refused)
        resp = _get(current, headers, float(options["timeout_s"]), max_bytes)
        if resp.status in (301, 302, 303, 307, 308) and resp.headers.get("location"):
            current = urllib.parse.urljoin(current, resp.headers["location"])
            continue
        return resp
    raise Unreachable(f"trop de redirections (> {options['max_redirects']})")


def read_sitemap(url: str, options: dict, robots: Robots, depth: int = 0) -> list[str]:
    """Page URLs of a sitemap (or of the sitemaps a sitemap index lists, one level down).
    Raises Unreachable / PermissionError as `fetch` does."""
    import gzip
    import html

    resp = fetch(url, {}, options, robots)
    if resp.status != 200:
        raise Unreachable(f"introuvable (HTTP {resp.status})")
    body = gzip.decompress(resp.body) if resp.body[:2] == b"\x1f\x8b" else resp.body
    text = body.decode("utf-8", "replace")
    # <loc> is all a sitemap needs: a regex avoids handing untrusted XML to a parser.
    locs = [html.unescape(m).strip() for m in re.findall(r"<(?:\w+:)?loc>\s*(.*?)\s*</(?:\w+:)?loc>", text, re.S)]
    if re.search(r"<(?:\w+:)?sitemapindex", text) and depth == 0:
        return [u for loc in locs for u in read_sitemap(loc, options, robots, depth + 1)]
    return locs[: int(options["max_sitemap_pages"])]


# --- extraction ----------------------------------------------------------------------------


def extract(html: bytes, url: str) -> tuple[str, dict[str, str]]:
    """(main text as Markdown with headings, {title, date} found in the page)."""
    import trafilatura

    text = trafilatura.extract(
        html, url=url, output_format="markdown", include_tables=True, include_links=False,
        include_comments=False, include_images=False, favor_recall=True,
    ) or ""
    found: dict[str, str] = {}
    meta = trafilatura.extract_metadata(html, default_url=url)
    if meta is not None:
        if meta.title:
            found["title"] = meta.title.strip()
        if meta.date and re.match(r"^\d{4}-\d{2}-\d{2}$", meta.date):
            found["date"] = meta.date
    # trafilatura writes a "|---|" rule under table headers: noise for retrieval.
    text = re.sub(r"(?m)^\|(?:\s*:?-+:?\s*\|)+\s*$\n?", "", text)
    return text, found


def _http_date(value: str) -> str:
    try:
        return email.utils.parsedate_to_datetime(value).strftime("%Y-%m-%d")
    except (TypeError, ValueError):
        return ""


# --- sync ----------------------------------------------------------------------------------


@dataclass
class WebStats:
    fetched: int = 0
    not_modified: int = 0  # 304 answers to a conditional request
    seconds: float = 0.0


def _write(doc, store, db, chunker, embedder, known, report) -> None:
    """Embed and store one page, in the pipeline's order (vectors, stale vectors removed, then
    the index database with the manifest row last), so a killed run is redone next time."""
    from assistant.manifest import chunk_terms

    chunks = chunker.chunk(doc)
    if not chunks:
        raise CorpusError(doc.path, "aucun passage exploitable après découpage")
    vectors = embedder.embed_passages([c.embedding_text() for c in chunks])
    new_ids = [c.id for c in chunks]
    texts, metas = [c.text for c in chunks], [c.metadata() for c in chunks]
    store.upsert(new_ids, vectors, texts, metas)
    store.delete_ids(sorted(set(store.chunk_ids(doc.doc_id)) - set(new_ids)))
    db.replace_document(doc.doc_id, new_ids, texts, metas, [chunk_terms(t, m) for t, m in zip(texts, metas)])
    (report.updated if doc.doc_id in known else report.added).append(doc.doc_id)
    report.chunks_written += len(chunks)


def sync(corpus_dir: Path, store, db, chunker, embedder, known: dict[str, str], seen: set[str], report,
         force: set[str] | frozenset[str] = frozenset()) -> WebStats | None:
    """Bring the pages of `<corpus>/sources.yaml` up to date in the store; None without that file.

    Adds each listed page's doc id to `seen` (so the pipeline's pruning keeps it) unless the page
    is gone, in which case it is purged here. Problems go to `report.skipped`, never raise.
    `force`: doc ids fetched and re-chunked even when unchanged (a new chunking, a repair)."""
    from .loaders import LoadedDoc, _hash
    from .metadata import parse_meta
    from .pipeline import Skipped

    state_path = Path(db.path).parent / STATE_FILE
    try:
        state: dict[str, dict] = json.loads(state_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        state = {}
    try:
        sources = read_sources(corpus_dir)
    except CorpusError as exc:
        # A broken sources file must not purge the pages it listed last time.
        seen.update(s["doc_id"] for s in state.values() if "doc_id" in s)
        seen.update(d for s in state.values() for d in s.get("doc_ids", []))
        report.skipped.append(Skipped(exc.path, exc.reason))
        return None
    if sources is None:
        return None
    started = time.perf_counter()
    stats = WebStats()
    robots = Robots(sources.options["user_agent"], float(sources.options["timeout_s"]))
    sources_file = str(Path(corpus_dir) / SOURCES_FILE)
    new_state: dict[str, dict] = {}

    entries: list[Source] = []
    for src in sources.entries:
        if not src.sitemap:
            entries.append(src)
            continue
        key = "sitemap " + src.sitemap
        try:
            urls = read_sitemap(src.sitemap, sources.options, robots)
        except (Unreachable, PermissionError) as exc:
            # Pages found through it last time are kept, with their validators.
            listed = set(state.get(key, {}).get("doc_ids", []))
            seen.update(listed)
            new_state[key] = state.get(key, {"doc_ids": []})
            new_state.update({u: s for u, s in state.items() if s.get("doc_id") in listed})
            kept = " ; pages déjà indexées conservées" if listed else ""
            report.skipped.append(Skipped(src.sitemap, f"sitemap : {exc}{kept}"))
            continue
        pages = [
            Source(u, doc_id_for_url(u), dict(src.meta)) for u in dict.fromkeys(urls)
            if urllib.parse.urlsplit(u).path.startswith(src.include or "")
        ]
        new_state[key] = {"doc_ids": [p.doc_id for p in pages]}
        entries.extend(pages)

    for src in entries:
        label = src.url
        if src.doc_id in seen:
            report.skipped.append(Skipped(label, f"identifiant « {src.doc_id} » déjà pris (fichier du corpus ou autre entrée de {SOURCES_FILE})"))
            continue
        seen.add(src.doc_id)
        # No validators for a page not in the store, nor for one to re-chunk (a 304 would keep it).
        previous = state.get(src.url, {}) if src.doc_id in known and src.doc_id not in force else {}
        kept = " ; version précédente conservée" if src.doc_id in known else ""
        if previous:
            new_state[src.url] = previous
        try:
            resp = fetch(src.url, previous, sources.options, robots)
        except PermissionError as exc:
            report.skipped.append(Skipped(label, f"{exc}{kept}"))
            continue
        except Unreachable as exc:
            report.skipped.append(Skipped(label, f"{exc}{kept}"))
            continue
        if resp.status == 304 and previous:
            stats.not_modified += 1
            report.unchanged.append(src.doc_id)
            continue
        if resp.status in (404, 410):
            if src.doc_id in known:
                store.delete_doc(src.doc_id)
                db.remove_document(src.doc_id)
                report.removed.append(src.doc_id)
                new_state.pop(src.url, None)
                msg = f"{label} : page disparue (HTTP {resp.status}), retirée de la base ; retirez-la de {SOURCES_FILE}"
                report.notes.append(msg)
                log.warning(msg)
            else:
                report.skipped.append(Skipped(label, f"page introuvable (HTTP {resp.status})"))
            continue
        if resp.status != 200:
            report.skipped.append(Skipped(label, f"injoignable (HTTP {resp.status}){kept}"))
            continue
        stats.fetched += 1
        if resp.url != src.url:
            report.notes.append(f"{label} : redirigée vers {resp.url} (mettez à jour {SOURCES_FILE})")
        ctype = resp.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype not in HTML_TYPES:
            report.skipped.append(Skipped(label, f"type de contenu « {ctype or 'inconnu'} » non pris en charge (page HTML attendue){kept}"))
            continue
        limit = float(sources.options["max_page_mb"])
        if len(resp.body) > limit * 1024 * 1024:
            report.skipped.append(Skipped(label, f"page trop volumineuse (> {limit:g} Mo, option max_page_mb){kept}"))
            continue
        try:
            text, found = extract(resp.body, resp.url)
            if not text.strip():
                raise CorpusError(label, f"aucun texte principal extrait de la page{kept}")
            data = {"type": "page", "source": src.url, **found, **{k: v for k, v in src.meta.items() if v not in (None, "")}}
            # Hashed before the fallback date: a page without a date must not look changed every day.
            blob = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str).encode()
            if "date" not in data:
                data["date"] = _http_date(resp.headers.get("last-modified", "")) or dt.date.today().isoformat()
            meta = parse_meta(data, f"{sources_file} ({src.url})")
            doc = LoadedDoc(src.doc_id, src.url, meta, _hash(text.encode(), blob), text=text)
            if known.get(src.doc_id) == doc.content_hash and src.doc_id not in force:
                report.unchanged.append(src.doc_id)
            else:
                _write(doc, store, db, chunker, embedder, known, report)
        except CorpusError as exc:
            report.skipped.append(Skipped(exc.path, exc.reason))
            continue
        new_state[src.url] = {
            "doc_id": src.doc_id,
            "etag": resp.headers.get("etag", ""),
            "last_modified": resp.headers.get("last-modified", ""),
            "final_url": resp.url,
        }

    state_path.parent.mkdir(parents=True, exist_ok=True)
    state_path.write_text(json.dumps(new_state, ensure_ascii=False, indent=1), encoding="utf-8")
    stats.seconds = time.perf_counter() - started
    if entries:
        report.notes.append(
            f"pages web : {len(entries)} suivie(s), {stats.fetched} téléchargée(s), "
            f"{stats.not_modified} inchangée(s) selon le serveur (304), {stats.seconds:.1f} s"
        )
    return stats
