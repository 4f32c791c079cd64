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
    r"cette expérience|eux|y|en parler|le même|la même|les mêmes|ces|dessus|là-dessus|dedans|ce sujet|ce point|"
    r"ce thème|cette question|ce modèle|ce concept|cette notion|cette approche|cet outil|cette structure)\b",
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
    # (document, section) of each cited passage: what « il », « sa fiche »… stand for
    cited_sections: list[tuple[str, str]] = field(default_factory=list)


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


# « Elle est animée par qui ? », « Depuis quand existe-t-il ? », « Quels sont ses axes ? »,
# « Combien d'opérateurs le composent ? »: a pronoun standing for what the last turn named.
PRONOUN = re.compile(
    r"\b(il|elle|ils|elles|leur|leurs)\b|^(\S+\s+){0,6}\S*\b(son|sa|ses)\b(\s+\S+){0,3}\s*\??$|"
    r"\b(le|la|les|l'|lui)\s*(financ|port|anim|soutien|soutienn|compos|accompagn|pilot|mèn|men|gèr|gér|organis|"
    r"dirig|coordonn|cré|fond|évalu|utilis|rejoin)\w*\s*\??\s*$",
    re.I,
)
# ... unless the pronoun is impersonal (« Faut-il… », « Existe-t-il un… », « Il y a… ») or the
# question names its own subject (« Comment une collectivité peut-elle… sur son territoire ? »,
# « Le Labo de l'ESS a-t-il… », « une mairie qui veut… chez elle », any proper name or acronym
# after the first word).
IMPERSONAL = re.compile(
    r"\b(faut|s'agit|reste|suffit|convient|semble|vaut)(-t)?-il\b|\b(existe|y a)(-t)?-il\s+(un|une|des|d'|de|du)\b|"
    r"\bil (y a|faut|existe|s'agit|reste|suffit|convient|semble|vaut)\b",
    re.I,
)
OWN_SUBJECT = re.compile(
    r"\b(un|une|le|la|les|l'|mon|ma|mes|notre|nos|votre|vos)\s*[\w'-]+(\s+[\w'-]+){0,4}?\s+\w+-(t-)?(il|elle|ils|elles)\b|"
    r"\b(un|une|des)\s+[\w'-]+\b.*\b(il|elle|ils|elles|son|sa|ses|leur|leurs)\b",  # « une mairie … chez elle »
    re.I,
)
PROPER_NAME = re.compile(r"(?<=[\s'])[A-ZÀ-ÖØ-Þ][\w'-]*|\b[A-ZÀ-ÖØ-Þ]{2,}")
# Verbs of asking (« tu peux me donner », « pouvez-vous préciser ») name no subject.
REQUEST_STEMS = frozenset({"pouv", "peux", "don", "montr", "precis", "developp", "detail", "detaill", "expliqu",
                           "concret", "plus", "dir"})


# « Qu'a-t-il écrit sur les ECT ? », « Que propose-t-elle aux collectivités ? », « Combien
# d'opérateurs réunit-il ? »: a pronoun right after the question word (and at most one lowercase
# word) is the subject; a named subject comes before the verb (« Comment la Région
# soutient-elle… », « Comment Avise définit-elle… »). Whatever names follow do not change that.
PRONOUN_SUBJECT = re.compile(
    r"^\s*(?i:(?:et\s+)?(?:qu'|que\s+|quand\s+|où\s+|comment\s+|pourquoi\s+|combien\s+))"
    r"(?:[a-zà-ÿ']+\s+)?[a-zà-ÿ]+-(?:t-)?(?:il|elle|ils|elles)\b"
)


def _leans_on_a_pronoun(q: str) -> bool:
    q = q.replace("’", "'")
    if PRONOUN_SUBJECT.search(q) and not IMPERSONAL.search(q):
        return True
    if OWN_SUBJECT.search(q) or PROPER_NAME.search(q):
        return False
    return bool(PRONOUN.search(IMPERSONAL.sub(" ", q)))


def stays_on_subject(question: str) -> bool:
    """True when a follow-up's subject is a pronoun (« Et que propose-t-il à ses membres ? »): it
    is about what the last answer was about. (« Et sur l'accompagnement reçu ? » names too little
    to stand alone, but moves to another aspect.)"""
    return _leans_on_a_pronoun(question)


def _names_too_little(q: str) -> bool:
    """« Tu peux me donner un exemple concret ? », « Pouvez-vous préciser ? »: two content words at
    most and no proper name, so what it is about comes from the conversation."""
    from .lexical import analyze, content_words

    named = [t for t in analyze(content_words(q)) if t not in REQUEST_STEMS]
    return len(named) <= 2 and not PROPER_NAME.search(q.replace("’", "'"))


def looks_like_follow_up(question: str) -> bool:
    q = question.strip()
    words = re.findall(r"\w+", q)
    return bool(FOLLOW_UP_START.match(fold(q)) or FOLLOW_UP_START.match(q) or ANAPHORA.search(q) or len(words) <= 4
                or _leans_on_a_pronoun(q) or _names_too_little(q))


def condense_heuristic(conversation: Conversation, question: str) -> str:
    """Without an LLM: a follow-up is read together with the last standalone question.

    « Et pour les collectivités ? » after « Comment financer un PTCE ? » becomes
    « Comment financer un PTCE ? Et pour les collectivités ? », which both retrievers handle well.
    """
    if not conversation.turns or not looks_like_follow_up(question):
        return question
    previous = conversation.turns[-1].standalone or conversation.turns[-1].question
    return f"{previous.rstrip()} {question.strip()}"


ORDINALS = {"premier": 0, "première": 0, "deuxième": 1, "second": 1, "seconde": 1, "troisième": 2,
            "quatrième": 3, "cinquième": 4, "sixième": 5, "dernier": -1, "dernière": -1}
ORDINAL_RE = re.compile(r"\b(?:le|la|au|du)\s+(" + "|".join(ORDINALS) + r")\b", re.I)
ITEM_LINE_RE = re.compile(r"^\s*-\s+(.*?)(?:\s*\[\d+\])*\s*$")


def ordinal_item(question: str, last_answer: str) -> str:
    """The item of the last answer's list that « Peux-tu détailler le premier ? » points at, or ''."""
    m = ORDINAL_RE.search(question)
    items = [ITEM_LINE_RE.match(line).group(1) for line in last_answer.splitlines() if ITEM_LINE_RE.match(line)]
    if not m or not items:
        return ""
    n = ORDINALS[m.group(1).lower()]
    return items[n] if -len(items) <= n < len(items) else ""
