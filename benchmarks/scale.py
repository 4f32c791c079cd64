"""How the assistant behaves as the store grows. Prints and writes figures; asserts nothing.

    python benchmarks/scale.py [--sizes 1000 10000 100000] [--out benchmarks/results/scale]

For each size: the shipped corpus plus generated Markdown documents (valid front matter, random
type, date, themes and access level, ~25 chunks each of shuffled real sentences from the corpus),
ingested through `ingest.run` with the hashing embedder (384 dim.), so every figure is everything
but the neural model. Then, in a fresh process per size (`--probe`): first question after start
(public, then staff), retrieval p50/p95 per role, answer p50/p95, an abstention, the documents
list, Chroma's own filtered top-k query at the same size (the floor), peak RSS; and, for
comparison, what the pre-index code paid (in-memory BM25 build per role from a full scan, the
documents list and the document hashes from a scan of all chunk metadata).

Writes scale.json and scale.png (growth plot) in --out.
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

    rng = random.Random(seed)
    shutil.copytree(ROOT / "corpus", target)
    pool = sentences()
    n_docs = max(0, round((chunks - 126) / CHUNKS_PER_DOC))
    for i in range(n_docs):
        level = rng.choice(ROLES)
        themes = rng.sample(THEMES, 2)
        date = f"{rng.randint(2010, 2026)}-{rng.randint(1, 12):02d}"
        parts = [
            "---",
            f'title: "Document généré {i:06d}"',
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
        sub = target / "genere" / f"{i // 500:03d}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"doc{i:06d}.md").write_text("\n".join(parts), encoding="utf-8")
    return n_docs


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
    fig["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
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
        fig["peak_rss_with_old_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return fig


def run_size(size: int, work: Path, n_questions: int, compare_old: bool) -> dict:
    from ingest import run

    fig: dict = {"target_chunks": size}
    corpus, store = work / f"corpus-{size}", work / f"store-{size}"
    t0 = time.perf_counter()
    fig["generated_documents"] = make_corpus(corpus, size)
    fig["generate_s"] = time.perf_counter() - t0
    settings = settings_for(store, corpus)
    emb = embedder()
    t0 = time.perf_counter()
    report = run(settings, embedder=emb)
    fig["ingest_s"] = time.perf_counter() - t0
    fig["chunks"] = report.chunks_total
    fig["skipped"] = len(report.skipped)
    t0 = time.perf_counter()
    again = run(settings, embedder=emb)
    fig["reingest_unchanged_s"] = time.perf_counter() - t0
    fig["reingest_written"] = again.chunks_written
    cmd = [sys.executable, __file__, "--probe", str(store), str(corpus), "--questions", str(n_questions)]
    if compare_old:
        cmd.append("--compare-old")
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    fig.update(json.loads(out.stdout.strip().splitlines()[-1]))
    return fig


def plot(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = [r["chunks"] for r in results]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
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
        ("old_lexical_build_staff_s", "avant : index BM25 staff reconstruit"),
        ("old_documents_list_s", "avant : liste des documents (scan)"),
    ]:
        if any(key in r for r in results):
            right.plot(xs, [r.get(key, 0) for r in results], marker="o", label=label)
    right.set(xscale="log", yscale="log", xlabel="passages", ylabel="s", title="Temps d'attente")
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--questions", type=int, default=30)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "scale")
    parser.add_argument("--work", type=Path, help="working directory (default: a temporary one)")
    parser.add_argument("--no-compare-old", action="store_true", help="skip the pre-index code paths")
    parser.add_argument("--probe", nargs=2, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--compare-old", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    from ingest.embedder import set_offline_env

    set_offline_env()
    import logging

    logging.disable(logging.WARNING)
    if args.probe:
        fig = probe(args.probe[0], args.probe[1], args.questions, args.compare_old)
        print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in fig.items()}))
        return
    work = args.work or Path(tempfile.mkdtemp(prefix="coopter-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    args.out.mkdir(parents=True, exist_ok=True)
    results = []
    for size in args.sizes:
        fig = run_size(size, work, args.questions, not args.no_compare_old)
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
