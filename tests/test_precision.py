"""evals/precision.py: readers' labels applied to the segments of a later run."""

from __future__ import annotations

import json

import pytest

from assistant.errors import ConfigError
from evals.precision import JUDGED, LABELS, Judged, judged_precision, key, main, segments, verdict
from evals.run import DEFAULT_SET, load_gold

ANSWER = (
    "La Place est portée par France Active. [1] La Place travaille à : [1]\n"
    "- Identifier les filières [1]\n"
    "- Faciliter l'accès à la commande publique [1][2]\n"
    "Porteurs et partenaires : [2]"
)


def test_an_answer_is_cut_after_each_citation():
    assert segments(ANSWER) == [
        "La Place est portée par France Active. [1]",
        "La Place travaille à : [1]",
        "- Identifier les filières [1]",
        "- Faciliter l'accès à la commande publique [1][2]",
        "Porteurs et partenaires : [2]",
    ]


def test_a_segment_is_known_again_whatever_its_citation_numbers_and_accents():
    assert key("- Faciliter l'accès à la commande publique [3]") == key("Faciliter l'acces a la commande publique [1][2]")
    assert key("La Place travaille à : [1]") == key("La Place travaille à : [4]")
    assert key("La Place travaille à : [1]") != key("Porteurs et partenaires : [2]")


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        (["answer", "context"], "useful"),
        (["off", "off"], "off"),
        (["lost", "answer"], "lost"),
        (["off", "answer"], "mixed"),
        (["off", "lost"], "mixed"),
    ],
)
def test_two_judges_make_one_verdict(labels, expected):
    assert verdict(labels) == expected


def _judged() -> Judged:
    return Judged(labels={
        "f001": {key("La Place est portée par France Active. [1]"): ["answer", "answer"],
                 key("La Place travaille à : [1]"): ["context", "answer"],
                 key("- Identifier les filières [1]"): ["off", "off"],
                 key("Porteurs et partenaires : [2]"): ["off", "answer"]},
        "f002": {key("Quelque chose. [1]"): ["lost", "lost"]},
    })


def test_judged_precision_counts_known_segments_and_lists_new_ones():
    outcomes = [
        {"qid": "f001", "answer": ANSWER, "abstained": False},
        {"qid": "f002", "answer": "Je ne trouve pas cette information.", "abstained": True},
        {"qid": "f999", "answer": "Jamais relue. [1]", "abstained": False},
    ]
    p = judged_precision(outcomes, _judged())
    assert p.answers == 1  # a refusal and an answer nobody judged are left out
    assert (p.useful, p.off, p.lost, p.mixed) == (2, 1, 0, 1)
    assert p.unjudged == [("f001", "- Faciliter l'accès à la commande publique [1][2]")]
    assert p.share(p.useful) == 0.5
    assert "segments utiles 0.50, hors sujet 0.25" in p.line()


def test_the_shipped_labels_cover_dev_answers_only_with_two_valid_labels_each():
    judged = Judged.load(JUDGED)
    gold = {it["id"]: it for it in load_gold(DEFAULT_SET)}
    assert len(judged.labels) == 60
    for qid, segs in judged.labels.items():
        assert gold[qid]["split"] == "dev", qid  # labelling a test answer is reading it
        assert segs, qid
        for labels in segs.values():
            assert len(labels) == 2 and set(labels) <= set(LABELS)


def test_the_command_reads_a_report_and_says_what_to_do_without_one(tmp_path, capsys):
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"results": {"hybrid": {"outcomes": [
        {"qid": "f001", "answer": "Une phrase jamais vue. [1]", "abstained": False}]}}}), encoding="utf-8")
    judged = tmp_path / "judged.yaml"
    judged.write_text("answers:\n  - id: f001\n    segments:\n      - text: Une phrase jamais vue. [1]\n"
                      "        labels: ['off', 'off']\n", encoding="utf-8")
    assert main([str(report), "--judged", str(judged)]) == 0
    assert "hors sujet 1.00" in capsys.readouterr().out
    assert main([str(tmp_path / "absent.json")]) == 2
    assert "coopter eval --split dev" in capsys.readouterr().err


def test_a_label_outside_the_four_is_refused_with_what_to_write(tmp_path):
    judged = tmp_path / "judged.yaml"
    judged.write_text("answers:\n  - id: f001\n    segments:\n      - text: X. [1]\n        labels: [bof]\n",
                      encoding="utf-8")
    with pytest.raises(ConfigError, match="bof"):
        Judged.load(judged)
    judged.write_text("answers:\n  - id: f001\n    segments:\n      - text: X. [1]\n        labels: [off]\n",
                      encoding="utf-8")
    with pytest.raises(ConfigError, match="entre guillemets"):
        Judged.load(judged)
