"""`coopter eval`: run the gold set through one or more variants, write report.md/.json and a chart.

Variants share the store and the answer step (extractive); only retrieval differs:
bm25, dense, hybrid, hybrid+rerank (when a reranker is configured), llamaindex (baseline).

Every gold item belongs to a split: `dev` (what settings are tuned on) or `test` (held apart,
only reported). A run on both reports each split on its own, so a figure tuned on dev is never
presented as a test figure.
"""

from __future__ import annotations

import copy
import json
import re
import time
from pathlib import Path

import yaml

from assistant.errors import ConfigError
from assistant.schema import access_rank

from .metrics import Outcome, bootstrap_interval, false_abstention, leak_count, summarize

HERE = Path(__file__).resolve().parent
DEFAULT_SET = HERE / "gold.yaml"
THRESHOLDS = HERE / "thresholds.yaml"
ALL_VARIANTS = ["bm25", "dense", "hybrid", "hybrid+rerank", "llamaindex"]
KINDS = ("factual", "synthesis", "follow-up", "out-of-scope", "restricted")
PERSONAS = ("newcomer", "collectivite", "accompagnateur")
SPLITS = ("dev", "test")
CANARY_RE = re.compile(r"CANARI-[A-Z]+-[0-9A-Z]{4}")


def load_gold(path: Path) -> list[dict]:
    """Read and check the gold set (every item needs id, question, role, kind, persona and a
    split, dev or test). Raises ConfigError on a malformed item."""
    items = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(items, list):
        raise ConfigError(f"{path} : une liste de questions est attendue")
    seen = set()
    for it in items:
        for key in ("id", "question", "role", "kind", "persona"):
            if key not in it:
                raise ConfigError(f"{path} : question {it.get('id', '?')} sans « {key} »")
        if it["id"] in seen:
            raise ConfigError(f"{path} : identifiant en double {it['id']}")
        seen.add(it["id"])
        if it["kind"] not in KINDS:
            raise ConfigError(f"{path} : {it['id']} a un type inconnu {it['kind']}")
        if it["persona"] not in PERSONAS:
            raise ConfigError(f"{path} : {it['id']} a un profil inconnu {it['persona']}")
        if it.get("split") not in SPLITS:
            raise ConfigError(f"{path} : {it['id']} sans « split » valide ({' | '.join(SPLITS)})")
        if it["kind"] == "follow-up" and not it.get("previous"):
            raise ConfigError(f"{path} : {it['id']} (follow-up) sans « previous »")
    return items


def canaries_in_store(store) -> dict[str, str]:
    """Canary strings found in the store, with the access level of the chunk holding them."""
    out: dict[str, str] = {}
    for p in store.all_passages():
        for c in CANARY_RE.findall(p.text + " " + p.title + " " + p.section):
            if c not in out or access_rank(p.access) < access_rank(out[c]):
                out[c] = p.access
    return out


def make_assistant(base, variant: str):
    """An Assistant sharing `base`'s store and embedder, with the variant's retrieval."""
    from assistant.retrieval import Retriever

    bot = copy.copy(base)
    if variant in ("bm25", "dense", "hybrid"):
        bot.settings = base.settings.with_overrides(retrieval_mode=variant, reranker="")
        bot.retriever = Retriever(base.store, base.embedder, bot.settings)
        bot.retriever._lexical = base.retriever._lexical  # same indexes, built once
    elif variant == "hybrid+rerank":
        if not base.settings.reranker:
            return None
        bot.settings = base.settings.with_overrides(retrieval_mode="hybrid")
        bot.retriever = Retriever(base.store, base.embedder, bot.settings)
        bot.retriever._lexical = base.retriever._lexical
    elif variant == "llamaindex":
        from ingest.embedder import resolve_model_path

        from .baseline import LlamaIndexRetriever

        _, path = resolve_model_path(base.settings.embed_model)
        bot.retriever = LlamaIndexRetriever(base.store, str(path), base.settings)
        bot.retriever.lexical = base.retriever.lexical  # the abstention score's idf weights
    else:
        raise ConfigError(f"variante inconnue « {variant} » ({', '.join(ALL_VARIANTS)})")
    return bot


