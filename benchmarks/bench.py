"""Speed and memory of the default pipeline on this machine. Prints figures; asserts nothing.

    python benchmarks/bench.py [--questions 30] [--json]

Measures: model load, full ingest of the shipped corpus into a fresh store (chunks/s),
incremental re-ingest, retrieval and answer latency (p50/p95) per role, peak memory (RSS).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q / 100 * len(values)) - 1))] if values else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=30, help="questions from evals/gold.yaml to time")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()

    from ingest.embedder import load_embedder, set_offline_env

    set_offline_env()
    import yaml

    from assistant.settings import Settings
    from ingest import run

    figures: dict = {}
    tmp = Path(tempfile.mkdtemp(prefix="coopter-bench-"))
    settings = Settings(store=tmp / "store")

    t0 = time.perf_counter()
    embedder = load_embedder(settings)
    figures["model_load_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    report = run(settings, embedder=embedder)
    figures["ingest_s"] = time.perf_counter() - t0
    figures["documents"] = len(report.added)
    figures["chunks"] = report.chunks_total
    figures["chunks_per_s"] = report.chunks_total / figures["ingest_s"]

    t0 = time.perf_counter()
    again = run(settings, embedder=embedder)
    figures["reingest_unchanged_s"] = time.perf_counter() - t0
    figures["reingest_chunks_written"] = again.chunks_written

    from assistant.engine import Assistant

    bot = Assistant(settings, embedder=embedder)
    items = yaml.safe_load((ROOT / "evals" / "gold.yaml").read_text(encoding="utf-8"))
    questions = [it["question"] for it in items if it["kind"] != "follow-up"][: args.questions]
    bot.ask("échauffement", role="staff")  # builds the lexical index once
    for role in ("public", "staff"):
        bot.ask("échauffement", role=role)
        retrieve, total = [], []
        for q in questions:
            a = bot.ask(q, role=role)
            retrieve.append(a.timings_ms["retrieve_ms"])
            total.append(a.timings_ms["total_ms"])
        figures[f"{role}_retrieve_p50_ms"] = pct(retrieve, 50)
        figures[f"{role}_retrieve_p95_ms"] = pct(retrieve, 95)
        figures[f"{role}_answer_p50_ms"] = pct(total, 50)
        figures[f"{role}_answer_p95_ms"] = pct(total, 95)
    figures["questions_timed"] = len(questions)
    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    if args.json:
        print(json.dumps({k: round(v, 2) if isinstance(v, float) else v for k, v in figures.items()}))
        return
    for k, v in figures.items():
        print(f"{k:28} {v:10.2f}" if isinstance(v, float) else f"{k:28} {v:>10}")


if __name__ == "__main__":
    main()
