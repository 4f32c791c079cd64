"""French BM25 (bm25s) over the stored chunks.

Text is lowercased, French stop words removed, words stemmed with Snowball's French stemmer
(PyStemmer), then accents folded, so « collectivités » matches « collectivite ».
One index per access level, built only from the chunks that level may see: a chunk above a
user's level is simply not in the index they query.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from functools import lru_cache

import numpy as np

from .schema import Passage, fold

TOKEN_RE = re.compile(r"\w+", re.UNICODE)
# Elided articles (l'écho, d'acteurs, qu'il) are split off by TOKEN_RE on the apostrophe.


# Users type the programme's name without its apostrophe (« coopter ») and the documents write
# COOP'TER: read both as the documents' tokens, or « coopter » matches only the « coopter-assistant »
# provenance lines of the project sheets.
BARE_COOPTER_RE = re.compile(r"\bcoopter\b(?!-assistant)")


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("french")


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_FRENCH

    # Question and filler words of conversational French: they say how, not what, is asked.
    extra = {"c", "d", "j", "l", "m", "n", "qu", "s", "t", "y", "a", "est", "sont", "quel", "quelle",
             "quels", "quelles", "comment", "pourquoi", "quoi", "dont", "être", "fait", "peut", "peuvent",
             "lequel", "laquelle", "lesquels", "lesquelles", "combien", "quand", "où", "selon", "après",
             "avant", "quelque", "chose", "vraiment", "exactement", "surtout", "généralement", "donc",
             "alors", "aussi", "encore", "existe", "faut", "doit", "doivent", "peux", "veux", "voudrais",
             "dire", "sais", "savoir", "concrètement", "plutôt", "bien", "très", "tout", "tous", "toutes"}
    return frozenset(fold(w) for w in set(STOPWORDS_FRENCH) | extra | COLLOQUIAL)


# Spoken French that carries no subject (« c'est quoi ce truc, en gros ? », « j'ai l'impression
# que… »). Absent from the documents, such a word would get the highest idf and count as missing
# content in the abstention score, refusing the colloquial questions of newcomers.
COLLOQUIAL = {"ça", "cela", "ceci", "truc", "trucs", "machin", "genre", "bref", "bon", "ben", "bah", "euh",
              "hein", "voilà", "ok", "okay", "bonjour", "salut", "merci", "svp", "stp", "déjà", "peu",
              "beaucoup", "plein", "dessus", "dedans", "rien", "vrai", "avoir", "impression", "veut",
              "voudrait", "voudrions", "dois", "devons", "vient", "cest", "koi"}


# Words that say what form of answer is wanted, not what it is about: « Que signifie le sigle
# ÉFC ? », « En quelle année… ». Left out of the abstention score's coverage (question side only,
# so the index and its analysis stay as they are).
FORM_WORDS_RE = re.compile(
    r"\b(signifie(nt)?|veut dire|sigle|acronyme|abréviation|définition|définir|désigne(nt)?|"
    r"correspond(ent)?|en quelle année|quelle année|année|date|explique[rz]?|présente[rz]?|"
    r"parle[rz]?|décri(re|s|vez)|résume[rz]?|exemples?|liste[rz]?|cite[rz]?|principa(les?|ux)|"
    r"c'est quoi|c ?est (quoi|koi)|c (quoi|koi)|qu'est-ce que|qu'est-ce qu'|en gros|en bref|à quoi sert|sert|servent|"
    r"aujourd'hui|actuellement|en ce moment|"
    # « que disent les documents… », « selon les textes »: the corpus itself, not a subject
    r"(les|ces|des|vos) (documents|textes|sources)|disent|décrivent|évoquent|mentionnent|abordent)\b",
    re.I,
)


# Names every document of the corpus carries (« l'ESS », « COOP'TER »): they tell no document or
# subject apart. Acronyms of common nouns (« une PME », « un EPCI ») are no names either.
CORPUS_WIDE_NAMES = frozenset({"ess", "ptce", "ect", "efc", "coop'ter", "coopter", "ademe", "france",
                               "pme", "tpe", "eti", "sarl", "sas", "epci"})


def content_words(question: str) -> str:
    """The question without its form words (what is asked about, not how)."""
    return FORM_WORDS_RE.sub(" ", question.replace("’", "'"))


def analyze(text: str) -> list[str]:
    """French analyzer: tokens -> stop words out -> Snowball stem -> accents folded."""
    text = BARE_COOPTER_RE.sub("coop'ter", text.lower().replace("’", "'"))
    words = [w for w in TOKEN_RE.findall(text) if not w.isdigit() or len(w) == 4]
    stop = _stopwords()
    words = [_reaccented(w) for w in words if fold(w) not in stop and len(w) > 1]
    return [fold(s) for s in _stemmer().stemWords(words)]


# Typed without accents, « collectivites », « filiere », « menee » stem apart from the documents'
# « collectivités » (collect), « filière » (fili), « menée » (men): the stemmer reads the accent
# of these endings. French writes them with it, so a word that has no accent gets it back.
_REACCENT = ((re.compile(r"(?<=[a-z])ite(s?)$"), r"ité\1"), (re.compile(r"iere(s?)$"), r"ière\1"),
             (re.compile(r"(?<=[a-z])ee(s?)$"), r"ée\1"))


def _reaccented(word: str) -> str:
    if not word.isascii():
        return word
    for rx, repl in _REACCENT:
        word = rx.sub(repl, word)
    return word


# The stemmer leaves some forms of one word apart (soutiennent/soutien, strasbourgeoise/strasbourg):
# two stems of five letters or more that share their first five are read as the same word.
STEM_PREFIX = 5


def stem_prefixes(stems: set[str]) -> set[str]:
    return {s[:STEM_PREFIX] for s in stems if len(s) >= STEM_PREFIX}


def same_stem_prefix(stem: str, prefixes: set[str]) -> bool:
    """True when `stem` shares its first letters with one of `prefixes` (stem_prefixes())."""
    return len(stem) >= STEM_PREFIX and stem[:STEM_PREFIX] in prefixes


def coverage(question: str, passages: list[Passage], idf) -> float:
    """Share of the question's information (idf-weighted stems) found in `passages`.

    Low when the question's key words occur nowhere in what was retrieved, e.g. « budget »
    for a corpus that never states one: a strong hint that the answer is not there.
    """
    terms = set(analyze(question))
    if not terms:
        return 0.0
    found: set[str] = set()
    for p in passages:
        found |= set(analyze(f"{p.title} {p.meta.get('section', '')} {p.text}"))
    prefixes = stem_prefixes(found)

    from .synonyms import related

    def present(t: str) -> bool:
        return any(s in found or same_stem_prefix(s, prefixes) for s in (t, *related(t)))

    total = sum(idf(t) for t in terms)
    return sum(idf(t) for t in terms if present(t)) / total if total else 0.0


class LexicalIndex:
    """BM25 over a fixed list of passages (already restricted to one access level)."""

    def __init__(self, passages: list[Passage]):
        import logging

        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every index build at DEBUG
        self.passages = passages
        self.retriever = None
        docs = [analyze(f"{p.title} {p.meta.get('section', '')} {p.text}") for p in passages]
        self.df = Counter(t for d in docs for t in set(d))
        if passages:
            self.retriever = bm25s.BM25(k1=1.2, b=0.75)
            # Tokens are given as lists of strings; bm25s builds the vocabulary itself.
            self.retriever.index(docs, show_progress=False)

    def idf(self, term: str) -> float:
        """BM25 idf; a term absent from every visible chunk gets the highest weight."""
        n, df = len(self.passages), self.df.get(term, 0)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def coverage(self, question: str, passages: list[Passage]) -> float:
        """Share of the question's information found in `passages` (see `coverage`)."""
        return coverage(question, passages, self.idf)

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> list[Passage]:
        """Top-k passages by BM25; only positive scores (a zero score is no match at all).

        `mask` (0/1 per passage) applies the user's filters (type, theme, date).
        """
        if not self.retriever or k <= 0:
            return []
        tokens = analyze(query)
        if not tokens:
            return []
        k = min(k, len(self.passages))
        docs, scores = self.retriever.retrieve(
            [tokens], k=k, show_progress=False, weight_mask=mask, n_threads=0
        )
        out = []
        for idx, score in zip(docs[0], scores[0]):
            if score <= 0:
                continue
            p = self.passages[int(idx)]
            out.append(Passage(chunk_id=p.chunk_id, text=p.text, meta=p.meta, score=float(score)))
        return out
