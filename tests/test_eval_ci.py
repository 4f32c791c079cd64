"""The quality guard: the CI subset of the gold set, on the real store, must meet
evals/thresholds.yaml (recall@5, key-fact accuracy, abstention, zero leaks)."""

from __future__ import annotations

import json

import pytest

from evals.metrics import Outcome, citation_precision, fact_accuracy, mrr, recall_at_k
from evals.run import DEFAULT_SET, load_gold

pytestmark = pytest.mark.slow


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


def test_ci_subset_meets_the_thresholds(real_store, tmp_path):
    from evals.run import main

    settings, _ = real_store
    code = main(settings, variants=["hybrid"], report_dir=tmp_path, subset="ci", check=True, progress=False)
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    overall = report["results"]["hybrid"]["overall"]
    assert overall["leaks"] == 0
    assert code == 0, overall
    assert (tmp_path / "report.md").is_file() and (tmp_path / "chart.png").stat().st_size > 1000
