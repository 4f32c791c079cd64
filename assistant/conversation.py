"""A conversation: one user session, one role, its own history.

A conversation is bound to the role it was opened with; asking it for another role is refused,
so history can never carry passages from one clearance to another.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

from .access import check_role
from .errors import AccessError
from .schema import fold

# Openings and words that make a question lean on the previous turn.
FOLLOW_UP_START = re.compile(
    r"^(et|mais|aussi|alors|ou|puis|ensuite|qu'en est-il|qu’en est-il|et si|pour|dans|chez|avec|en|sur|"
    r"concernant|quid|idem|même question|plus de détails|précise|développe|lesquel|laquelle|lequel)\b",
    re.I,
)
ANAPHORA = re.compile(
    r"\b(ça|cela|ceci|celui-ci|celle-ci|ceux-ci|celles-ci|ce dispositif|ce projet|ce programme|cette démarche|"
    r"cette expérience|ils|elles|leur|leurs|eux|y|en parler|le même|la même|les mêmes|ces)\b",
    re.I,
)


@dataclass
class Turn:
    question: str
    standalone: str
    answer: str
    abstained: bool
    cited_chunk_ids: list[str] = field(default_factory=list)
    cited_doc_ids: list[str] = field(default_factory=list)  # what « lequel ? » may refer to


@dataclass
class Conversation:
    role: str = "public"
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    turns: list[Turn] = field(default_factory=list)
    max_turns: int = 10

    def __post_init__(self):
        self.role = check_role(self.role)

    def check(self, role: str) -> None:
        if check_role(role) != self.role:
            raise AccessError("cette conversation appartient à un autre profil : ouvrez une nouvelle conversation")

    def add(self, turn: Turn) -> None:
        self.turns.append(turn)
        del self.turns[: -self.max_turns]

    def reset(self) -> None:
        self.turns.clear()

    def history_text(self, last: int = 3) -> str:
        lines = []
        for t in self.turns[-last:]:
            lines.append(f"Utilisateur : {t.standalone or t.question}")
            lines.append(f"Assistant : {t.answer[:400]}")
        return "\n".join(lines)


def looks_like_follow_up(question: str) -> bool:
    q = question.strip()
    words = re.findall(r"\w+", q)
    return bool(FOLLOW_UP_START.match(fold(q)) or FOLLOW_UP_START.match(q) or ANAPHORA.search(q) or len(words) <= 4)


def condense_heuristic(conversation: Conversation, question: str) -> str:
    """Without an LLM: a follow-up is read together with the last standalone question.

    « Et pour les collectivités ? » after « Comment financer un PTCE ? » becomes
    « Comment financer un PTCE ? Et pour les collectivités ? », which both retrievers handle well.
    """
    if not conversation.turns or not looks_like_follow_up(question):
        return question
    previous = conversation.turns[-1].standalone or conversation.turns[-1].question
    return f"{previous.rstrip()} {question.strip()}"
