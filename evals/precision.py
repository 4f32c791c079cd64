"""Judged precision: how much of an answer a reader finds useful, from labels people gave.

The key-fact metric only counts what an answer holds; it rewards an off-topic sentence that
happens to carry nothing wrong. Here, readers who never saw the code labelled every segment
(a sentence or a list item with its citation) of 60 random dev answers, documents in hand:
`answer`, `context` (needed to read an answer), `off` (removing it makes the answer better) or
`lost` (it would answer, but its subject or referent is missing). Two judges per segment;
`evals/judged.yaml` keeps their labels, keyed by the segment's text.

A later run is scored on the segments it shares with the judged answers; a segment never
judged (the code now says something else) is counted apart and can be exported for a new
round of judging (`python -m evals.precision REPORT --unjudged`). Dev only: judging test
answers would be reading them.

    python -m evals.precision evals/reports/latest/report.json
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from assistant.errors import ConfigError
from assistant.schema import fold

HERE = Path(__file__).resolve().parent
JUDGED = HERE / "judged.yaml"
LABELS = ("answer", "context", "off", "lost")
USEFUL = {"answer", "context"}
SEGMENT_RE = re.compile(r".*?(?:\[\d+\])+(?:\s*:)?", re.S)
CITES_RE = re.compile(r"\s*(?:\[\d+\])+\s*:?\s*$")


def segments(answer: str) -> list[str]:
    """The answer cut after each citation: a sentence, a list's introduction, or one item."""
    return [s.strip() for s in SEGMENT_RE.findall(answer) if s.strip()]


def key(segment: str) -> str:
    """What identifies a segment across runs: its text without citations nor list dash, folded."""
    text = CITES_RE.sub("", segment.strip())
    return fold(re.sub(r"^-\s+", "", text).strip())[:80]


def verdict(labels: list[str]) -> str:
    """One segment's verdict from its judges: useful when all say answer/context, off when all
    say off, lost when one says lost and none off, else mixed (the judges disagree)."""
    got = set(labels)
    if got <= USEFUL:
        return "useful"
    if got == {"off"}:
        return "off"
    if "lost" in got and "off" not in got:
        return "lost"
    return "mixed"


@dataclass
class Judged:
    """The labels of the judged answers: qid -> segment key -> the judges' labels."""

    labels: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    meta: dict = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path = JUDGED) -> Judged:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        out = cls(meta=data.get("meta") or {})
        for item in data.get("answers") or []:
            qid = item.get("id")
            if not qid:
                raise ConfigError(f"{path} : une réponse jugée sans « id »")
            segs: dict[str, list[str]] = {}
            for seg in item.get("segments") or []:
                labels = list(seg.get("labels") or [])
                if not labels or any(lab not in LABELS for lab in labels):
                    hint = " ; écrivez 'off' entre guillemets (YAML lit off comme faux)" if False in labels else ""
                    raise ConfigError(f"{path} : {qid} : étiquettes {labels} (attendues : {', '.join(LABELS)}{hint})")
                segs[key(seg["text"])] = labels
            out.labels[qid] = segs
        return out


@dataclass
class Precision:
    answers: int = 0  # judged questions answered in this run
    useful: int = 0
    off: int = 0
    lost: int = 0
    mixed: int = 0
    unjudged: list[tuple[str, str]] = field(default_factory=list)  # (qid, segment) never judged

    @property
    def judged(self) -> int:
        return self.useful + self.off + self.lost + self.mixed

    def share(self, n: int) -> float | None:
        return n / self.judged if self.judged else None

    def line(self) -> str:
        if not self.answers:
            return "précision jugée : aucune des réponses relues dans ce jeu"
        return (f"précision jugée ({self.answers} réponses de dev relues) : segments utiles "
                f"{self.share(self.useful):.2f}, hors sujet {self.share(self.off):.2f}, sujet perdu "
                f"{self.share(self.lost):.2f}, désaccord {self.share(self.mixed):.2f} "
                f"({self.judged} segments jugés ; {len(self.unjudged)} nouveaux, jamais jugés)")

    def as_dict(self) -> dict:
        return {"answers": self.answers, "judged": self.judged, "useful": self.share(self.useful),
                "off": self.share(self.off), "lost": self.share(self.lost), "mixed": self.share(self.mixed),
                "unjudged": len(self.unjudged)}


def judged_precision(outcomes: list[dict], judged: Judged) -> Precision:
    """Score the answers of `outcomes` (report.json's) that were judged; abstentions are left
    out (a refusal has no segment to judge)."""
    p = Precision()
    for o in outcomes:
        labels = judged.labels.get(o["qid"])
        if labels is None or o.get("abstained"):
            continue
        p.answers += 1
        for seg in segments(o["answer"]):
            got = labels.get(key(seg))
            if got is None:
                p.unjudged.append((o["qid"], seg))
                continue
            v = verdict(got)
            setattr(p, v, getattr(p, v) + 1)
    return p


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m evals.precision",
        description="Précision jugée d'un rapport d'évaluation : part des segments des réponses relues "
                    "que les relecteurs ont jugés utiles, hors sujet ou au sujet perdu.",
    )
    ap.add_argument("report", type=Path, help="report.json écrit par `coopter eval` (partie dev ou all)")
    ap.add_argument("--judged", type=Path, default=JUDGED, help="étiquettes des relecteurs (défaut : evals/judged.yaml)")
    ap.add_argument("--variant", default="hybrid", help="variante du rapport (défaut : hybrid)")
    ap.add_argument("--unjudged", action="store_true", help="liste les segments jamais jugés, à faire relire")
    args = ap.parse_args(argv)
    try:
        results = json.loads(args.report.read_text(encoding="utf-8"))["results"]
        outcomes = results[args.variant]["outcomes"]
    except (OSError, ValueError, KeyError) as exc:
        print(f"rapport illisible « {args.report} » ({exc}) : lancez `coopter eval --split dev` d'abord", file=sys.stderr)
        return 2
    p = judged_precision(outcomes, Judged.load(args.judged))
    print(p.line())
    if args.unjudged:
        for qid, seg in p.unjudged:
            print(f"{qid}\t{seg}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
