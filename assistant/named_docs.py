"""A question that names a document (« d'après l'aide-mémoire de l'équipe », « selon le guide
réservé aux contributeurs ») is answered only if the asker can see a document of that name; one
that names a section (« affiche la section Retours d'expérience de la fiche… ») only if the asker
can see a section of that name in the documents retrieved.

Otherwise the answer would come from other documents that merely share its topic, presented as
if it were what that document says. The check reads only the documents the asker may see (the
manifest, filtered by role), so its outcome reveals nothing about documents above their
clearance: a restricted document and a document that does not exist look the same.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .lexical import CORPUS_WIDE_NAMES, analyze
from .schema import ACCESS_LABELS_FR, DOC_TYPE_LABELS_FR, fold

# « d'après / selon / dans / que dit … » + a determiner + a kind of document, then its qualifiers.
# Not an indefinite article: « Dans un compte rendu de comité de pilotage, je tombe sur le sigle
# ECT » says where the asker read something, not which document to answer from.
DOC_REF_RE = re.compile(
    r"\b(?:selon|d'après|dans|que (?:dit|disent|raconte|contient|retient|propose)|résume(?:-moi)?|"
    r"donne(?:-moi)?|montre(?:-moi)?|affiche|recopie(?:-moi)?|lis(?:-moi)?)\s+"
    r"(?:le|la|l'|les|son|sa|ses|leur|ce|cette)\s*"
    r"(?P<doc>(?:guide|note|aide-mémoire|compte[ -]rendu|fiche|grille|page|article|carnet|rapport|"
    r"document|lettre|atelier|écho|points? de rep[èe]ress?)\b[^?!.;:,]{0,60})",
    re.I,
)
# « la grille de l'aide-mémoire », « le résumé du guide du contributeur »: a part of a document,
# named by the document it belongs to; that document is what the asker must be able to see.
INNER_DOC_RE = re.compile(
    r"\b(?:de la|de l'|du|des|d')\s*(?=(?:guide|note|aide-mémoire|compte[ -]rendu|fiche|page|article|carnet|"
    r"rapport|document|écho|points? de rep[èe]ress?)\b)",
    re.I,
)
# Words that locate or qualify a passage inside the document, not the document's name.
NOT_NAME = {"section", "partie", "passag", "chapitr", "paragraph", "retour", "experient", "sujet", "ligne",
            "question", "premi", "dernier"}


# Where a document's name stops: « le guide du contributeur sur l'accompagnement », « la fiche X
# dans ses retours d'expérience ».
NAME_END_RE = re.compile(r"\s(?:sur|dans|à propos|au sujet|concernant|pour|quand|lorsque|qui|que|qu'|où)\s.*$", re.I)
NAME_SPLIT_RE = re.compile(r"\s+et\s+(?:dans\s+|selon\s+|d'après\s+)?(?:le|la|l'|les)\s*", re.I)


# A document named anywhere else in the question (« Qui a rédigé le guide du contributeur ? »,
# « Pourquoi le guide de la communauté recommande-t-il… ? »): the kinds of document a user names,
# not « fiche » or « page » (one's own fiche d'expérience), « lettre » (« à la lettre ») nor « le
# rapport entre / avec » (a relation); not one's own document either (« rédiger la note pour mes
# élus », « notre guide »).
DOC_MENTION_RE = re.compile(
    r"(?<!rédiger )(?<!écrire )(?<!préparer )(?<!remplir )(?<!compléter )(?<!faire )"
    r"\b(?:le|la|l'|ce|cette|son|sa|leur)\s*"
    r"(?P<doc>(?:guide|note|aide-mémoire|compte[ -]rendu|grille|carnet|rapport(?!\s+(?:entre|avec|à|au|aux)\b))"
    r"\b[^?!.;:,]{0,60})",
    re.I,
)
NAME_WORD_RE = re.compile(r"[\w'-]+")


def _first_words(name: str, n: int = 2) -> str:
    """`name` up to its n-th naming word (« guide de la communauté COOP'TER recommande-t-il » →
    « guide de la communauté »): the words after may be the question's own verb."""
    count = 0
    for m in NAME_WORD_RE.finditer(name):
        count += len(_name_words(m.group(0)))
        if count >= n:
            return name[: m.end()]
    return name


def named_documents(question: str) -> list[str]:
    """The documents the question names (« guide réservé aux contributeurs »), or []: those it
    asks about (« d'après le guide… »), else those it mentions (see `mentions_documents`)."""
    q = question.replace("’", "'")
    m = DOC_REF_RE.search(q)
    if m:
        return [NAME_END_RE.sub("", part).strip() for part in NAME_SPLIT_RE.split(m.group("doc")) if part.strip()]
    return [_first_words(NAME_END_RE.sub("", m.group("doc")).strip()) for m in DOC_MENTION_RE.finditer(q)]