def run_item(bot, item: dict, canaries: dict[str, str]) -> Outcome:
    from assistant.conversation import Conversation

    role = item["role"]
    conv = Conversation(role=role)
    leaked_texts: list[str] = []
    accesses: list[str] = []
    if item.get("previous"):
        prev = bot.ask(item["previous"], role=role, conversation=conv)
        leaked_texts.append(prev.answer)
        accesses += [c.access for c in prev.citations] + [p.access for p in prev.retrieved]
    t0 = time.perf_counter()
    ans = bot.ask(item["question"], role=role, conversation=conv)
    latency = (time.perf_counter() - t0) * 1000
    texts = [ans.answer] + [c.text + c.title + c.section for c in ans.citations] + [p.text for p in ans.retrieved]
    accesses += [c.access for c in ans.citations] + [p.access for p in ans.retrieved]
    return Outcome(
        qid=item["id"],
        kind=item["kind"],
        persona=item["persona"],
        role=role,
        split=item["split"],
        must_abstain=item["kind"] in ("out-of-scope", "restricted"),
        expected_sources=list(item.get("sources") or []),
        facts=list(item.get("facts") or []),
        retrieved_docs=[p.doc_id for p in ans.retrieved],
        answer=ans.answer,
        abstained=ans.abstained,
        cited_docs=[c.doc_id for c in ans.citations],
        cited_texts=[c.text for c in ans.citations],
        leaked=leak_count(role, accesses, texts + leaked_texts, canaries),
        latency_ms=latency,
        confidence=ans.confidence,
    )


def breakdown(outcomes: list[Outcome], key: str) -> dict[str, dict]:
    groups: dict[str, list[Outcome]] = {}
    for o in outcomes:
        groups.setdefault(getattr(o, key), []).append(o)
    return {g: summarize(v) for g, v in sorted(groups.items())}


INTERVAL_METRICS = ("fact_accuracy", "citation_precision", "abstention_accuracy")


def section(outcomes: list[Outcome]) -> dict:
    """Overall, per-kind and per-persona summaries of one group of outcomes, with 95 % bootstrap
    intervals of the main metrics."""
    return {"overall": summarize(outcomes), "by_kind": breakdown(outcomes, "kind"),
            "by_persona": breakdown(outcomes, "persona"),
            "intervals": {m: bootstrap_interval(outcomes, m) for m in INTERVAL_METRICS}}


def intervals_line(sec: dict) -> str:
    names = {"fact_accuracy": "exactitude", "citation_precision": "citations", "abstention_accuracy": "abstention juste"}
    parts = [f"{names[m]} [{lo:.2f} ; {hi:.2f}]" for m, iv in sec.get("intervals", {}).items() if iv for lo, hi in [iv]]
    return ("Intervalles à 95 % (bootstrap sur les questions, 2 000 tirages) : " + ", ".join(parts) + ".") if parts else ""


def false_abstentions_by_persona(outcomes: list[Outcome]) -> dict[str, dict]:
    """Per persona and split (plus `all`): abstentions on answerable questions, their count and rate."""
    out: dict[str, dict] = {}
    for persona in PERSONAS:
        mine = [o for o in outcomes if o.persona == persona]
        per: dict[str, dict] = {}
        for part in ("all", *SPLITS):
            vals = [v for o in mine if part in ("all", o.split) and (v := false_abstention(o)) is not None]
            if vals or part == "all":
                per[part] = {"abstained": int(sum(vals)), "answerable": len(vals),
                             "rate": sum(vals) / len(vals) if vals else None}
        out[persona] = per
    return out


def _fmt(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.2f}" if v <= 1.0 else f"{v:.0f}"
    return str(v)


