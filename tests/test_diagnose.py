"""evals/diagnose.py: each missed key fact lands in the box of the stage that lost it."""

from __future__ import annotations

import pytest

from evals.diagnose import BOXES, box, diagnose, main, table
from evals.run import DEFAULT_SET, load_gold, select

GIVEN = ["Le Générateur BFC réunit six opérateurs.", "La Région Bourgogne-Franche-Comté le soutient."]
POOL = GIVEN + [f"passage {i}" for i in range(3, 12)] + ["Il est né en 2019 dans le Jura."] + [
    f"autre {i}" for i in range(13, 30)] + ["Clus'Ter Jura en fait partie."]


@pytest.mark.parametrize(
    ("fact", "answer", "abstained", "expected"),
    [
        ("six opérateurs", "Il réunit six opérateurs [1].", False, "found"),
        ("six opérateurs", "Je ne trouve pas cette information.", True, "abstained"),
        ("region bourgogne", "Il réunit six opérateurs [1].", False, "not chosen"),
        ("2019", "Il réunit six opérateurs [1].", False, "ranked 11-20"),
        ("clus.ter", "Il réunit six opérateurs [1].", False, "ranked 21-40"),
        ("capital social", "Il réunit six opérateurs [1].", False, "not found"),
    ],
)
def test_a_missed_fact_goes_to_the_stage_that_lost_it(fact, answer, abstained, expected):
    assert box(fact, answer, abstained, GIVEN, POOL) == expected


def test_rank_boxes_follow_the_rank_in_the_pool():
    pool = [f"x{i}" for i in range(1, 41)]
    pool[6] = "le fait cherché"  # rank 7
    assert box("fait cherche", "", False, [], pool) == "ranked 6-10"


def test_table_gives_shares_per_kind_that_sum_to_one():
    rows = [{"kind": "factual", "box": "found"}, {"kind": "factual", "box": "not chosen"},
            {"kind": "synthesis", "box": "ranked 21-40"}]
    text = table(rows)
    line = next(row for row in text.splitlines() if row.startswith("| factual |"))
    cells = [float(c) for c in line.strip("|").split("|")[2:]]
    assert cells[0] == 0.5 and cells[2] == 0.5 and sum(cells) == pytest.approx(1.0)
    assert "| tout | 3 |" in text
    assert "abstention" not in text.split("| tout |")[1]  # no abstention, no line of reasons
    text = table(rows + [{"kind": "factual", "box": "abstained", "reason": "threshold"},
                         {"kind": "factual", "box": "abstained", "reason": "threshold"},
                         {"kind": "follow-up", "box": "abstained", "reason": "name"}])
    assert "selon sa raison : seuil de confiance 2 ; sujet nommé absent des lignes 1" in text


def test_listing_test_questions_is_refused(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--split", "test", "--list"])
    assert stop.value.code == 2
    assert "dev" in capsys.readouterr().err


@pytest.mark.slow
def test_diagnose_runs_on_the_real_store(real_assistant):
    """The real answer path: one row per key fact of the answerable CI questions, each in a box,
    and most facts of this subset (the CI guards ≥ 0.80 on it) are found."""
    items = select(load_gold(DEFAULT_SET), subset="ci")
    answerable = [it for it in items if it["kind"] not in ("out-of-scope", "restricted") and it.get("facts")]
    rows = diagnose(real_assistant, items)
    assert len(rows) == sum(len(it["facts"]) for it in answerable)
    assert {r["box"] for r in rows} <= set(BOXES)
    assert all((r["reason"] != "") == (r["box"] == "abstained") for r in rows)
    assert sum(r["box"] == "found" for r in rows) / len(rows) >= 0.6
