"""How the assistant behaves as the store grows. Prints and writes figures; asserts nothing.

    python benchmarks/scale.py [--sizes 1000 10000 100000] [--out benchmarks/results/scale]

For each size: the shipped corpus plus generated Markdown documents (valid front matter, random
type, date, themes and access level, ~25 chunks each of shuffled real sentences from the corpus),
ingested through `ingest.run` with the hashing embedder (384 dim.), so every figure is everything
but the neural model; then an unchanged re-ingest. The ingestion runs in its own process
(`--ingest`: its peak RSS, the BM25 build time). Then, in a fresh process per size (`--probe`):
first question after start (public, then staff), retrieval p50/p95 per role, answer p50/p95, an
abstention, the documents list, Chroma's own filtered top-k query at the same size (the floor),
peak RSS; and, for comparison, what the pre-index code paid (in-memory BM25 build per role from a
full scan, the documents list and the document hashes from a scan of all chunk metadata).
Last, in a third process (`--throughput`): a sample of new documents ingested into that store
with the real default embedder, against that embedder's raw encode of the same chunks (timed
before and after the ingestion); the ratio is the figure.

Peak RSS is the process's own high-water mark (VmHWM, reset at exec); `ru_maxrss` is not: a
child started by a big process inherits the parent's peak (the 1.86 GB once reported for the
100 k probe was the ingestion's).

Writes scale.json and scale.png (growth plot) in --out, with the machine's load (`uptime`)
before and after each size.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ROLES = ("public", "community", "staff")
TYPES = ("note", "guide", "fiche-projet", "article", "page")
THEMES = ("ptce", "collectivités", "financement", "gouvernance", "tiers-lieux", "ess", "emploi", "mobilité")
CHUNKS_PER_DOC = 25
WORDS_PER_CHUNK = 170  # the hashing embedder counts words; chunk_tokens is 200
OUT_OF_CORPUS = "Quel est le numéro de téléphone du standard de la préfecture en 2031 ?"


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q / 100 * len(values)) - 1))] if values else 0.0


def sentences() -> list[str]:
    out = []
    for path in sorted((ROOT / "corpus").rglob("*.md")):
        body = path.read_text(encoding="utf-8").split("---", 2)[-1]
        body = re.sub(r"^#+ .*$", "", body, flags=re.M)
        out += [s.strip() for s in re.split(r"(?<=[.!?])\s+", body) if len(s.split()) >= 6 and "CANARI" not in s]
    return out


def make_corpus(target: Path, chunks: int, seed: int = 0) -> int:
    """The shipped corpus plus generated documents up to about `chunks` chunks; returns the
    number of generated documents."""
    import shutil

    shutil.copytree(ROOT / "corpus", target)
    n_docs = max(0, round((chunks - 126) / CHUNKS_PER_DOC))
    write_docs(target / "genere", n_docs, random.Random(seed))
    return n_docs


def write_docs(folder: Path, n_docs: int, rng: random.Random, prefix: str = "") -> list[Path]:
    """`n_docs` generated Markdown documents of CHUNKS_PER_DOC sections under `folder`."""
    pool = sentences()
    paths = []
    for i in range(n_docs):
        level = rng.choice(ROLES)
        themes = rng.sample(THEMES, 2)
        date = f"{rng.randint(2010, 2026)}-{rng.randint(1, 12):02d}"
        parts = [
            "---",
            f'title: "Document généré {prefix}{i:06d}"',
            f"type: {rng.choice(TYPES)}",
            f'date: "{date}"',
            'source: "généré par benchmarks/scale.py"',
            f"themes: [{', '.join(themes)}]",
            f"access: {level}",
            "---",
            "",
        ]
        for s in range(CHUNKS_PER_DOC):
            parts.append(f"## Partie {s + 1}\n")
            words: list[str] = []
            while len(words) < WORDS_PER_CHUNK - 20:
                words += rng.choice(pool).split()
            parts.append(" ".join(words) + "\n")
        sub = folder / f"{i // 500:03d}"
        sub.mkdir(parents=True, exist_ok=True)
        paths.append(sub / f"doc{prefix}{i:06d}.md")
        paths[-1].write_text("\n".join(parts), encoding="utf-8")
    return paths


def peak_rss_mb() -> float:
    """This process's own peak RSS (VmHWM): unlike ru_maxrss, not inherited from a parent."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_now() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def settings_for(store: Path, corpus: Path):
    from assistant.settings import Settings

    return Settings(corpus_dir=corpus, store=store, embed_model="fake:hashing")