def mentions_documents(question: str) -> bool:
    """True when the question names a document only in passing (« Qui a rédigé le guide du
    contributeur ? »): its name is cut at two words, a guess that the refusal does not quote."""
    q = question.replace("’", "'")
    return not DOC_REF_RE.search(q) and bool(DOC_MENTION_RE.search(q))


def _name_words(name: str) -> list[str]:
    """The words that name a document (not « section », « partie »… which locate a passage)."""
    return [w for w in dict.fromkeys(analyze(name)) if w not in NOT_NAME and len(w) > 2]


def _has_all(words: list[str], known: set[str]) -> bool:
    return all(any(k.startswith(w[:5]) or w.startswith(k[:5]) for k in known if len(k) > 2) for w in words)


PROPER_RE = re.compile(r"\b(?:[A-ZÀ-ÖØ-Þ][\w'’-]*|(?:19|20)\d\d)\b")


def _proper_words(name: str) -> list[str]:
    """The proper names and years of a document's name (« ATEMIS », « 2018 »), but not the names
    every document carries (« le guide de la communauté COOP'TER » is not described by a passage
    that says « COOP'TER »)."""
    proper = [w for w in PROPER_RE.findall(name.replace("’", "'")) if fold(w.lower()) not in CORPUS_WIDE_NAMES]
    return [w for w in dict.fromkeys(analyze(" ".join(proper))) if len(w) > 2]


@lru_cache(maxsize=65536)
def _label_terms(label: str) -> frozenset[str]:
    return frozenset(analyze(label))


def _doc_label(doc) -> str:
    """Title, type (code and French label), source, id, year and the French name of its access
    level (« le guide de la communauté », « l'aide-mémoire de l'équipe ») of a manifest row or a
    passage. Only rows and passages the asker may see are labelled: no level above theirs."""
    meta = getattr(doc, "meta", None)
    if meta is not None:  # a Passage
        title, kind, source, date = doc.title, meta.get("type", ""), meta.get("source", ""), str(meta.get("date", ""))
        level = meta.get("access", "")
    else:
        title, kind, source, date, level = doc.title, doc.type, doc.source, doc.date, doc.access
    doc_id = doc.doc_id.split("/")[-1].replace("-", " ")
    reserved = ACCESS_LABELS_FR.get(level, "") if level != "public" else ""
    return f"{title} {kind} {DOC_TYPE_LABELS_FR.get(kind, kind)} {source} {doc_id} {date[:4]} {reserved}"


def named_visible_documents(question: str, visible_docs) -> set[str]:
    """Ids of the documents the asker may see that the question names (« d'après la note de
    Demoustier », « selon la note de 2013 »): for each name, the documents whose label holds all
    its words, when that is some but not all of them."""
    names = named_documents(question)
    if not names:
        return set()
    docs = visible_docs() if callable(visible_docs) else visible_docs
    out: set[str] = set()
    for name in names:
        words = _name_words(name)
        hits = {d.doc_id for d in docs if words and _has_all(words, _label_terms(_doc_label(d)))}
        if len(hits) < len(docs):
            out |= hits
    return out


def unseen_named_document(question: str, visible_docs, passages=()) -> str:
    """The name of a document the question names but the asker cannot see, or ''.

    Unseen: no document in `visible_docs` (manifest rows the asker may see, or a callable that
    returns them) carries all the words of that name in its title, type or source, and the
    retrieved `passages` (access-checked) do not mention it either (a document named inside
    another one: « la note rédigée par ATEMIS en 2018 » is described by the programme page, by its
    proper names and year; a name of common words only must be written in a passage).
    The retrieved passages are checked first: the manifest is read only when they do not settle it.
    """
    state: dict = {}

    def seen(name: str) -> bool:
        words = _name_words(name)
        if not words or any(_has_all(words, _label_terms(_doc_label(p))) for p in passages):
            return True
        if "mentioned" not in state:
            state["mentioned"] = set(analyze(" ".join(p.text for p in passages)))
            state["texts"] = fold(" ".join(p.text for p in passages).replace("’", "'")).lower()
        # « la note rédigée pour l'ADEME en 2018 »: the name stops at « pour », its qualifier
        # (up to the next comma) still describes it.
        at = question.find(name)
        qualifier = re.split(r"[,;:?!]", question[at + len(name):])[0] if at >= 0 else ""
        proper = _proper_words(f"{name} {qualifier}")
        mentioned = state["mentioned"]
        if proper and _has_all(proper, mentioned) and 2 * sum(_has_all([w], mentioned) for w in words) >= len(words):
            return True
        if not proper and fold(name.replace("’", "'")).lower() in state["texts"]:
            return True  # a name of common words only: the passages must write it (« le guide du contributeur »)
        if "docs" not in state:
            state["docs"] = visible_docs() if callable(visible_docs) else visible_docs
        return any(_has_all(words, _label_terms(_doc_label(d))) for d in state["docs"])

    for name in named_documents(question):
        inner = INNER_DOC_RE.split(name, maxsplit=1)
        if not seen(name) and not (len(inner) == 2 and seen(inner[1])):
            return name
    return ""


