"""What a refusal offers instead: the closest documents the asker may open, and questions the
corpus answers (the starter questions of each persona, nearest to what was asked first).

Both come from what the asker may see: documents from the access-checked retrieved passages;
starter questions are all answered from public documents (tests/test_ui_apptest.py).
"""

from __future__ import annotations

import re

import numpy as np

from .schema import Passage

# Persona -> starter questions. The web app shows them on its welcome screen (ui/starters.py).
STARTERS: dict[str, list[str]] = {
    "Je veux créer un PTCE": [
        "Qu'est-ce qu'un pôle territorial de coopération économique ?",
        "Qu'est-ce qu'un écosystème coopératif territorialisé ?",
        "Quels besoins d'accompagnement et de financement ont les coopérations territoriales ?",
    ],
    "Je suis agent d'une collectivité": [
        "Pourquoi une collectivité a-t-elle intérêt à soutenir les coopérations territoriales ?",
        "Quels leviers une collectivité peut-elle mobiliser pour soutenir les coopérations ?",
        "Qu'est-ce que le Conseil de l'ESS de l'Eurométropole de Strasbourg ?",
    ],
    "J'accompagne des projets": [
        "Quelle posture adopter pour accompagner une coopération territoriale ?",
        "Quels acteurs peuvent accompagner la coopération sur un territoire ?",
        "Qu'est-ce que la Fabrique à initiatives ?",
    ],
}


def closest_documents(passages: list[Passage], n: int = 3) -> list[tuple[str, str]]:
    """(doc_id, title) of the first `n` distinct documents among `passages`, best first."""
    out: dict[str, str] = {}
    for p in sorted(passages, key=lambda p: -(p.score or 0.0)):
        if p.doc_id not in out:
            out[p.doc_id] = p.title
        if len(out) == n:
            break
    return list(out.items())


class StarterIndex:
    """Starter questions embedded once per process, ranked by similarity to a question."""

    def __init__(self, embedder):
        self.embedder = embedder
        self.questions = [q for qs in STARTERS.values() for q in qs]
        self._vectors: np.ndarray | None = None

    def closest(self, question: str, n: int = 2) -> list[str]:
        if self._vectors is None:
            self._vectors = _normed(np.asarray(self.embedder.embed_queries(self.questions), dtype=np.float32))
        q = _normed(np.asarray(self.embedder.embed_queries([question]), dtype=np.float32))[0]
        order = np.argsort(-(self._vectors @ q))
        asked = _key(question)
        return [self.questions[i] for i in order if _key(self.questions[i]) != asked][:n]


def _normed(m: np.ndarray) -> np.ndarray:
    return m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-9)


def _key(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()
