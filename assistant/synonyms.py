"""The words users say and the words the programme's documents use for the same thing.

A newcomer asks about « une mairie » or « des aides financières »; the documents speak of
« collectivités » and « financement ». Without the link, the abstention score counts the word as
absent from what was retrieved, and the sentence choice misses the sentence that says it. Each
group maps user words (and the corpus word itself) to the corpus words; only the question side
is read this way, so the index stays as it is. (BM25 queries are not expanded: on the dev split
that cost 0.03 key-fact accuracy.)
"""

from __future__ import annotations

from functools import lru_cache

from .lexical import analyze

# user words -> words of the documents
GROUPS: list[tuple[str, str]] = [
    ("mairie mairies commune communes municipalité municipalités ville villes intercommunalité "
     "intercommunalités interco intercos agglo agglos agglomération agglomérations epci métropole département "
     "départements région régions élu élus élue élues",
     "collectivité collectivités"),
    ("aide aides subvention subventions argent financer financement financements financeur financeurs "
     "fonds budget", "financement financer"),
    ("accompagnateur accompagnateurs accompagnatrice conseil conseiller aider appui", "accompagnement accompagner"),
    ("habitant habitants citoyen citoyens population", "habitants citoyens"),
    ("asso assos association associations", "associations"),
    ("boîte boîtes entreprise entreprises société sociétés pme tpe", "entreprises"),
    ("coopérative coopératives scic scop", "scic coopératives"),
    ("exemple exemples cas retour retours expé expés", "expérience"),
    ("boulot boulots job jobs", "emploi emplois"),
    ("galère galères difficulté difficultés obstacle obstacles écueil écueils", "défis freins"),
    ("démarré démarrée démarrer démarre démarrage commencé commencée commencer commence lancé lancée "
     "lancement", "débuté débuter début"),
]


@lru_cache(maxsize=1)
def _table() -> dict[str, frozenset[str]]:
    table: dict[str, set[str]] = {}
    for users, corpus in GROUPS:
        targets = set(analyze(corpus))
        for stem in analyze(users) + analyze(corpus):
            table.setdefault(stem, set()).update(targets - {stem})
    return {k: frozenset(v) for k, v in table.items()}


def related(stem: str) -> frozenset[str]:
    """The corpus stems that stand for `stem` (an analyzed word), or an empty set."""
    return _table().get(stem, frozenset())


def corpus_words(word: str) -> list[str]:
    """The documents' own words (surface forms) for a user's word: « communes » -> collectivité,
    collectivités. For a check on the text itself, where the stemmer would merge collectivités
    with collectifs."""
    stems = set(analyze(word))
    return [w for users, corpus in GROUPS for w in corpus.split() if stems & set(analyze(users + " " + corpus))
            and w.lower() != word.lower()]