# « la section Retours d'expérience », « la partie « Financement » », « le chapitre 2 »; not « faire
# partie » nor « en partie » (« combien de collectivités en font partie et qu'apporte… ? »), nor
# « rubrique par rubrique ».
SECTION_REF_RE = re.compile(
    r"\b(?:section|(?<!font )(?<!fait )(?<!faire )(?<!faisant )(?<!fera )(?<!feront )(?<!en )partie|rubrique|"
    r"chapitre)\s+(?!par\b)[«\"]?\s*(?P<sec>[^«»\"?!.;:,]{3,60}?)\s*[»\"]?"
    r"(?=\s+(?:de|du|des|d'un|d'une|dans|sur|qui|que|où)\b|\s*[?!.;:,]|\s*$)",
    re.I,
)


# « Que disent les retours d'expérience de sa fiche projet ? »: the part of a document whose
# words the question asks for, named without « section ».
PART_OF_DOC_RE = re.compile(
    r"\bque\s+(?:dit|disent|retien(?:t|nent)|raconte(?:nt)?|contien(?:t|nent)|rapporte(?:nt)?)\s+"
    r"(?:les\s+|le\s+|la\s+|l')(?P<sec>[^?!.;:,]{3,40}?)\s+(?:de|du|d'|de la|de sa|de son|de cette|de ce)\s*"
    r"(?:fiche|document|guide|note|page|article)\b",
    re.I,
)


def named_section(question: str) -> str:
    """The section a question asks for by name, or ''."""
    q = question.replace("’", "'")
    m = SECTION_REF_RE.search(q) or PART_OF_DOC_RE.search(q)
    return m.group("sec").strip() if m else ""


def unseen_named_section(question: str, visible_sections, passages=()) -> str:
    """The name of the section the question asks for when none of `visible_sections` (section
    paths the asker may see, or a callable that returns them) carries all its words, and no
    retrieved passage (access-checked) writes that very name (« pour la partie lien au
    territoire » of one's own fiche: the guide speaks of « le lien au territoire »), or ''.
    A section above the asker's clearance and one that does not exist look the same."""
    name = named_section(question)
    words = [w for w in dict.fromkeys(analyze(name)) if len(w) > 2] if name else []
    if not words:
        return ""
    phrase = re.compile(r"\b" + re.escape(fold(name).lower()) + r"\b")
    if any(phrase.search(fold(p.text).lower()) for p in passages):
        return ""
    sections = visible_sections() if callable(visible_sections) else visible_sections
    if any(_has_all(words, _label_terms(sec)) for sec in sections):
        return ""
    return name


# « … ses retours d'expérience réservés à la communauté ? »: the question itself says that the
# content it asks for is reserved. Only content words qualify (« Quels sont les deux piliers
# réservés aux contributeurs ? » asks a public fact, and is answered).
RESERVED_RE = re.compile(
    r"\b(?:retours? d'expériences?|contenus?|documents?|sections?|parties?|notes?|fiches?|informations?|passages?|"
    r"ressources?|éléments?|travaux|échanges?)\s+(?:\S+\s+){0,2}?(?:réservée?s?|destinée?s?|internes?)\s+(?:à|aux)\s+"
    r"(?:la\s+|l'|les\s+)?(?P<who>communauté|contributeur|contributrice|membre|équipe)",
    re.I,
)
RESERVED_LEVEL = {"communauté": "community", "contributeur": "community", "contributrice": "community",
                  "membre": "community", "équipe": "staff"}


def asked_reserved_level(question: str) -> str:
    """The access level the question says its object is reserved to (« community », « staff »),
    or ''."""
    m = RESERVED_RE.search(question.replace("’", "'"))
    return RESERVED_LEVEL[m.group("who").lower()] if m else ""