COLUMNS = ["n", "recall@5", "mrr", "fact_accuracy", "citation_precision", "abstention_accuracy",
           "false_abstention", "false_answer", "leaks", "latency_p50_ms", "latency_p95_ms"]
SPLIT_TITLES = {"test": "test (tenu à part)", "dev": "dev (réglages)"}


def table(rows: dict[str, dict], first: str) -> str:
    head = f"| {first} | " + " | ".join(COLUMNS) + " |"
    sep = "|" + "---|" * (len(COLUMNS) + 1)
    body = [f"| {name} | " + " | ".join(_fmt(r.get(c)) for c in COLUMNS) + " |" for name, r in rows.items()]
    return "\n".join([head, sep, *body])


def _splits_run(r: dict) -> list[str]:
    """The splits of a variant's results, test first; empty when the run covered only one."""
    parts = [s for s in ("test", "dev") if s in r.get("by_split", {})]
    return parts if len(parts) > 1 else []


def headline(r: dict) -> tuple[dict, str]:
    """The figures to show first: the held-apart test split's when the run has both splits."""
    if _splits_run(r):
        return r["by_split"]["test"]["overall"], "test"
    return r["overall"], ""


def chart(results: dict[str, dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = ["recall@5", "mrr", "fact_accuracy", "citation_precision", "abstention_accuracy"]
    variants = list(results)
    width = 0.8 / max(1, len(variants))
    fig, ax = plt.subplots(figsize=(10, 4.5))
    part = ""
    for i, v in enumerate(variants):
        figures, part = headline(results[v])
        vals = [figures.get(m) or 0 for m in metrics]
        ax.bar([x + i * width for x in range(len(metrics))], vals, width, label=v)
    ax.set_xticks([x + width * (len(variants) - 1) / 2 for x in range(len(metrics))])
    ax.set_xticklabels(["rappel@5", "MRR", "exactitude", "précision citations", "abstention"])
    ax.set_ylim(0, 1.05)
    title = "coopter-assistant — comparaison des variantes de recherche"
    ax.set_title(title + (" (jeu de test, tenu à part)" if part == "test" else ""))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=len(variants), fontsize=9, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


MAXIMUMS = ("leaks", "false_answer", "false_abstention", "latency_p95_ms")


def check_thresholds(results: dict[str, dict], subset: str, split: str = "all", spec: dict | None = None) -> list[str]:
    """Failures against evals/thresholds.yaml (or `spec`), as French lines.

    On the CI subset, the `ci` section is checked on the run's overall figures. Otherwise the
    section named after the split that was run (`all`, `dev` or `test`) is checked on the overall
    figures and, on a run over both splits, the `dev` and `test` sections on each split's own.
    A section or variant absent from the file checks nothing."""
    if spec is None:
        spec = yaml.safe_load(THRESHOLDS.read_text(encoding="utf-8")) or {}
    failures = []
    for variant, r in results.items():
        targets = [(subset if subset == "ci" else split, r["overall"])]
        if subset != "ci" and split == "all":
            targets += [(s, r["by_split"][s]["overall"]) for s in _splits_run(r)]
        for name, got in targets:
            for metric, bound in ((spec.get(name) or {}).get(variant) or {}).items():
                value = got.get(metric)
                if metric in MAXIMUMS:
                    if value is not None and value > bound:
                        failures.append(f"{variant} [{name}] : {metric} = {_fmt(value)} > {bound}")
                elif value is None or value < bound:
                    failures.append(f"{variant} [{name}] : {metric} = {_fmt(value)} < {bound}")
    return failures


def evaluate(base, items: list[dict], variants: list[str], progress: bool = False) -> dict[str, dict]:
    """Run every item through every variant. Returns, per variant: overall/by_kind/by_persona over
    all items, the same per split under by_split, false abstentions per persona, and the outcomes."""
    canaries = canaries_in_store(base.store)
    results: dict[str, dict] = {}
    for variant in variants:
        bot = make_assistant(base, variant)
        if bot is None:
            continue
        outcomes = []
        for item in items:
            outcomes.append(run_item(bot, item, canaries))
        results[variant] = {
            **section(outcomes),
            "by_split": {s: section([o for o in outcomes if o.split == s])
                         for s in SPLITS if any(o.split == s for o in outcomes)},
            "false_abstention_by_persona": false_abstentions_by_persona(outcomes),
            "outcomes": [o.__dict__ for o in outcomes],
        }
        if progress:
            r = results[variant]
            for part, o in [("", r["overall"])] + [(s, r["by_split"][s]["overall"]) for s in _splits_run(r)]:
                print(f"  {variant + (' · ' + part if part else ''):20} n={o['n']:<4} rappel@5={_fmt(o['recall@5'])} "
                      f"exactitude={_fmt(o['fact_accuracy'])} abstention={_fmt(o['abstention_accuracy'])} "
                      f"fuites={o['leaks']}", flush=True)
    return results


def _false_abstention_table(fa: dict[str, dict], parts: list[str]) -> str:
    cols = [*parts, "all"] if parts else ["all"]
    names = {"all": "ensemble", **{s: s for s in SPLITS}}
    lines = ["| profil | " + " | ".join(names[c] for c in cols) + " |", "|" + "---|" * (len(cols) + 1)]
    for persona, per in fa.items():
        cells = []
        for c in cols:
            x = per.get(c)
            cells.append("—" if not x or x["rate"] is None else f"{x['rate']:.2f} ({x['abstained']}/{x['answerable']})")
        lines.append(f"| {persona} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_report(results: dict, report_dir: Path, meta: dict) -> None:
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / "report.json").write_text(json.dumps({"meta": meta, "results": results}, ensure_ascii=False, indent=1), encoding="utf-8")
    by_split = {s: n for s, n in meta.get("questions_by_split", {}).items() if n}
    counts = ", ".join(f"{n} {s}" for s, n in by_split.items()) if len(by_split) > 1 else ""
    lines = [
        "# Rapport d'évaluation coopter-assistant",
        "",
        (f"Jeu : `{meta['set']}` ({meta['questions']} questions{' : ' + counts if counts else ''} ; "
         f"sous-ensemble « {meta['subset']} », partie « {meta.get('split', 'all')} »), "
         f"modèle d'embedding `{meta['embedder']}`, backend `{meta['backend']}`, "
         f"seuil d'abstention {meta['threshold']}, le {meta['date']}."),
        "",
        ("Les réglages (seuils, poids, règles de composition) se font sur **dev** ; **test** est tenu à part "
         "et ne sert qu'à rendre compte : c'est le chiffre à citer."),
        "",
        "## Variantes",
        "",
    ]
    rows: dict[str, dict] = {}
    for v, r in results.items():
        rows[v if not _splits_run(r) else f"{v} · ensemble"] = r["overall"]
        for s in _splits_run(r):
            rows[f"{v} · {s}"] = r["by_split"][s]["overall"]
    lines.append(table(rows, "variante"))
    for v, r in results.items():
        parts = _splits_run(r)
        for s in parts:
            sec = r["by_split"][s]
            lines += ["", f"## {v} — {SPLIT_TITLES[s]}", "", intervals_line(sec), "", "### Par type de question", "", table(sec["by_kind"], "type"),
                      "", "### Par profil", "", table(sec["by_persona"], "profil")]
        if not parts:
            lines += ["", intervals_line(r), "", f"## {v} — par type de question", "", table(r["by_kind"], "type"),
                      "", f"## {v} — par profil", "", table(r["by_persona"], "profil")]
        lines += ["", f"## {v} — fausses abstentions par profil (questions auxquelles le corpus répond)", "",
                  _false_abstention_table(r["false_abstention_by_persona"], parts)]
    main_variant = _main_variant(results)
    if main_variant:
        misses = [o for o in results[main_variant]["outcomes"]
                  if (o["must_abstain"] != o["abstained"]) or o["leaked"]]
        if misses:
            lines += ["", f"## {main_variant} — erreurs d'abstention ou fuites", ""]
            lines += [f"- {o['qid']} ({o['split']}, {o['kind']}, {o['role']}) : abstention={o['abstained']} "
                      f"attendu={o['must_abstain']} fuites={o['leaked']}" for o in misses]
    if meta.get("judged_precision_line"):
        lines += ["", "## Ce qu'en disent des relecteurs", "",
                  f"{meta['judged_precision_line'][0].upper()}{meta['judged_precision_line'][1:]} : étiquettes de "
                  "`evals/judged.yaml`, appliquées aux segments inchangés (`python -m evals.precision`)."]
    lines += ["", "![comparaison](chart.png)", ""]
    (report_dir / "report.md").write_text("\n".join(lines), encoding="utf-8")
    chart(results, report_dir / "chart.png")


def _main_variant(results: dict) -> str | None:
    """The variant whose answers the report details: hybrid (the default), else the first run."""
    return "hybrid" if "hybrid" in results else next(iter(results), None)


def _judged_precision(results: dict):
    """Readers' labels applied to the main variant's answers (precision.py), or None when no
    judged answer is in the run (a test-only or ci run)."""
    from .precision import JUDGED, Judged, judged_precision

    main_variant = _main_variant(results)
    if main_variant is None or not JUDGED.exists():
        return None
    p = judged_precision(results[main_variant]["outcomes"], Judged.load(JUDGED))
    return p if p.answers else None


def select(items: list[dict], subset: str = "all", split: str = "all") -> list[dict]:
    """The gold items of a subset (`all` or `ci`) and a split (`all`, `dev` or `test`)."""
    if subset not in ("all", "ci"):
        raise ConfigError(f"sous-ensemble inconnu « {subset} » (all, ci)")
    if split not in ("all", *SPLITS):
        raise ConfigError(f"partie inconnue « {split} » (all, {', '.join(SPLITS)})")
    return [it for it in items if (subset == "all" or it.get("ci")) and split in ("all", it["split"])]


def main(settings, set_file=None, variants=None, report_dir=Path("evals/reports/latest"), subset="all", check=False,
         progress=True, split="all") -> int:
    """Run the evaluation on the chosen subset and split; return the exit code (1 when --check fails)."""
    from assistant.engine import Assistant

    set_file = Path(set_file or DEFAULT_SET)
    items = select(load_gold(set_file), subset, split)
    variants = variants or ALL_VARIANTS
    base = Assistant(settings)
    started = time.perf_counter()
    if progress:
        print(f"Évaluation de {len(items)} questions, variantes : {', '.join(variants)}", flush=True)
    results = evaluate(base, items, variants, progress)
    meta = {
        "set": str(set_file), "questions": len(items), "subset": subset, "split": split,
        "questions_by_split": {s: sum(1 for it in items if it["split"] == s) for s in SPLITS},
        "embedder": base.embedder.name, "backend": settings.backend,
        "threshold": settings.abstain_threshold, "date": time.strftime("%Y-%m-%d %H:%M"),
        "seconds": round(time.perf_counter() - started, 1),
    }
    judged = _judged_precision(results)
    if judged is not None:
        meta["judged_precision"] = judged.as_dict()
        meta["judged_precision_line"] = judged.line()
    write_report(results, Path(report_dir), meta)
    if progress:
        if judged is not None:
            print(f"  {judged.line()}")
        print(f"Rapport : {Path(report_dir) / 'report.md'} ({meta['seconds']} s)")
    if check:
        failures = check_thresholds(results, subset, split)
        for f in failures:
            print(f"SEUIL NON ATTEINT — {f}")
        return 1 if failures else 0
    return 0