def embedder():
    from ingest.embedder import HashingEmbedder

    return HashingEmbedder(dim=384, name="hashing-384")


def probe(store: Path, corpus: Path, n_questions: int, compare_old: bool) -> dict:
    """Run in a fresh process: everything a user waits for, on an existing store."""
    started = time.perf_counter()
    import yaml

    from assistant import access
    from assistant.engine import Assistant
    from assistant.retrieval import where_clause

    fig: dict = {}
    emb = embedder()
    settings = settings_for(store, corpus)
    bot = Assistant(settings, embedder=emb)
    fig["open_s"] = time.perf_counter() - started
    items = yaml.safe_load((ROOT / "evals" / "gold.yaml").read_text(encoding="utf-8"))
    questions = [it["question"] for it in items if it["kind"] != "follow-up"][:n_questions]
    for role in ("public", "staff"):
        t0 = time.perf_counter()
        bot.ask(questions[0], role=role)
        fig[f"first_question_{role}_s"] = time.perf_counter() - t0
    fig["first_question_after_start_s"] = fig["open_s"] + fig["first_question_public_s"]
    for role in ROLES:
        retrieve, total, parts = [], [], {"embed_ms": [], "dense_ms": [], "bm25_ms": [], "fill_ms": []}
        for q in questions:
            a = bot.ask(q, role=role)
            retrieve.append(a.timings_ms["retrieve_ms"])
            total.append(a.timings_ms["total_ms"])
            for k in parts:
                parts[k].append(a.timings_ms.get(k, 0.0))
        fig[f"{role}_retrieve_p50_ms"] = pct(retrieve, 50)
        fig[f"{role}_retrieve_p95_ms"] = pct(retrieve, 95)
        fig[f"{role}_answer_p50_ms"] = pct(total, 50)
        fig[f"{role}_answer_p95_ms"] = pct(total, 95)
        for k, v in parts.items():
            fig[f"{role}_{k}_p50"] = pct(v, 50)
        # Chroma's own filtered top-k (the dense side alone, same k as retrieval): the floor.
        floor = []
        for q in questions:
            qvec = emb.embed_queries([q])[0]
            t0 = time.perf_counter()
            bot.store.query(qvec, settings.candidates, where_clause(role, None))
            floor.append((time.perf_counter() - t0) * 1000)
        fig[f"{role}_chroma_floor_p50_ms"] = pct(floor, 50)
        fig[f"{role}_chroma_floor_p95_ms"] = pct(floor, 95)
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        a = bot.ask(OUT_OF_CORPUS, role="community")
        times.append(time.perf_counter() - t0)
    fig["abstention_s"] = pct(times, 50)
    fig["abstained"] = a.abstained
    t0 = time.perf_counter()
    docs = bot.documents("community")
    fig["documents_list_s"] = time.perf_counter() - t0
    fig["documents_community"] = len(docs)
    fig["peak_rss_mb"] = peak_rss_mb()
    if compare_old:  # what the code before the persisted index paid, on the same store
        from assistant.lexical import LexicalIndex

        for role in ("public", "staff"):
            t0 = time.perf_counter()
            LexicalIndex(bot.store.all_passages(where=access.where_for(role)))
            fig[f"old_lexical_build_{role}_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        seen = set()
        for meta in bot.store.iter_metadatas(where=access.where_for("community")):
            seen.add(meta["doc_id"])
        fig["old_documents_list_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        bot.store.scan_doc_hashes()
        fig["old_doc_hashes_scan_s"] = time.perf_counter() - t0
        fig["peak_rss_with_old_mb"] = peak_rss_mb()
    return fig


def timed_builds() -> list[float]:
    """Seconds of each lexical_index.build call from now on (patched where ingest calls it)."""
    from assistant import lexical_index
    from ingest import pipeline

    builds: list[float] = []
    original = lexical_index.build

    def build(db):
        t0 = time.perf_counter()
        try:
            return original(db)
        finally:
            builds.append(time.perf_counter() - t0)

    pipeline.lexical_index.build = build
    return builds


def ingest_step(store: Path, corpus: Path) -> dict:
    """Run in a fresh process: the full ingestion, then unchanged re-ingests."""
    from assistant.manifest import IndexDB, index_dir
    from assistant.schema import INDEX_DB_NAME
    from ingest import run

    fig: dict = {}
    builds = timed_builds()
    settings = settings_for(store, corpus)
    emb = embedder()
    t0 = time.perf_counter()
    report = run(settings, embedder=emb)
    fig["ingest_s"] = time.perf_counter() - t0
    fig["ingest_bm25_build_s"] = sum(builds)
    fig["chunks"] = report.chunks_total
    fig["skipped"] = len(report.skipped)
    fig["ingest_chunks_per_s"] = report.chunks_written / fig["ingest_s"]
    fig["ingest_peak_rss_mb"] = peak_rss_mb()
    # Unchanged re-ingest, the files recognised by their fingerprint; then the same with the
    # fingerprints cleared (every file parsed, as before them), then fingerprinted again.
    reingest = []
    for clear in (False, True, False):
        if clear:
            db = IndexDB(index_dir(settings) / INDEX_DB_NAME, create=True)
            db.conn.execute("UPDATE documents SET fingerprint = ''")
            db.close()
        t0 = time.perf_counter()
        again = run(settings, embedder=emb)
        reingest.append(time.perf_counter() - t0)
        assert again.chunks_written == 0 and not again.skipped
    fig["reingest_unchanged_s"] = (reingest[0] + reingest[2]) / 2
    fig["reingest_parse_all_s"] = reingest[1]
    fig["reingest_bm25_builds"] = len(builds) - 1
    return fig


def old_build(db, out: Path) -> None:
    """The build before term ids were stored: token strings from every chunk's terms, one
    bm25s.index per level (kept here to compare, same output)."""
    import shutil

    import numpy as np

    from assistant import lexical_index
    from assistant.schema import ACCESS_LEVELS

    bm25s = lexical_index._quiet_bm25s()
    rows = list(db.level_terms())
    tokens = [terms.split() for _, _, terms in rows]
    shutil.rmtree(out, ignore_errors=True)
    for rank, level in enumerate(ACCESS_LEVELS):
        sel = [i for i, (_, r, _) in enumerate(rows) if r <= rank]
        (out / level).mkdir(parents=True)
        np.save(out / level / "rowids.npy", np.array([rows[i][0] for i in sel], dtype=np.int64))
        if sel:
            lexical_index._index_tokens(bm25s, [tokens[i] for i in sel]).save(str(out / level), show_progress=False)


def build_step(store: Path, corpus: Path) -> dict:
    """Run in a fresh process: the BM25 build from stored term ids, then the old build from
    token strings, on the same index database (time, and the process's peak RSS after each:
    the second peak is the old build's, being the larger)."""
    import shutil

    from assistant import lexical_index
    from assistant.manifest import IndexDB, index_dir
    from assistant.schema import INDEX_DB_NAME

    db = IndexDB(index_dir(settings_for(store, corpus)) / INDEX_DB_NAME, create=True)
    lexical_index._quiet_bm25s()
    fig = {"build_base_rss_mb": peak_rss_mb()}
    t0 = time.perf_counter()
    lexical_index.build(db)
    fig["build_new_s"], fig["build_new_peak_rss_mb"] = time.perf_counter() - t0, peak_rss_mb()
    t0 = time.perf_counter()
    old_build(db, store / "old-bm25")
    fig["build_old_s"], fig["build_old_peak_rss_mb"] = time.perf_counter() - t0, peak_rss_mb()
    shutil.rmtree(store / "old-bm25", ignore_errors=True)
    return fig


class Posing:
    """The real embedder under the benchmark store's embedder name (same dimension), so a
    sample can be ingested into that store with the real model's costs."""

    def __init__(self, real, like):
        self._real, self.name, self.dim = real, like.name, like.dim
        self.encode_s = 0.0  # time spent in embed_passages during the ingestion
        assert real.dim == like.dim

    def embed_passages(self, texts, progress=False):
        t0 = time.perf_counter()
        try:
            return self._real.embed_passages(texts, progress)
        finally:
            self.encode_s += time.perf_counter() - t0

    def __getattr__(self, attr):
        return getattr(self._real, attr)


def throughput_step(store: Path, corpus: Path, n_docs: int) -> dict:
    """Run in a fresh process: ingestion throughput against the real embedder's raw encode.

    `n_docs` new generated documents are written into the corpus and ingested (`paths=`) into
    the existing store with the default embedder (loaded and warmed first, not timed). The raw
    encode is `embed_passages` on the very chunk texts the pipeline embeds, all in one call (the
    embedder's own batches), timed before and after the ingestion; ratio = raw / ingest time.
    """
    from assistant.settings import Settings
    from ingest import run
    from ingest.chunking import Chunker
    from ingest.embedder import load_embedder
    from ingest.loaders import load

    settings = settings_for(store, corpus)
    t0 = time.perf_counter()
    real = load_embedder(Settings())
    real.embed_passages(["Un pôle territorial de coopération économique."] * 4)  # warm-up
    fig: dict = {"throughput_embedder": real.name, "throughput_model_load_s": time.perf_counter() - t0}
    paths = write_docs(corpus / "echantillon", n_docs, random.Random(12345), prefix="e")
    chunker = Chunker(real, settings.chunk_tokens, settings.chunk_overlap)
    texts = [c.embedding_text() for p in paths for c in chunker.chunk(load(p, corpus, settings.max_file_mb))]

    def raw() -> float:
        t0 = time.perf_counter()
        real.embed_passages(texts)
        return time.perf_counter() - t0

    before = raw()
    builds = timed_builds()
    t0 = time.perf_counter()
    posing = Posing(real, embedder())
    report = run(settings, paths=paths, embedder=posing)
    ingest_s = time.perf_counter() - t0
    after = raw()
    assert report.chunks_written == len(texts) and not report.skipped, (report.chunks_written, len(texts))
    raw_s = (before + after) / 2
    fig.update({
        "throughput_chunks": len(texts),
        "throughput_ingest_s": ingest_s,
        "throughput_ingest_chunks_per_s": len(texts) / ingest_s,
        "throughput_bm25_build_s": sum(builds),
        "throughput_raw_encode_s": raw_s,
        "throughput_raw_encode_s_before_after": [round(before, 3), round(after, 3)],
        "throughput_raw_chunks_per_s": len(texts) / raw_s,
        "throughput_ratio": raw_s / ingest_s,
        # Less sensitive to the load changing between the timings: the pipeline's own time
        # (ingestion minus its encode calls) added to the raw encode.
        "throughput_pipeline_own_s": ingest_s - posing.encode_s,
        "throughput_ratio_own_time": raw_s / (raw_s + ingest_s - posing.encode_s),
    })
    return fig


def step(args: list[str]) -> dict:
    """Run `scale.py <args>` in a fresh process; its last output line is a JSON dict."""
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"{args[0]} a échoué :\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_size(size: int, work: Path, n_questions: int, compare_old: bool, throughput_docs: int) -> dict:
    fig: dict = {"target_chunks": size, "load_before": load_now()}
    corpus, store = work / f"corpus-{size}", work / f"store-{size}"
    t0 = time.perf_counter()
    fig["generated_documents"] = make_corpus(corpus, size)
    fig["generate_s"] = time.perf_counter() - t0
    fig.update(step(["--ingest", str(store), str(corpus)]))
    fig.update(step(["--build", str(store), str(corpus)]))
    probe_args = ["--probe", str(store), str(corpus), "--questions", str(n_questions)]
    fig.update(step(probe_args + (["--compare-old"] if compare_old else [])))
    if throughput_docs:  # last: it adds real-model vectors to the store
        fig.update(step(["--throughput", str(store), str(corpus), "--throughput-docs", str(throughput_docs)]))
    fig["load_after"] = load_now()
    return fig


def plot(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = [r["chunks"] for r in results]
    fig, (left, right, mem) = plt.subplots(1, 3, figsize=(17, 4.5))
    for key, label in [
        ("community_retrieve_p95_ms", "recherche hybride p95 (community)"),
        ("community_chroma_floor_p95_ms", "requête filtrée Chroma p95 (plancher)"),
        ("community_bm25_ms_p50", "BM25 p50"),
        ("community_fill_ms_p50", "vecteurs des passages BM25 p50"),
    ]:
        left.plot(xs, [r.get(key, 0) for r in results], marker="o", label=label)
    left.set(xscale="log", yscale="log", xlabel="passages", ylabel="ms", title="Latence de recherche")
    left.legend(fontsize=8)
    for key, label in [
        ("first_question_after_start_s", "première question (ouverture comprise)"),
        ("abstention_s", "abstention"),
        ("documents_list_s", "liste des documents"),
        ("reingest_unchanged_s", "réingestion inchangée"),
        ("ingest_bm25_build_s", "reconstruction des index BM25 (ingestion)"),
        ("reingest_parse_all_s", "avant : réingestion inchangée, tout relu"),
        ("build_old_s", "avant : index BM25 depuis les chaînes de termes"),
        ("old_lexical_build_staff_s", "avant : index BM25 staff reconstruit"),
        ("old_documents_list_s", "avant : liste des documents (scan)"),
    ]:
        if any(key in r for r in results):
            right.plot(xs, [r.get(key, 0) for r in results], marker="o", label=label)
    right.set(xscale="log", yscale="log", xlabel="passages", ylabel="s", title="Temps d'attente")
    right.legend(fontsize=8)
    for key, label in [("peak_rss_mb", "processus qui répond"), ("ingest_peak_rss_mb", "ingestion")]:
        if any(key in r for r in results):
            mem.plot(xs, [r.get(key, 0) for r in results], marker="o", label=label)
    mem.axhline(1536, color="grey", linestyle=":", label="objectif 1,5 Go")
    mem.set(xscale="log", xlabel="passages", ylabel="Mo", title="Mémoire maximale (VmHWM)")
    mem.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--questions", type=int, default=30)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "scale")
    parser.add_argument("--work", type=Path, help="working directory (default: a temporary one)")
    parser.add_argument("--no-compare-old", action="store_true", help="skip the pre-index code paths")
    parser.add_argument("--throughput-docs", type=int, default=8,
                        help="documents (~25 chunks each) ingested with the real embedder per size; 0: skip")
    parser.add_argument("--probe", nargs=2, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--ingest", nargs=2, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--throughput", nargs=2, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--build", nargs=2, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--compare-old", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    from ingest.embedder import set_offline_env

    set_offline_env()
    import logging

    logging.disable(logging.WARNING)
    steps = {"probe": lambda a: probe(a[0], a[1], args.questions, args.compare_old),
             "ingest": lambda a: ingest_step(a[0], a[1]),
             "build": lambda a: build_step(a[0], a[1]),
             "throughput": lambda a: throughput_step(a[0], a[1], args.throughput_docs)}
    for name, fn in steps.items():
        if getattr(args, name):
            fig = fn(getattr(args, name))
            print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in fig.items()}))
            return
    work = args.work or Path(tempfile.mkdtemp(prefix="coopter-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    args.out.mkdir(parents=True, exist_ok=True)
    results = []
    for size in args.sizes:
        fig = run_size(size, work, args.questions, not args.no_compare_old, args.throughput_docs)
        fig = {k: round(v, 4) if isinstance(v, float) else v for k, v in fig.items()}
        results.append(fig)
        print(json.dumps(fig), flush=True)
        (args.out / "scale.json").write_text(json.dumps({"machine": machine(), "results": results}, indent=1), encoding="utf-8")
        plot(results, args.out / "scale.png")
    print(f"écrit : {args.out / 'scale.json'}, {args.out / 'scale.png'}")


def machine() -> dict:
    import os
    import platform

    return {"cpus": os.cpu_count(), "python": platform.python_version(), "date": time.strftime("%Y-%m-%d %H:%M")}


if __name__ == "__main__":
    main()
