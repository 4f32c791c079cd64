"""The quality guard: the CI subset of the gold set, on the real store, must meet
evals/thresholds.yaml (recall@5, key-fact accuracy, abstention, zero leaks). And the gold set
itself stays honest: a stratified dev/test split, questions not copied from the corpus, key
facts that the expected sources really contain."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from assistant.errors import ConfigError
from assistant.schema import fold
from evals.metrics import (
    Outcome,
    citation_precision,
    fact_accuracy,
    fact_found,
    mrr,
    recall_at_k,
)
from evals.run import DEFAULT_SET, KINDS, PERSONAS, check_thresholds, load_gold, select

pytestmark = pytest.mark.slow

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def _corpus_texts() -> dict[str, str]:
    """doc_id -> accent-folded lowercase text of every corpus document (PDF pages included)."""
    from ingest.loaders import discover, load

    docs = (load(p, CORPUS) for p in discover(CORPUS))
    return {d.doc_id: fold(d.meta.title + "\n" + d.text + "\n".join(d.pages)) for d in docs}


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", fold(text))


def test_gold_set_is_well_formed_and_covers_every_kind_and_persona():
    items = load_gold(DEFAULT_SET)
    assert len(items) >= 80
    assert {it["kind"] for it in items} == {"factual", "synthesis", "follow-up", "out-of-scope", "restricted"}
    assert {it["persona"] for it in items} == {"newcomer", "collectivite", "accompagnateur"}
    ci = [it for it in items if it.get("ci")]
    assert {it["kind"] for it in ci} == {"factual", "synthesis", "follow-up", "out-of-scope", "restricted"}


def test_metrics_on_a_hand_made_outcome():
    o = Outcome("q", "factual", "newcomer", "public", False, ["a", "b"], ["collectivit", "pilier"],
                ["c", "a", "a", "d", "e", "b"], "Les collectivités ont trois piliers.", False,
                ["a", "z"], ["x", "rien"], 0, 10.0)
    assert recall_at_k(o, 5) == 0.5
    assert mrr(o) == 0.5
    assert fact_accuracy(o) == 1.0
    assert citation_precision(o) == 0.5


def test_bootstrap_interval_brackets_the_mean_and_narrows_with_more_questions():
    from evals.metrics import bootstrap_interval

    def outs(hits: int, n: int) -> list[Outcome]:
        return [Outcome(f"q{i}", "factual", "newcomer", "public", False, ["a"], ["pilier"], ["a"],
                        "trois piliers" if i < hits else "rien", False, ["a"], ["x"], 0, 1.0) for i in range(n)]

    lo, hi = bootstrap_interval(outs(30, 44), "fact_accuracy")
    assert lo < 30 / 44 < hi and 0.1 < hi - lo < 0.4
    lo4, hi4 = bootstrap_interval(outs(120, 176), "fact_accuracy")
    assert hi4 - lo4 < hi - lo  # four times the questions, about half the width
    assert bootstrap_interval(outs(1, 1), "fact_accuracy") is None
    assert bootstrap_interval(outs(30, 44), "fact_accuracy") == (lo, hi)  # seeded


def test_ci_subset_meets_the_thresholds(real_store, tmp_path):
    from evals.run import main

    settings, _ = real_store
    code = main(settings, variants=["hybrid"], report_dir=tmp_path, subset="ci", check=True, progress=False)
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    overall = report["results"]["hybrid"]["overall"]
    assert overall["leaks"] == 0
    assert code == 0, overall
    assert (tmp_path / "report.md").is_file() and (tmp_path / "chart.png").stat().st_size > 1000


def test_both_splits_meet_their_thresholds(real_store, tmp_path):
    """The whole gold set: the dev and test splits each meet their own section of thresholds.yaml
    (the held-apart test split guards what tuning on dev cannot see)."""
    from evals.run import main

    settings, _ = real_store
    code = main(settings, variants=["hybrid"], report_dir=tmp_path, split="all", check=True, progress=False)
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    by_split = report["results"]["hybrid"]["by_split"]
    assert set(by_split) == {"dev", "test"}
    assert all(by_split[s]["overall"]["leaks"] == 0 for s in by_split)
    lo, hi = by_split["test"]["intervals"]["fact_accuracy"]
    assert lo <= by_split["test"]["overall"]["fact_accuracy"] <= hi
    assert "Intervalles à 95 %" in (tmp_path / "report.md").read_text(encoding="utf-8")
    assert code == 0, {s: by_split[s]["overall"] for s in by_split}


def test_split_is_stratified_by_kind_and_persona():
    items = load_gold(DEFAULT_SET)
    dev, test = select(items, split="dev"), select(items, split="test")
    assert len(dev) + len(test) == len(items)
    assert 0.25 <= len(test) / len(items) <= 0.35
    for part in (dev, test):
        assert {it["kind"] for it in part} == set(KINDS)
        assert {it["persona"] for it in part} == set(PERSONAS)
    for kind in KINDS:
        in_test = [it for it in test if it["kind"] == kind]
        assert len(in_test) >= 6, kind
        assert {it["persona"] for it in in_test} == set(PERSONAS), kind
        share = len(in_test) / sum(1 for it in items if it["kind"] == kind)
        assert 0.2 <= share <= 0.4, (kind, share)


def test_every_kind_has_enough_questions_for_a_stable_figure():
    items = load_gold(DEFAULT_SET)
    for kind in KINDS:
        assert sum(1 for it in items if it["kind"] == kind) >= 20, kind


def test_no_question_shares_an_8_word_run_with_the_corpus():
    """Questions are written the way users ask, not lifted from the documents (old and new ones,
    and the first turn of follow-ups)."""
    runs = set()
    for text in _corpus_texts().values():
        w = _words(text)
        runs.update(tuple(w[i:i + 8]) for i in range(len(w) - 7))
    copied = []
    for it in load_gold(DEFAULT_SET):
        for field in ("question", "previous"):
            w = _words(it.get(field) or "")
            copied += [(it["id"], " ".join(w[i:i + 8])) for i in range(len(w) - 7) if tuple(w[i:i + 8]) in runs]
    assert not copied


def test_every_key_fact_is_in_one_of_its_expected_sources():
    texts = _corpus_texts()
    for it in load_gold(DEFAULT_SET):
        assert all(s in texts for s in it.get("sources") or []), it["id"]
        if it["kind"] in ("out-of-scope", "restricted"):
            assert not it.get("sources") and not it.get("facts"), it["id"]
            continue
        assert it.get("sources") and it.get("facts"), it["id"]
        for fact in it["facts"]:
            assert any(fact_found(fact, texts[s]) for s in it["sources"]), (it["id"], fact)


def test_load_gold_requires_a_valid_split(tmp_path):
    item = "- {id: q1, question: Q, role: public, kind: factual, persona: newcomer%s}\n"
    for extra in ("", ", split: train"):
        path = tmp_path / "set.yaml"
        path.write_text(item % extra, encoding="utf-8")
        with pytest.raises(ConfigError, match="split"):
            load_gold(path)


def test_thresholds_are_checked_per_split():
    def summary(recall):
        return {"overall": {"recall@5": recall, "leaks": 0}}

    results = {"hybrid": {**summary(0.9), "by_split": {"dev": summary(0.95), "test": summary(0.7)}}}
    spec = {"all": {"hybrid": {"recall@5": 0.85}}, "test": {"hybrid": {"recall@5": 0.8, "leaks": 0}},
            "dev": {"hybrid": {"recall@5": 0.9}}}
    assert check_thresholds(results, "all", "all", spec) == ["hybrid [test] : recall@5 = 0.70 < 0.8"]
    assert check_thresholds({"hybrid": summary(0.7)}, "all", "test", spec) == ["hybrid [test] : recall@5 = 0.70 < 0.8"]
    assert check_thresholds({"hybrid": summary(0.7)}, "all", "dev", spec) == ["hybrid [dev] : recall@5 = 0.70 < 0.9"]
    assert check_thresholds(results, "ci", "all", {"ci": {"hybrid": {"leaks": 0}}, **spec}) == []
