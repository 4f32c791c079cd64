"""Is a question French? A stopword count, enough to tell French from the languages a user of a
French programme may write in (English, Spanish, Italian, German, Portuguese)."""

from __future__ import annotations

import re

STOPWORDS = {
    "fr": "le la les un une des du de et est sont que qui quoi quel quelle quels quelles comment pourquoi "
          "où dans pour par sur avec ce cette ces il elle ils on nous vous je mon ma mes leur au aux pas "
          "ne qu c d l j s n y en ou se sa son à quand ça ca combien tu t m me moi mais donc",
    "en": "the a an and is are what which who how why where in for of on with this that these it they we "
          "you i my their to do does can from be was were there",
    "es": "el la los las un una y es son que qué cómo por para con este esta en del al su sus se lo como",
    "it": "il lo la gli le un una e è sono che come perché dove per con questo questa nel della dei",
    "de": "der die das ein eine und ist sind was wie warum wo für mit von zu den dem im nicht ich",
    "pt": "o a os as um uma e é são que como porque onde para com este esta em do da dos das não",
}
_SETS = {lang: set(words.split()) for lang, words in STOPWORDS.items()}
WORD_RE = re.compile(r"[^\W\d_]+", re.UNICODE)

NOT_FRENCH_NOTE = (
    "La base documentaire du programme COOP'TER est en français : je réponds en français "
    "(The knowledge base is in French, so the answer is in French)."
)


def language(text: str) -> str:
    """'fr', another code, or '' when the text is too short to tell (treated as French)."""
    words = [w.lower() for w in WORD_RE.findall(text.replace("'", " ").replace("’", " "))]
    if len(words) < 3:
        return ""
    scores = {lang: sum(w in s for w in words) for lang, s in _SETS.items()}
    best = max(scores, key=lambda k: scores[k])
    if scores[best] == 0 or scores[best] <= scores["fr"]:
        return "fr" if scores["fr"] else ""
    return best


def is_french(text: str) -> bool:
    return language(text) in ("fr", "")
