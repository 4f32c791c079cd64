"""`python -m evals.diagnose`: where the key facts that answers miss are lost.

Each key fact of an answerable gold question goes in one box:
- found: the answer holds it;
- abstained: the assistant abstained (why is counted apart: the confidence threshold, the subject
  the question names found in no line, nothing of the asked type…);
- not chosen: a passage given to the answer step holds it, the answer does not (selection);
- ranked 6–10, 11–20, 21–40: no passage given to the answer step holds it, but the hybrid
  search puts one at that rank of its 40 first (ordering);
- not found: none of the 40 holds it (the search itself, or a fact the question's role cannot see).

It tells which stage a change should target; it tunes nothing. Listing the misses question by
question (`--list`) is for the dev split only: reading test items is tuning on them.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from .metrics import fact_found
from .run import DEFAULT_SET, KINDS, load_gold, select

BOXES = ("found", "abstained", "not chosen", "ranked 6-10", "ranked 11-20", "ranked 21-40", "not found")
LABELS_FR = {
    "found": "dans la réponse",
    "abstained": "abstention",
    "not chosen": "passage donné, fait non retenu",
    "ranked 6-10": "rang 6–10",
    "ranked 11-20": "rang 11–20",
    "ranked 21-40": "rang 21–40",
    "not found": "hors des 40",
}
REASONS_FR = {
    "threshold": "seuil de confiance",
    "unseen": "document nommé non visible",
    "name": "sujet nommé absent des lignes",
    "type": "rien du type demandé (date, montant…)",
    "team": "rien sur l'équipe",
    "no unit": "aucune phrase utilisable",
    "llm": "refusée par la vérification du modèle",
}
POOL = 40


def box(fact: str, answer: str, abstained: bool, given: list[str], pool: list[str]) -> str:
    """The box of one key fact. `given`: texts of the passages the answer step had; `pool`: texts
    of the hybrid search's first passages, best first."""
    if abstained:
        return "abstained"
    if fact_found(fact, answer):
        return "found"
    if any(fact_found(fact, t) for t in given):
        return "not chosen"
    rank = next((r for r, t in enumerate(pool, start=1) if fact_found(fact, t)), None)
    if rank is None:
        return "not found"
    return "ranked 6-10" if rank <= 10 else "ranked 11-20" if rank <= 20 else "ranked 21-40"


def diagnose(bot, items: list[dict]) -> list[dict]:
    """One row per key fact of the answerable `items`: id, kind, persona, fact, box, and the
    abstention's reason (Answer.abstain_reason) when the box is « abstained »."""
    from assistant.conversation import Conversation

    rows = []
    for it in items:
        if it["kind"] in ("out-of-scope", "restricted") or not it.get("facts"):
            continue
        role = it["role"]
        conv = Conversation(role=role)
        if it.get("previous"):
            bot.ask(it["previous"], role=role, conversation=conv)
        ans = bot.ask(it["question"], role=role, conversation=conv)
        given = [p.text for p in ans.retrieved]
        pool = [p.text for p in bot.retriever.retrieve(ans.standalone_question or it["question"], role, k=POOL)]
        for fact in it["facts"]:
            rows.append({"id": it["id"], "kind": it["kind"], "persona": it["persona"], "fact": fact,
                         "box": box(fact, ans.answer, ans.abstained, given, pool),
                         "reason": ans.abstain_reason if ans.abstained else ""})
    return rows


def table(rows: list[dict]) -> str:
    """Share of the key facts in each box, per kind of question and in all."""
    head = "| | faits | " + " | ".join(LABELS_FR[b] for b in BOXES) + " |"
    lines = [head, "|" + "---|" * (len(BOXES) + 2)]
    for kind in (*KINDS, "tout"):
        sub = [r for r in rows if kind == "tout" or r["kind"] == kind]
        if not sub:
            continue
        n = Counter(r["box"] for r in sub)
        cells = " | ".join(f"{n[b] / len(sub):.2f}" for b in BOXES)
        lines.append(f"| {kind} | {len(sub)} | {cells} |")
    why = Counter(r.get("reason") or "?" for r in rows if r["box"] == "abstained")
    if why:
        lines.append("\nFaits perdus par abstention, selon sa raison : " + " ; ".join(
            f"{REASONS_FR.get(k, k)} {n}" for k, n in why.most_common()))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m evals.diagnose",
        description="Où se perdent les faits clés que les réponses manquent : abstention, passage donné "
                    "mais fait non retenu, passage classé trop bas, ou introuvable dans les 40 premiers.",
    )
    parser.add_argument("--split", choices=("dev", "test", "all"), default="dev", help="partie du jeu (défaut : dev)")
    parser.add_argument("--set", dest="set_file", type=Path, default=DEFAULT_SET, help="jeu de questions")
    parser.add_argument("--subset", choices=("all", "ci"), default="all", help="« ci » : le sous-ensemble de la CI")
    parser.add_argument("--list", action="store_true",
                        help="liste chaque fait manqué et sa case (dev seulement : lire test, c'est régler dessus)")
    args = parser.parse_args(argv)
    if args.list and args.split != "dev":
        parser.error("--list n'est permis que sur --split dev : lire les questions de test, c'est régler dessus")

    from assistant.engine import Assistant
    from assistant.settings import load_settings

    bot = Assistant(load_settings())
    rows = diagnose(bot, select(load_gold(args.set_file), args.subset, args.split))
    print(f"{len(rows)} faits clés, partie {args.split}\n")
    print(table(rows))
    if args.list:
        for r in rows:
            if r["box"] != "found":
                why = f" ({REASONS_FR.get(r['reason'], r['reason'])})" if r.get("reason") else ""
                print(f"{r['id']} [{r['kind']}] {LABELS_FR[r['box']]}{why} : {r['fact']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
