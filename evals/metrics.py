"""One small function per metric; the report is built only from these.

Key facts are regular expressions matched on accent-folded, lowercased text, so that
« collectivités » and « collectivites » both count and rephrasing is tolerated.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from assistant.schema import access_rank, fold


@dataclass
class Outcome:
    """One question's result, enough to compute every metric."""

    qid: str
    kind: str
    persona: str
    role: str
    must_abstain: bool
    expected_sources: list[str]
    facts: list[str]
    retrieved_docs: list[str]  # doc ids of retrieved passages, best first (duplicates kept)
    answer: str
    abstained: bool
    cited_docs: list[str]
    cited_texts: list[str]
    leaked: int  # outputs above the asker's clearance (citations, retrieved passages, canaries)
    latency_ms: float
    confidence: float = 0.0  # the abstention score, kept to calibrate the threshold
    split: str = ""  # dev (tuned on) or test (held apart), from the gold item


def fact_found(pattern: str, text: str) -> bool:
    return re.search(fold(pattern), fold(text), flags=re.DOTALL) is not None


def recall_at_k(o: Outcome, k: int = 5) -> float | None:
    """Share of expected source documents among the first k retrieved passages."""
    if not o.expected_sources:
        return None
    top = set(o.retrieved_docs[:k])
    return sum(1 for d in o.expected_sources if d in top) / len(o.expected_sources)


def mrr(o: Outcome) -> float | None:
    """1 / rank of the first passage from an expected source (0 when none)."""
    if not o.expected_sources:
        return None
    for rank, d in enumerate(o.retrieved_docs, start=1):
        if d in o.expected_sources:
            return 1.0 / rank
    return 0.0


def fact_accuracy(o: Outcome) -> float | None:
    """Share of key facts present in the answer (0 when it abstained on an answerable question)."""
    if o.must_abstain or not o.facts:
        return None
    if o.abstained:
        return 0.0
    return sum(fact_found(f, o.answer) for f in o.facts) / len(o.facts)


def citation_precision(o: Outcome) -> float | None:
    """Share of cited passages that hold a key fact or come from an expected source."""
    if o.must_abstain or not o.cited_docs:
        return None
    good = 0
    for doc, text in zip(o.cited_docs, o.cited_texts):
        if doc in o.expected_sources or any(fact_found(f, text) for f in o.facts):
            good += 1
    return good / len(o.cited_docs)


def abstention_correct(o: Outcome) -> float:
    return 1.0 if o.abstained == o.must_abstain else 0.0


def false_abstention(o: Outcome) -> float | None:
    """Abstained although the corpus answers (answerable questions only)."""
    return None if o.must_abstain else float(o.abstained)


def false_answer(o: Outcome) -> float | None:
    """Answered although it should have abstained (out-of-scope and restricted questions)."""
    return float(not o.abstained) if o.must_abstain else None


def leaks(o: Outcome) -> float:
    return float(o.leaked)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    idx = min(len(values) - 1, max(0, math.ceil(q / 100 * len(values)) - 1))
    return values[idx]


def mean(values: list[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


METRICS = {
    "recall@5": recall_at_k,
    "mrr": mrr,
    "fact_accuracy": fact_accuracy,
    "citation_precision": citation_precision,
    "abstention_accuracy": abstention_correct,
    "false_abstention": false_abstention,
    "false_answer": false_answer,
}


def summarize(outcomes: list[Outcome]) -> dict:
    """Mean of every metric, the leak count and latency percentiles."""
    out: dict = {"n": len(outcomes)}
    for name, fn in METRICS.items():
        out[name] = mean([fn(o) for o in outcomes])
    out["leaks"] = int(sum(leaks(o) for o in outcomes))
    lat = [o.latency_ms for o in outcomes]
    out["latency_p50_ms"] = percentile(lat, 50)
    out["latency_p95_ms"] = percentile(lat, 95)
    return out


def bootstrap_interval(outcomes: list[Outcome], metric: str, draws: int = 2000, level: float = 0.95,
                       seed: int = 8) -> tuple[float, float] | None:
    """`level` interval of a metric's mean over questions, by resampling the questions (percentile
    bootstrap, seeded): how far the figure could move with another draw of questions like these.
    On 44 questions, one question moves a mean by 2 to 3 points."""
    import random

    vals = [v for o in outcomes if (v := METRICS[metric](o)) is not None]
    if len(vals) < 2:
        return None
    rng = random.Random(seed)
    means = sorted(sum(rng.choices(vals, k=len(vals))) / len(vals) for _ in range(draws))
    cut = int((1 - level) / 2 * draws)
    return means[cut], means[draws - 1 - cut]


def leak_count(role: str, accesses: list[str], texts: list[str], canaries: dict[str, str]) -> int:
    """Outputs above `role`: passages/citations with a higher access, canary strings in texts."""
    rank = access_rank(role)
    n = sum(1 for a in accesses if access_rank(a) > rank)
    for canary, level in canaries.items():
        if access_rank(level) > rank:
            n += sum(1 for t in texts if canary in t)
    return n
