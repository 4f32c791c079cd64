"""The extractive answer: composed from the passages' own sentences, each with its [n].

No word is generated. The composer reads each passage as a small structure (sentences, lists
with the line that introduces them) and builds an answer a person can read:
- a sentence that announces content (« … requiert des compétences spécifiques : », « … répond à
  différents enjeux ») brings what follows it in the same passage, or in the passage that
  continues it, within a length budget;
- list questions (« Quels leviers… ») gather list items across passages, de-duplicated, as a
  Markdown list, each item with its citation; « où / quelles expériences » questions group by
  project sheet;
- definition and acronym questions prefer defining sentences (« X est… », « … (ÉFC) »);
- a follow-up's own words (« Et qui le finance ? ») steer the choice, and what the conversation
  already said is not repeated;
- no unit starts mid-sentence (a chunk cut by the splitter) or with a dangling connector, and
  reference lines (bibliography, links, « Fiche rédigée par… ») are never answer material.

The units come from `units.py` (sentence vectors computed once per chunk and cached there, so a
warm answer only scores); what the question asks (its form, the type of answer, the names it
mentions) from `asked.py`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ingest.references import KIND_REFERENCES, is_reference, is_reference_section

from .asked import (
    CONTACT_RE,
    CROSS_SOURCE_Q_RE,
    DATE_RE,
    HOW_WHY_Q_RE,
    NEEDS_CONTACT_RE,
    NEEDS_DATE_RE,
    NEEDS_NUMBER_RE,
    NUMBER_RE,
    READING_LIST_Q_RE,
    REFERS_BACK_RE,
    RESOURCE_Q_RE,
    YEAR_RE,
    YES_NO_Q_RE,
    asked_category_and_qualifier,
    asking_part,
    compared_acronyms,
    definition_subject,
    lacks_asked_type,
    name_terms,
    question_kind,
    question_names,
    years_in,
)
from .lexical import analyze
from .schema import K_DATE, Passage, fold
from .synonyms import related
from .units import (
    ANNOUNCE_RE,
    NEEDS_ANTECEDENT_RE,
    OPENS_RE,
    PRONOUN_SUBJECT_RE,
    SentenceCache,
    Unit,
    after_colon,
    item_context,
    list_label,
    parse_passage,
    read_units,
    section_heading,
)

# A sentence that opens on what the previous one named (« Ces approches cibleront… », « Elle
# réunit… ») elaborates it: it comes with it.
ANAPHORA_RE = re.compile(r"^(ces|cette|cet|ce (?!qu)|celle|celui|ceux|il |elle |ils |elles |leur |leurs |son |sa |ses )", re.I)

# A sentence that leans on the one before it (« Elle recommande aussi… », « Il s'agit enfin de… »,
# « Cette expérimentation a permis… »): said alone, its subject is lost. An impersonal « il »
# (« Il s'agit de… », « Il faut… ») is no reference; « enfin », « aussi » after it are.
LEANS_BACK_RE = re.compile(
    r"^([^,;:.]{0,40},\s*)?((ces|cette|cet|celles?|celui|ceux|elles?|ils|leurs?|ses|sa|son)\s|"
    r"ce (?!qu|que|qui|dont|sont|n['’]est)\w|"
    r"il (?!(s['’]agit|faut|est|existe|y a|convient|importe|reste|semble|apparaît|suffit)\b(?!\s+(enfin|aussi|également|ensuite)))\w|"
    # « Afin de la renforcer, certains acteurs… »: an object pronoun before an infinitive
    r"(afin d['’e]\s*|pour |sans )(la|le|les|leur|l['’])\s*\w+(er|ir|re)\b|"
    # « Pour parvenir à lancer de telles dynamiques, … », « Un tel projet… » (not « tels que »)
    r"[^,;:.]{0,60}?\b(de|un|une)\s+tel(le)?s?\s+(?!que\b|qu['’])\w|"
    # « Avec le constat que ces enjeux… », « Avec alors le besoin qu'un acteur… »: no main clause,
    # the sentence goes on from the one before
    r"avec\s+((alors|donc|aussi)\s+)?(le|la|les|l['’]|ce|cette|ces)\s*[\w-]+\s+(que|qu['’]))",
    re.I)


# « Parfois, … une structure juridique ad hoc. » / « Mais l'ECT ne prend pas forcément… »: said
# without the sentence that qualifies it, a sentence says more than its source.
CONTRAST_RE = re.compile(r"^(mais|cependant|toutefois|néanmoins|en revanche|pour autant)\b", re.I)


def _elaboration(units: list[Unit], i: int) -> int | None:
    """The sentence right after unit i, in its paragraph or opening the next one, when it
    elaborates it (« Ces approches… », « Il s'agit d'un processus… ») or qualifies it (« Mais… »)."""
    u, nxt = units[i], i + 1
    if (nxt < len(units) and units[nxt].pi == u.pi and units[nxt].block in (u.block, u.block + 1)
            and units[nxt].kind == "sentence"
            and (ANAPHORA_RE.match(units[nxt].text) or CONTRAST_RE.match(units[nxt].text))):
        return nxt
    return None


def _leans_back(text: str) -> bool:
    return bool(NEEDS_ANTECEDENT_RE.match(text) or LEANS_BACK_RE.match(text) or CONTRAST_RE.match(text))


INLINE_LIST_RE = re.compile(r":[^:]*[,;][^:]*[,;]")  # « … : a, b, c » (three parts at least)


# Tuned on the eval's dev split (evals/gold.yaml, split: dev).
FOOTNOTE_MARK_RE = re.compile(r"^\(\*+\)\s*")  # « (*) Cet article s'appuie… »: the note's call mark
PROSE_MARGIN = 0.25  # sentences kept within this score of the best one
RESTATES = 0.6  # idf-weighted share of a how/why question's words in a sentence that only says it again
DEFINITION_BONUS = 0.35  # a defining sentence leads a definition answer
TYPE_BONUS = 0.3  # a sentence holding the asked type (a date, a quantity) leads such an answer
LIST_PROSE_MARGIN = 0.0  # a list question gets prose when a sentence beats every list by this much
LIST_MAX = 10  # items of an announced list brought whole, beyond the answer's length budget
LIST_BLOCK_MARGIN = 0.15  # other lists join when their best item is this close to the best list's
CATEGORY_BONUS = 0.2  # « Quels outils… ? »: the list introduced as « … de nouveaux outils : » leads
SELF_NAMED_PENALTY = 1.0  # « L'Avise réalise… »: a source presenting itself, not what it says (last resort)
NAME_MISS_PENALTY = 0.2  # « Qui finance La Place ? »: a sentence that does not name La Place comes after
PRIOR_SECTION_BONUS = 0.1  # « Et que propose-t-il ? »: « il » is what the last answer's sections were about
NAMED_DOC_BONUS = 0.15  # « selon la note de 2013 »: that note's sentences before the others
# A sentence the conversation already showed can answer a follow-up that asks what it says
# (« Et ils se regroupent pour faire quoi ? », « Et qu'est-ce qui en sort ? »; dev, 283 questions:
# penalty 0.3 -> 0.1 -> 0, facts 0.641 -> 0.651 -> 0.661): it is not pushed down. An answer made
# only of what was said is composed again with ALL_SAID_PENALTY: a follow-up never gets the
# previous answer back.
GIVEN_PENALTY = 0.0
ALL_SAID_PENALTY = 0.3


@dataclass
class Composed:
    text: str
    cited: list[int]  # 1-based passage indexes; [n] in the text is cited[n - 1]
    highlights: dict[int, list[str]]


def _defines(text: str, subject: str) -> bool:
    """« X est… », « X (…) », « … (X) », « X désigne… »."""
    if not subject:
        return False
    s = re.escape(fold(subject))
    t = fold(text)
    return bool(
        re.search(rf"{s}\s*(\([^)]*\)\s*)?(,[^,]{{0,80}},\s*)?(est|sont|designe|renvoie|correspond|decrit|consiste|rassemble|regroupe|reunit|recouvre|vise|constitue|represente|signifie|se definit)\b", t)
        or re.search(rf"\(\s*{s}\s*\)", t)
        or re.search(rf"par {s}\b", t)
        or re.search(rf"\bappel(lation|le|ee?s?)\s+(de\s+)?«?\s*{s}\b", t)  # « désignée par l'appellation « PTCE » »
    )


def _overlap(q: set[str], terms: set[str], idf: Callable[[str], float]) -> float:
    """idf-weighted share of the question's stems in `terms`; a user's word (« mairie ») found by
    the corpus word it stands for (« collectivité », synonyms.py) counts half: the stemmer makes
    one stem of « collectivités » and « collectifs »."""
    total = sum(idf(t) for t in q)
    found = sum(idf(t) * (1.0 if t in terms else 0.5 if related(t) & terms else 0.0) for t in q)
    return found / total if total else 0.0


def _clean_end(text: str, before_list: bool = False) -> str:
    text = text.rstrip()
    if before_list:
        return text.rstrip(" :.") + " :"
    text = text.rstrip(" ;,")  # « … nouvelle ; » ends a list item, not a sentence
    if text.endswith(":"):
        return text[:-1].rstrip() + "."
    return text if text[-1:] in ".!?…»)" else text + "."


def _near_duplicate(terms: set[str], chosen: list[set[str]], restating: bool = True) -> bool:
    """Nearly the same words as one chosen unit, or (`restating`, for prose) hardly a word that
    the chosen ones do not already hold: a project sheet restating its source (« Toulouse
    Métropole, qui soutient le programme… » after « La Place… soutenu par Toulouse Métropole… »).
    List items share their list's words (« Soutenir… », « Soutenir… »): only the first test."""
    if any(len(terms & c) / max(1, len(terms | c)) > 0.6 for c in chosen):
        return True
    if not restating:
        return False
    said = set().union(*chosen) if chosen else set()
    return len(terms) >= 4 and len(terms - said) <= 0.25 * len(terms)


def compose(
    question: str,
    passages: list[Passage],
    cache: SentenceCache,
    idf: Callable[[str], float],
    focus: str = "",
    given: str = "",
    next_passage: Callable[[Passage], Passage | None] | None = None,
    budget_words: int = 140,
    max_items: int = 12,
    prior_docs: set[str] | frozenset[str] = frozenset(),
    named_docs: set[str] | frozenset[str] = frozenset(),
    prior_sections: set[tuple[str, str]] | frozenset[tuple[str, str]] = frozenset(),
    pointed: str = "",
    authors: list[tuple[str, frozenset[str]]] = (),
    given_penalty: float = GIVEN_PENALTY,
    why: list[str] | None = None,
    prev_passage: Callable[[Passage], Passage | None] | None = None,
) -> Composed | None:
    """Compose the answer; None when no passage holds a usable unit.

    `focus`: a follow-up's own words, which steer the choice. `given`: text the conversation
    already showed (not repeated). `next_passage(p)`: the chunk that follows `p` in its document,
    already access-checked, or None; used when an announcing sentence ends a passage.
    `prev_passage(p)`, the same for the chunk before: a sentence that opens its chunk and leans on
    the one before (« Afin de la renforcer, … ») brings the last sentence of that chunk.
    `prior_docs`: documents the previous answer cited; a follow-up that points back at it
    (« Lequel concerne les filières ? ») prefers them. `named_docs`: documents the question names
    (« selon la note de 2013 »): their sentences come first. `prior_sections`: (document, section)
    of what the previous answer cited, when the follow-up names no subject of its own (« Et que
    propose-t-il à ses membres ? »): the sentences about that subject come first. `pointed`: the
    item of the last answer a follow-up points at (« Peux-tu détailler le premier ? »): its words
    choose the sentences with the follow-up's own. `authors`: (author, their documents) that the
    question asks to hear (named_authors()): two or more each say their part, under their name;
    one alone (« d'après le Labo de l'ESS ») has their documents' sentences first, and a sentence
    where they present themselves comes after. `why`, when given, receives the reason of a None:
    "no unit", "name" (the subject the question names is in no line), "team", "type" (nothing of
    the asked type: a date, an amount…).
    """
    why = why if why is not None else []
    shown = list(passages)  # what retrieval gave; lines from other chunks are cited as extras
    passages = list(shown)
    wants_resource = bool(RESOURCE_Q_RE.search(focus or question))
    units = read_units(passages, wants_resource)
    if not units:
        why.append("no unit")
        return None
    kind = question_kind(focus or question)
    if kind == "list" and next_passage is not None:
        # A list announced at the end of a chunk (« … de nouveaux outils : ») opens the next
        # chunk: its items compete with the lists retrieved whole.
        have = {p.chunk_id for p in passages}
        # So does a list cut at the end of its chunk, the rest opening the next one of its section.
        for pi, p in enumerate(shown):
            last = max((u for u in units if u.pi == pi), key=lambda u: u.pos, default=None)
            if last is not None and (OPENS_RE.search(last.text) or last.kind == "item"):
                nxt = next_passage(p)
                if last.kind == "item" and nxt is not None and not (
                        nxt.section == p.section and [k for _, k, _, _ in parse_passage(nxt.text, nxt.section)[:1]] == ["item"]):
                    continue
                if nxt is not None and nxt.chunk_id not in have and nxt.meta.get("kind") != KIND_REFERENCES:
                    passages.append(nxt)
                    have.add(nxt.chunk_id)
        if len(passages) > len(shown):
            units = read_units(passages, wants_resource)
    q_terms = set(analyze(question))
    f_terms = set(analyze(f"{focus} {pointed}")) if focus else set()
    qvec = np.asarray(cache.embedder.embed_queries([question])[0], dtype=np.float32)
    vecs = cache.vectors(passages, units)
    sims = vecs @ qvec
    refers_back = bool(prior_docs) and bool(REFERS_BACK_RE.search(focus)) and any(
        p.doc_id in prior_docs for p in passages)
    if focus:
        fvec = np.asarray(cache.embedder.embed_queries([f"{focus} {pointed}".strip()])[0], dtype=np.float32)
        w = 0.75 if refers_back else 0.5  # « lequel concerne X ? »: X chooses, the topic is known
        sims = (1 - w) * sims + w * (vecs @ fvec)
    if refers_back:
        q_terms = f_terms
    # Cosine scales differ between models: score units relative to the best one.
    sims = sims - float(sims.max())
    subject = definition_subject(focus or question) if kind == "definition" else ""
    wants_date = bool(NEEDS_DATE_RE.search(focus or question))
    wants_number = bool(NEEDS_NUMBER_RE.search(focus or question)) and not YES_NO_Q_RE.search(focus or question)
    wants_contact = bool(NEEDS_CONTACT_RE.search(focus or question))
    q_years = years_in(focus or question)
    given_f = fold(given)
    context = [set(analyze(f"{p.title} {p.section}")) for p in passages]
    crossing = bool(CROSS_SOURCE_Q_RE.search(focus or question))
    names = question_names(focus or question)
    named_ctx = [_label_names(p) for p in passages] if names and not crossing else []

    author_docs = authors[0][1] if len(authors) == 1 else frozenset()
    author_names = name_terms(authors[0][0]) if len(authors) == 1 else frozenset()
    scores = np.zeros(len(units))
    bonus = np.zeros(len(units))  # preferences that order units but do not narrow the margin
    for i, u in enumerate(units):
        lex = 0.7 * _overlap(q_terms, u.terms, idf) + 0.3 * _overlap(q_terms, u.terms | context[u.pi], idf)
        score = float(sims[i]) + 0.5 * lex
        if f_terms:
            score += 0.5 * _overlap(f_terms, u.terms, idf)
        if subject and _defines(u.text, subject):
            bonus[i] = DEFINITION_BONUS
        if ((wants_date and DATE_RE.search(u.text)) or (wants_number and NUMBER_RE.search(YEAR_RE.sub(" ", u.text)))
                or (wants_contact and CONTACT_RE.search(u.text))):
            score += TYPE_BONUS  # « depuis quand ? » wants a sentence that holds a date
        if wants_resource and is_reference(u.text):
            score += TYPE_BONUS  # « quelle lecture conseillée ? »: a reference is what is asked
        if q_years and q_years & set(years_in(u.text)):
            score += TYPE_BONUS  # « … à partir de 2024 ? »: the sentence about 2024
        if u.kind == "item" and kind in ("list", "experience"):
            score += 0.05
        score -= 0.02 * u.pi  # prefer the better-ranked passages
        if passages[u.pi].doc_id in named_docs or passages[u.pi].doc_id in author_docs:
            score += NAMED_DOC_BONUS
        if author_names and author_names & name_terms(passages[u.pi].section):
            score -= SELF_NAMED_PENALTY  # their presentation (section « Le Labo de l'ESS »): who they are
        elif author_names and author_names & name_terms(u.text):
            score -= NAME_MISS_PENALTY  # « Le Labo de l'ESS, fondé en 2010… »: who they are, not what they say
        if (passages[u.pi].doc_id, passages[u.pi].section) in prior_sections:
            score += PRIOR_SECTION_BONUS
        if named_ctx and not any(name & (name_terms(u.text) | named_ctx[u.pi]) for name in names):
            score -= NAME_MISS_PENALTY  # « Qui finance La Place ? »: a sentence on another subject
        if len(u.text) < 50 and u.kind == "sentence":
            score -= 0.08
        if u.fragment:
            score = -9.0
        if given_f and not refers_back and fold(u.text)[:80] in given_f:
            score -= given_penalty  # already said in this conversation (« lequel… ? » picks among it)
        if refers_back and passages[u.pi].doc_id not in prior_docs:
            score = -9.0  # « lequel… ? » picks among what the previous answer cited
        scores[i] = score + bonus[i]

    # A line that introduces a list is worth what it introduces.
    for i, u in enumerate(units):
        if u.kind == "intro":
            items = sorted((scores[k] for k, x in enumerate(units)
                            if x.kind == "item" and (x.pi, x.block) == (u.pi, u.block)), reverse=True)
            if items:
                scores[i] = max(scores[i], float(np.mean(items[:3])) + 0.02)

    if kind == "list":
        lines = _compose_list(units, scores, passages, max_items, next_passage,
                              *asked_category_and_qualifier(focus or question))
        # « Quels leviers… ? Et y a des collectivités qui l'ont déjà fait ? »: the examples are heard.
        lines = _each_part(focus or question, lines, units, vecs, passages, cache, idf, scores, examples_only=True)
    elif kind == "experience":
        lines = _compose_by_sheet(units, scores, passages, bool(EXAMPLES_PART_RE.search(focus or question))) or _compose_prose(
            units, scores, passages, budget_words, next_passage
        )
    else:
        lines = _compose_by_author(units, scores, passages, authors, budget_words) if len(authors) > 1 else []
        if not lines and subject and crossing:
            lines = _definitions_across(units, scores, passages, subject)
        if not lines:
            # « En quoi les PTCE pourraient-ils participer à un modèle de sortie de crise ? » is best
            # matched by « Les PTCE pourraient ainsi s'inscrire… dans un modèle de « sortie de crise » »:
            # it says the question again; the how or why follows it.
            restating = ({i for i, u in enumerate(units) if u.kind == "sentence"
                          and _overlap(q_terms, u.terms, idf) >= RESTATES} if HOW_WHY_Q_RE.search(focus or question)
                         and not focus else set())
            lines = _compose_prose(units, scores, passages, budget_words, next_passage, define=subject, bonus=bonus,
                                   prev_passage=prev_passage, restating=restating)
            # Two items of the leading list picked: it comes whole (« Avant de partager : » gave two
            # of its three points).
            lines = _whole_lists(lines, units, passages, _leading_list(
                units, scores - bonus, references=bool(READING_LIST_Q_RE.search(focus or question))), max_items)
            # So does a list that says how many items it has (« La Place agit sur quatre axes : »).
            lines = _whole_lists(lines, units, passages, _counted_lists(units), max_items)
            # « Quelle lecture conseille-t-il, et sur quels travaux s'appuie-t-il ? »: each part is heard.
            lines = _each_part(focus or question, lines, units, vecs, passages, cache, idf, scores)
    compared = compared_acronyms(focus or question, lambda a: any(f"({a})" in p.text for p in passages))
    if lines and compared:
        lines = _define_each(compared, lines, units, scores, passages)
    if lines and crossing:
        lines = _hear_each_name(names, lines, units, scores, passages)
    # A name given as context (« J'habite à Besançon. Qu'est-ce qu'un PTCE ? ») is not the subject.
    elif lines and not _hears_a_name(question_names(asking_part(focus or question)), lines):
        why.append("name")
        return None
    if lines and not _hears_the_team(focus or question, lines, passages):
        why.append("team")
        return None
    dated = " ".join(f"{p.title} {p.meta.get(K_DATE, '')}" for p, _, _ in lines)
    if not lines or lacks_asked_type(focus or question, question, [text for _, text, _ in lines], idf, dated,
                                     [f"{p.title} {p.section}" for p, _, _ in lines]):
        if given:  # « Il existe depuis quand ? »: the date may be in what was already said
            return compose(question, shown, cache, idf, focus, "", next_passage, budget_words, max_items,
                           prior_docs, named_docs, prior_sections, pointed, authors, given_penalty, why=why,
                           prev_passage=prev_passage)
        why.append("type" if lines else "no unit")
        return None
    if (given_f and not refers_back and given_penalty < ALL_SAID_PENALTY
            and all(fold(text)[:80] in given_f for _, text, _ in lines)):
        again = compose(question, shown, cache, idf, focus, given, next_passage, budget_words, max_items,
                        prior_docs, named_docs, prior_sections, pointed, authors, ALL_SAID_PENALTY,
                        prev_passage=prev_passage)
        if again is not None:
            return again
    return _render(lines, shown)


# « Comment l'équipe COOP'TER examine-t-elle un dossier ? »: the programme team and its instruction of
# projects are a subject like a name: an answer must speak of them (a line, or its document's title or
# section). Public passages on the same themes say what the programme publishes, not what the team does.
TEAM_Q_RE = re.compile(
    r"\bl['’][ée]quipe\b(?!\s+(projet|municipale|d['’]animation|technique|de (projet|la mairie|la commune)))|"
    r"\binstru(ction|ire|it|isent|ite|ites)\b|\bpremier examen\b", re.I)  # typed with or without accents
TEAM_TEXT_RE = re.compile(r"\béquipe\b(?! du projet coopter-assistant)|\binstru(ction|ire|it|isent)\b|\bexamen\b", re.I)


def _hears_the_team(question: str, lines, passages) -> bool:
    """False when the question asks about the team and neither a chosen line nor the title or
    section of a retrieved passage speaks of it (the team's own aide-mémoire does, for staff)."""
    return not TEAM_Q_RE.search(question) or any(TEAM_TEXT_RE.search(text) for _, text, _ in lines) or any(
        TEAM_TEXT_RE.search(f"{p.title} {p.section}") for p in passages)


# A composed line: (passage, text, is_list_item). Passages may include a continuation chunk.
Line = tuple[Passage, str, bool]


def _follow(units: list[Unit], start: int, budget: int) -> list[Unit]:
    """The units after `units[start]` that elaborate it, in the same passage."""
    head = units[start]
    out: list[Unit] = []
    words = 0
    for u in units[start + 1 :]:
        if u.pi != head.pi:
            break
        if head.kind == "intro" or OPENS_RE.search(head.text):
            if u.kind != "item" and out:
                break
        elif u.block != head.block and len(out) >= 1:
            break
        words += len(u.text.split())
        if out and (len(out) >= LIST_MAX if u.kind == "item" else words > budget):
            break
        out.append(u)
        if head.kind == "sentence" and not OPENS_RE.search(head.text) and len(out) >= 2:
            break
    return out


def _continuation(head: Unit, passages: list[Passage], next_passage, budget: int, items_only: bool = False) -> list[Line]:
    """Items or sentences that open the chunk following `head`'s passage; with `items_only`, the
    items that carry on a list of the same section (`head` is its last item in its passage). A
    list that fills that chunk to its end goes on in the chunks after it (« l'internalisation de
    la solidarité », Demoustier's fifth enjeu, opens the second chunk after the list's intro)."""
    if next_passage is None:
        return []
    lines: list[Line] = []
    words = 0
    seen = {fold(head.text).rstrip(" :.;")}  # the chunks overlap: what was said opens the next one too
    here = passages[head.pi]
    while len(lines) < LIST_MAX:
        nxt = next_passage(here)
        if nxt is None or nxt.meta.get("kind") == KIND_REFERENCES:
            break
        if (items_only or lines) and nxt.section != here.section:
            break
        units = parse_passage(nxt.text, nxt.section, continues=False)
        to_the_end = True
        for text, kind, _block, _frag in units:
            if fold(text).rstrip(" :.;") in seen:
                continue
            if kind != "item" and (lines or items_only):
                to_the_end = False
                break
            words += len(text.split())
            # An announced list comes whole (up to LIST_MAX items): half a list misleads.
            if lines and (len(lines) >= LIST_MAX if kind == "item" else words > budget):
                to_the_end = False
                break
            lines.append((nxt, text, kind == "item"))
            seen.add(fold(text).rstrip(" :.;"))
            if kind != "item":
                to_the_end = False
                break
        if not (to_the_end and lines and lines[-1][2]):
            break
        here = nxt
    return lines


# A question in parts: « C'est quoi X, et qui l'anime ? », « … ? Y a-t-il un exemple ? ».
_ASKS = (r"(?:qu['’]|que |quel|quels|quelle|quelles|comment|pourquoi|où|combien|qui |quand|sur quo|sur quel|de quel|"
         r"à quel|avec quel|par quel|est-ce)")
PARTS_RE = re.compile(r"(?<=\?)\s+(?=\S)|,?\s+et\s+(?=" + _ASKS + ")", re.I)
PART_MARGIN = 0.4  # a part's best unit joins when its score for the whole question is this close (dev)


# A part that asks for examples: « … et y a des collectivités qui l'ont déjà fait ? », « quelles
# collectivités peut-on citer en exemple ? ».
EXAMPLES_PART_RE = re.compile(
    r"\b(exemples?|cas concrets?|l['’]ont (?:d[ée]j[àa] )?fait|(?:d[ée]j[àa] )?mis en place|"
    r"(?:des|quelles?|d['’]autres) (?:collectivit[ée]s|villes|territoires|exp[ée]riences) (?:qui|l['’]ont|ont)\b)",
    re.I)
# Capitalised words every experience's title or section carries: they tell no experience apart.
_GENERIC_NAMES = frozenset(analyze("Expérience Expériences Fiche Projet La Le Les L'ESS ESS De Du"))
EXAMPLES_MAX = 3  # experiences heard for a part that asks for examples
EXAMPLES_MARGIN = 0.1  # a sentence on no experience leads an answer by experience when it scores this much better


def is_experience(p: Passage) -> bool:
    """A project sheet, or a guide's box on one collectivité's experience."""
    return p.type == "fiche-projet" or "expérience :" in p.section.lower()


def experience_names(p: Passage) -> frozenset[str]:
    """The names that tell one experience from another: a sheet's title, a box's section."""
    return name_terms(p.title if p.type == "fiche-projet" else p.section.split(" > ")[-1]) - _GENERIC_NAMES


def _examples(lines: list[Line], units, passages, part_scores) -> list[Line]:
    """The best readable unit of each experience retrieved (up to EXAMPLES_MAX in the answer,
    those it already cites included), for a part that asks for examples."""
    heard = [experience_names(p) for p, _, _ in lines if is_experience(p)]
    out: list[Line] = []
    for i in sorted(range(len(units)), key=lambda i: -part_scores[i]):
        if len(heard) >= EXAMPLES_MAX:
            break
        u = units[i]
        p = passages[u.pi]
        names = experience_names(p)
        # The unit names its experience (« Toulouse Métropole agit ici… »): « Plus globalement, la
        # démarche permet… » would not say which one.
        if (part_scores[i] <= -9 or not is_experience(p) or not names & name_terms(u.text)
                or any(names & h for h in heard)):
            continue
        heard.append(names)
        out.append((p, u.text, u.kind == "item"))
    return out


def _each_part(question: str, lines: list[Line], units, vecs, passages, cache, idf, scores,
               examples_only: bool = False) -> list[Line]:
    """A question in two or more parts: each part's best unit (scored against that part alone)
    joins the answer when the prose left it out and it is not far off the whole question (dev:
    « … quelle lecture conseille-t-il, et sur quels travaux s'appuie-t-il ? » gave the reading
    only). A part that asks for examples hears the experiences retrieved (`_examples`); with
    `examples_only` (a list answer), only such a part is heard."""
    parts = [p for p in PARTS_RE.split(question) if p and (len(set(analyze(p))) >= 2 or EXAMPLES_PART_RE.search(p))]
    if len(parts) < 2 or (examples_only and not any(EXAMPLES_PART_RE.search(p) for p in parts)):
        return lines
    have = {(q.chunk_id, t) for q, t, _ in lines}
    best = float(scores.max())
    out = list(lines)
    for part, pvec in zip(parts, cache.embedder.embed_queries(parts)):
        sims = vecs @ np.asarray(pvec, dtype=np.float32)
        sims = sims - float(sims.max())
        terms = set(analyze(part))
        # A unit that cannot be read alone (« Le premier est… », « Elle recommande… ») is not added alone.
        part_scores = [-9.0 if u.fragment or u.kind == "intro" or u.announces or NEEDS_ANTECEDENT_RE.match(u.text)
                       or _leans_back(u.text)
                       else float(sims[i]) + 0.5 * _overlap(terms, u.terms, idf) for i, u in enumerate(units)]
        if EXAMPLES_PART_RE.search(part):
            for line in _examples(out, units, passages, part_scores):
                out.append(line)
                have.add((line[0].chunk_id, line[1]))
            continue
        if examples_only:
            continue
        i = int(np.argmax(part_scores))
        u = units[i]
        if part_scores[i] <= -9 or (passages[u.pi].chunk_id, u.text) in have or scores[i] < best - PART_MARGIN:
            continue
        out.append((passages[u.pi], u.text, u.kind == "item"))
        have.add((passages[u.pi].chunk_id, u.text))
    return out


def _last_sentence(p: Passage, prev_passage) -> Line | None:
    """The last unit of the chunk before `p` in its document, when it is a whole sentence."""
    prev = prev_passage(p) if prev_passage is not None else None
    if prev is None or prev.meta.get("kind") == KIND_REFERENCES:
        return None
    parsed = parse_passage(prev.text, prev.section, continues=False)
    if not parsed:
        return None
    text, kind, _block, fragment = parsed[-1]
    # « Pour en savoir plus. » ends a chunk as a link's label: nothing leans on it.
    return (prev, text, False) if kind == "sentence" and not fragment and len(text.split()) >= 6 else None


def _compose_prose(units, scores, passages, budget_words, next_passage, define="", bonus=None,
                   prev_passage=None, restating: set[int] = frozenset()) -> list[Line]:
    order = sorted(range(len(units)), key=lambda i: scores[i], reverse=True)
    base = scores - bonus if bonus is not None else scores
    best = float(base.max())
    if best <= -9:
        return []
    chosen: dict[int, list[Line]] = {}  # unit index -> its lines (the unit and what it brings)
    terms_seen: list[set[str]] = []
    used: set[int] = set()
    words = 0
    for i in order:
        if words >= budget_words or len(chosen) >= 4:
            break
        if chosen and base[i] < best - PROSE_MARGIN:
            continue  # ordered by full score: a later unit may still be within the margin
        u = units[i]
        if i in used or u.fragment or _near_duplicate(u.terms, terms_seen):
            continue
        lines: list[Line] = [(passages[u.pi], u.text, u.kind == "item")]
        seen_before = len(terms_seen)
        used.add(i)
        terms_seen.append(u.terms)
        words += len(u.text.split())
        prev = i - 1
        has_antecedent = (prev >= 0 and units[prev].pi == u.pi and units[prev].block == u.block
                          and units[prev].kind in ("sentence", "intro") and not units[prev].fragment)
        if NEEDS_ANTECEDENT_RE.match(u.text) and not has_antecedent:
            # « Le premier est centré sur l'ÉFC. » under a heading: unreadable alone.
            words -= len(u.text.split())
            del terms_seen[seen_before:]
            continue
        # The sentence it leans on comes first, from its paragraph or the end of the one before
        # (« Elle recommande aussi… » opens a paragraph); up to two back while the one brought
        # leans too (« COOP'TER est un programme… Son originalité… Ces coopérations fédèrent… »).
        # A list's « Ceux que… sont : » is left out below: what it stands for is not brought either.
        pronoun_intro = u.kind == "intro" and bool(PRONOUN_SUBJECT_RE.match(u.text))
        j, leans = i, (u.kind == "sentence" or (u.kind == "intro" and not pronoun_intro)) and _leans_back(u.text)
        if (leans and chosen and i - 1 >= 0 and i - 1 not in used and units[i - 1].pi == u.pi
                and units[i - 1].block in (u.block, u.block - 1) and units[i - 1].kind == "sentence"
                and base[i - 1] < best - PROSE_MARGIN):
            # Beyond the lead, a sentence whose context is off the topic is not worth both.
            words -= len(u.text.split())
            del terms_seen[seen_before:]
            continue
        while (leans and j - 1 >= 0 and j - 1 not in used and i - j < 2 and units[j - 1].pi == u.pi
               and units[j - 1].block in (u.block, u.block - 1) and units[j - 1].kind == "sentence"
               and not units[j - 1].fragment):
            j -= 1
            e = units[j]
            used.add(j)
            terms_seen.append(e.terms)
            lines.insert(0, (passages[e.pi], e.text, False))
            words += len(e.text.split())
            leans = _leans_back(e.text)
        if leans and (j == 0 or units[j - 1].pi != u.pi) and units[j].kind == "sentence":
            # It opens its chunk: what it leans on ends the chunk before (« Afin de la renforcer, … »).
            before = _last_sentence(passages[u.pi], prev_passage)
            if before is not None:
                lines.insert(0, before)
                words += len(before[1].split())
        # What an announcing sentence announces, or the rest of a definition's paragraph.
        if u.announces or (define and not chosen and _defines(u.text, define)) or (not chosen and i in restating):
            extra = _follow(units, i, max(40, budget_words - words))
            # Beyond the lead, what a sentence announces must itself be on topic.
            if chosen and extra and float(np.mean([base[units.index(e)] for e in extra])) < best - PROSE_MARGIN:
                extra = []
            for e in extra:
                used.add(units.index(e))
                terms_seen.append(e.terms)
                lines.append((passages[e.pi], e.text, e.kind == "item"))
                words += len(e.text.split())
            # The announced content may open the next chunk: after this unit, or after the last
            # unit it brought when that one announces too (« … six dimensions. … comparer : »).
            tail_i = units.index(extra[-1]) if extra else i
            tail = units[tail_i]
            last_of_passage = max((k for k, x in enumerate(units) if x.pi == tail.pi), default=tail_i)
            # (A sentence that only says the question again brings what follows it in its own chunk.)
            opens_next = u.announces or tail.announces or (bool(define) and _defines(u.text, define))
            if opens_next and (not extra or tail.announces) and tail_i == last_of_passage:
                for line in _continuation(tail, passages, next_passage, max(40, budget_words - words)):
                    lines.append(line)
                    words += len(line[1].split())
            elif extra and tail.kind == "item" and tail_i == last_of_passage and len(extra) < LIST_MAX:
                # « D'où six questions à poser : » and three items: the list goes on in the next chunk.
                for line in _continuation(tail, passages, next_passage, max(40, budget_words - words),
                                          items_only=True)[:LIST_MAX - len(extra)]:
                    lines.append(line)
                    words += len(line[1].split())
        elif u.kind == "sentence":
            # The sentence right after, when it elaborates this one (« Ces approches… »).
            # Also the first sentence of the next paragraph when this one ends its own (« … l'ADEME
            # entend toute dynamique… » / « Elle associe des entreprises… »).
            nxt = _elaboration(units, i)
            if nxt is not None and nxt not in used and not _near_duplicate(units[nxt].terms, terms_seen):
                e = units[nxt]
                used.add(nxt)
                terms_seen.append(e.terms)
                lines.append((passages[e.pi], e.text, False))
                words += len(e.text.split())
        if pronoun_intro and len(lines) > 1 and lines[0][1] == u.text:
            # « Ceux que l'exemple illustre… sont : » names nothing: its items come under their
            # section heading (`_render`).
            del lines[0]
        if len(lines) == 1 and OPENS_RE.search(u.text):
            # « … aux leviers suivants : » without them says nothing.
            words -= len(u.text.split())
            del terms_seen[seen_before:]
            continue
        chosen[i] = lines
    # Read in the order of the passages' relevance, then of the text.
    first_rank: dict[int, int] = {}
    for i in sorted(chosen, key=lambda i: scores[i], reverse=True):
        first_rank.setdefault(units[i].pi, len(first_rank))
    out: list[Line] = []
    for i in sorted(chosen, key=lambda i: (first_rank[units[i].pi], units[i].pos)):
        out.extend(chosen[i])
    return out


def _label_names(p: Passage) -> frozenset[str]:
    """The names a passage's document carries in its title, section, authors and source."""
    return name_terms(f"{p.title} {p.section} {p.meta.get('authors', '')} {p.meta.get('source', '')}")


def _hears_a_name(names: list[set[str]], lines: list[Line]) -> bool:
    """False when the question names something (« Quels résultats a obtenus La Place ? », « Quels
    PTCE en Bretagne ? ») and no chosen line, nor the title, section, authors or source of its
    document, names it: the passages are about something else. (A question that crosses sources
    is not held to this: one side heard is still an answer.) `names`: question_names()."""
    if not names:
        return True
    heard = set()
    for p, text, _ in lines:
        heard |= name_terms(text) | _label_names(p)
    return any(name & heard for name in names)


def _definitions_across(units, scores, passages, subject: str, most: int = 4) -> list[Line]:
    """« Qu'est-ce qu'un PTCE, si l'on rapproche les différents documents ? »: each document's best
    sentence that defines the subject, best document first; [] when fewer than two documents
    define it (the usual answer then)."""
    best: dict[str, int] = {}
    for i, u in enumerate(units):
        if u.kind == "sentence" and not u.fragment and scores[i] > -9 and _defines(u.text, subject):
            doc = passages[u.pi].doc_id
            if doc not in best or scores[i] > scores[best[doc]]:
                best[doc] = i
    if len(best) < 2:
        return []
    chosen = sorted(best.values(), key=lambda i: scores[i], reverse=True)[:most]
    return [(passages[units[i].pi], units[i].text, False) for i in chosen]


def _define_each(acronyms: list[str], lines: list[Line], units, scores, passages) -> list[Line]:
    """« PTCE et ECT, c'est pareil ? »: each notion compared is spelled out by its best sentence
    (« … Pôles Territoriaux de Coopération Économique (PTCE) qui rassemblent… »), with the one it
    leans on, when the answer does not spell it out yet."""
    out = list(lines)
    for acronym in acronyms:
        mark = f"({acronym})"
        if any(mark in text for _, text, _ in out):
            continue
        cands = [i for i, u in enumerate(units) if mark in u.text and not u.fragment and u.kind == "sentence"]
        if not cands:
            continue
        i = max(cands, key=lambda i: scores[i])
        u = units[i]
        if (NEEDS_ANTECEDENT_RE.match(u.text) or _leans_back(u.text)) and i > 0 and units[i - 1].pi == u.pi \
                and units[i - 1].kind == "sentence" and not any(units[i - 1].text == t for _, t, _ in out):
            out.append((passages[u.pi], units[i - 1].text, False))
        out.append((passages[u.pi], u.text, False))
    return out


def _hear_each_name(names: list[set[str]], lines: list[Line], units, scores, passages) -> list[Line]:
    """« Quels points communs entre la Fabrique à initiatives et La Place ? »: when the answer
    says nothing of one of the things compared, the best unit that names it (in its text, or in
    its document's title or section) joins. Authors (« selon l'Avise et le Labo de l'ESS ») are
    left alone: their best unit is most often their own presentation."""
    def terms(p, text):
        return name_terms(f"{text} {p.title} {p.section}")

    authors = set()
    for p in passages:
        authors |= name_terms(str(p.meta.get("authors", "")))
    out = list(lines)
    for name in names:
        if name & authors or any(name & terms(p, text) for p, text, _ in out):
            continue
        cands = [i for i, u in enumerate(units) if not u.fragment and u.kind != "intro" and scores[i] > -9
                 and name & terms(passages[u.pi], u.text) and all(text != u.text for _, text, _ in out)]
        # A unit that writes the name beats one whose section only carries it (« Cette instance
        # permanente… » under the Strasbourg sheet's heading says nothing a reader can place).
        cands = [i for i in cands if name & name_terms(units[i].text)] or cands
        if cands:
            i = max(cands, key=lambda k: scores[k])
            u = units[i]
            if (u.kind == "sentence" and (NEEDS_ANTECEDENT_RE.match(u.text) or _leans_back(u.text)) and i > 0
                    and units[i - 1].pi == u.pi and units[i - 1].kind == "sentence"
                    and all(units[i - 1].text != t for _, t, _ in out)):
                out.append((passages[u.pi], units[i - 1].text, False))
            out.append((passages[u.pi], u.text, u.kind == "item"))
    return out


def _heads_list(text: str, category: str, qualifier: str = "") -> bool:
    """True when `category` (a stem) is what the list after the colon enumerates: it stands among
    the last words before it (« … de nouveaux outils pour le territoire : »), not further up
    (« En matière de financement, leurs spécificités portent sur : » lists specificities), and
    the question's `qualifier` is there too (« outils contractuels » are not any tools)."""
    before = text.split(":", 1)[0] if ":" in text else ""
    # « Ces PTCE doivent relever de nombreux défis, car… » announces the list after it as well.
    announced = ANNOUNCE_RE.search(text)
    heads = category in analyze(" ".join(before.split()[-5:])) or bool(
        announced and category in analyze(announced.group(0)))
    return heads and (not qualifier or qualifier in analyze(text))


def _list_blocks(units: list[Unit]) -> dict[tuple[int, int], list[int]]:
    """(passage, block) -> indexes of the intro and items of each list in `units`."""
    blocks: dict[tuple[int, int], list[int]] = {}
    for i, u in enumerate(units):
        if u.kind in ("item", "intro") and not u.fragment:
            blocks.setdefault((u.pi, u.block), []).append(i)
    # A list whose items cannot be read without what introduced it (« - Le premier est centré… »,
    # « - Le second… » under a heading) says nothing on its own.
    return {b: ix for b, ix in blocks.items() if any(units[i].kind == "item" for i in ix)
            and (any(units[i].kind == "intro" for i in ix) or not NEEDS_ANTECEDENT_RE.match(units[ix[0]].text))}


def _leading_list(units: list[Unit], scores, references: bool = False) -> dict[tuple[int, int], list[int]]:
    """The list whose item or introduction is the best unit, as `_list_blocks` gives it; none when
    a sentence leads (readers judged a whole list of levers beside « the agents' role »
    off-topic) or for a reading list (« une lecture sur… ? » wants a title or two) unless
    `references` (the question asks for several: « quelles publications… ? »)."""
    lead = int(np.argmax(scores))
    return {b: ix for b, ix in _list_blocks(units).items() if lead in ix
            and (references or not any(is_reference(units[i].text) for i in ix if units[i].kind == "item"))}


# « … agit sur quatre axes : »: an introduction that counts its items.
COUNTED_INTRO_RE = re.compile(r"\b(deux|trois|quatre|cinq|six|sept|huit|neuf|dix|[2-9]|10)\s+(?:[\w'’-]+\s+){0,3}?[\w'’-]+\s*:$",
                              re.I)


def _counted_lists(units: list[Unit]) -> dict[tuple[int, int], list[int]]:
    """The lists, as `_list_blocks` gives them, whose introduction says how many items they have:
    shown in part, they read as cut short."""
    return {b: ix for b, ix in _list_blocks(units).items()
            if any(units[i].kind == "intro" and COUNTED_INTRO_RE.search(units[i].text.strip()) for i in ix)}


def _compose_list(units, scores, passages, max_items, next_passage, category="", qualifier="") -> list[Line]:
    """The best list, whole and with the line that introduces it, then close items of other
    lists (de-duplicated). A list announced at the end of a passage is read in the next chunk.
    A list whose introduction names the `category` asked for leads: an item that merely
    mentions it (« … à qui s'adressent les outils créés ») does not make its list the answer."""
    blocks = _list_blocks(units)
    best_unit = max(range(len(units)), key=lambda i: scores[i])
    block_score = {b: max(scores[i] for i in ix) for b, ix in blocks.items()}
    def introduced(b, ix) -> bool:
        intros = [units[i] for i in ix if units[i].kind == "intro"]
        if intros:
            return any(_heads_list(u.text, category, qualifier) for u in intros)
        # No introduction: the section title may say what the list is (« 3. Les leviers des
        # collectivités pour soutenir les coopérations »).
        title = passages[b[0]].section.split(" > ")[-1]
        return _heads_list(" ".join(title.split()[:4]) + " :", category, qualifier)

    named = {b for b, ix in blocks.items() if category and introduced(b, ix)}
    for b in named:
        block_score[b] += CATEGORY_BONUS
    # Without such a list, a sentence that lists what was asked inline (« … de nouveaux outils :
    # plateforme Okoté (…), Matornales (…), … ») is one.
    inline = [i for i, u in enumerate(units) if category and not named and u.kind == "sentence"
              and INLINE_LIST_RE.search(u.text) and _heads_list(u.text, category, qualifier)]
    if inline:
        scores = scores.copy()
        scores[inline] += CATEGORY_BONUS
        best_unit = max(range(len(units)), key=lambda i: scores[i])
    if not blocks or (units[best_unit].kind == "sentence" and scores[best_unit] > max(block_score.values()) + LIST_PROSE_MARGIN):
        return _whole_lists(_compose_prose(units, scores, passages, 140, next_passage), units, passages, blocks, max_items)
    lead = max(blocks, key=block_score.get)
    # A list is one coherent answer: another list joins whole when its best item is close.
    best_item = {b: max(scores[i] for i in ix if units[i].kind == "item") for b, ix in blocks.items()}
    lines: list[Line] = []
    seen: list[set[str]] = []
    n_items = 0
    first_pos = {pi: min(u.pos for u in units if u.pi == pi) for pi in {b[0] for b in blocks}}

    def same_kind(b) -> bool:
        """Once the lead list is introduced as what was asked, another list joins only if it is
        introduced so too, or goes on from the first line of the chunk after the lead's."""
        if lead not in named or b in named:
            return True
        ix = blocks[b]
        here, there = passages[b[0]], passages[lead[0]]
        return (not any(units[i].kind == "intro" for i in ix) and here.doc_id == there.doc_id
                and here.meta.get("position") == (there.meta.get("position") or 0) + 1
                and min(units[i].pos for i in ix) == first_pos[b[0]])

    def goes_on(b, tail) -> bool:
        """The rest of the list `tail` ends, cut at the end of its chunk: it opens the next one."""
        ix, tail_ix = blocks[b], blocks[tail]
        here, there = passages[b[0]], passages[tail[0]]
        return (b != tail and here.doc_id == there.doc_id and here.section == there.section
                and here.meta.get("position") == (there.meta.get("position") or 0) + 1
                and not any(units[i].kind == "intro" for i in ix) and min(units[i].pos for i in ix) == first_pos[b[0]]
                and max(units[i].pos for i in tail_ix) == max(u.pos for u in units if u.pi == tail[0]))

    # A long list may run over several chunks (« Il s'agit… » six times, over three chunks).
    rest: list = []
    while (nxt := next((b for b in blocks if b != lead and b not in rest and goes_on(b, rest[-1] if rest else lead)),
                       None)) is not None:
        rest.append(nxt)
    others = sorted((b for b in blocks if b != lead and b not in rest and same_kind(b)), key=best_item.get, reverse=True)
    for b in [lead] + rest + others:
        if b != lead and b not in rest and (best_item[b] < best_item[lead] - LIST_BLOCK_MARGIN or n_items >= max_items):
            break
        for i in sorted(blocks[b], key=lambda i: units[i].pos):
            u = units[i]
            if u.kind == "intro":
                # « Ceux que l'exemple illustre… sont : » names nothing: the list comes under its
                # section heading instead (`_render`; the sentence before, « … présente cette
                # expérience… », would lose its referent in turn).
                if b == lead and not PRONOUN_SUBJECT_RE.match(u.text):
                    lines.append((passages[u.pi], u.text, False))
                continue
            if n_items >= max_items:
                continue
            if _near_duplicate(u.terms, seen, restating=False):
                continue
            seen.append(u.terms)
            lines.append((passages[u.pi], u.text, True))
            n_items += 1
    return lines


def _whole_lists(lines: list[Line], units, passages, blocks, max_items) -> list[Line]:
    """A list question answered in prose: the items it picked bring the rest of their list (up
    to `max_items` items in all), in the list's order, right after the first one picked, when
    it picked two of them or more."""
    picked = {(passages[u.pi].chunk_id, u.text): b for b, ix in blocks.items() for i in ix
              if (u := units[i]).kind == "item"}
    # Only a list the prose drew on twice: one item alone may be a chance match of words
    # (« des dimensions non monétaires » for « Quelles dimensions du modèle… »).
    # A list the source splits across chunks counts as one: same document, same top section.
    def where(b: tuple[int, int]) -> tuple[str, str]:
        p = passages[b[0]]
        return p.doc_id, p.section.split(" > ")[0]

    hits: dict[tuple[str, str], int] = {}
    for p, text, item in lines:
        if item and (b := picked.get((p.chunk_id, text))) is not None:
            hits[where(b)] = hits.get(where(b), 0) + 1
    picked = {k: b for k, b in picked.items() if hits.get(where(b), 0) >= 2}
    out: list[Line] = []
    done: set[tuple[int, int]] = set()
    emitted: set[tuple[str, str]] = set()
    n_items = sum(1 for _, _, item in lines if item)
    for p, text, item in lines:
        key = (p.chunk_id, text)
        if key in emitted:
            continue
        b = picked.get(key) if item else None
        if b is None or b in done:
            out.append((p, text, item))
            emitted.add(key)
            continue
        done.add(b)
        chosen = {(q.chunk_id, t) for q, t, _ in lines}
        # The line that announces the list, said further on, comes first (« … à différents enjeux : »).
        # (or ends the chunk before, when the list opens its own).
        start = min(blocks[b], key=lambda i: units[i].pos)
        head = start if units[start].kind == "intro" else start - 1
        here = passages[b[0]]
        for q, t, is_item in lines:
            k = (q.chunk_id, t)
            if is_item or k in emitted or not t.rstrip().endswith(":"):
                continue
            if ((head >= 0 and units[head].pi == b[0] and q.chunk_id == here.chunk_id and t == units[head].text)
                    or (units[start].pos == min(u.pos for u in units if u.pi == b[0]) and q.doc_id == here.doc_id
                        and q.meta.get("position") == (here.meta.get("position") or 0) - 1)):
                out.append((q, t, False))
                emitted.add(k)
                break
        for i in sorted(blocks[b], key=lambda i: units[i].pos):
            u = units[i]
            k = (passages[u.pi].chunk_id, u.text)
            if u.kind != "item" or k in emitted:
                continue
            if k not in chosen:
                if n_items >= max_items:
                    continue
                n_items += 1
            out.append((passages[u.pi], u.text, True))
            emitted.add(k)
    return out


def _compose_by_sheet(units, scores, passages, examples: bool = False) -> list[Line]:
    """One line per project sheet (its best unit), when several answer. A question that asks for
    examples (`examples`) hears a guide's « Expérience : » boxes too, an experience told by both a
    sheet and a box once; a sentence from elsewhere that answers better comes first (« Tu as un
    exemple de ville qui a créé un espace de dialogue ? »: the Avise page's « comités de filière »
    of the Ville de Paris)."""
    best: list[tuple[frozenset[str], int]] = []
    # Examples are told by a unit that names its experience (« Toulouse Métropole agit ici… »)
    # before one that does not (« Plus globalement, la démarche permet… »).
    for naming in ((True, False) if examples else (False,)):
        for i in sorted(range(len(units)), key=lambda k: -scores[k]):
            u = units[i]
            p = passages[u.pi]
            if u.fragment or scores[i] <= -9 or not (is_experience(p) if examples else p.type == "fiche-projet"):
                continue
            names = experience_names(p)
            if naming and not names & name_terms(u.text):
                continue
            if names and not any(names & n for n, _ in best):
                best.append((names, i))
    if len(best) < 2:
        return []
    best.sort(key=lambda b: -scores[b[1]])
    top = scores[best[0][1]]
    lines: list[Line] = []
    if examples:
        lead = [i for i, u in enumerate(units) if u.kind == "sentence" and not u.fragment and not u.announces
                and not is_experience(passages[u.pi]) and not NEEDS_ANTECEDENT_RE.match(u.text)
                and not _leans_back(u.text) and scores[i] > top + EXAMPLES_MARGIN]
        if lead:
            i = max(lead, key=lambda k: scores[k])
            lines.append((passages[units[i].pi], units[i].text, False))
    for _, i in best:
        if scores[i] < top - 0.3:
            continue
        u = units[i]
        p = passages[u.pi]
        said = [u] + (_follow(units, i, 60) if u.announces else [])
        label = p.title if p.type == "fiche-projet" else p.section.split(" > ")[-1]
        lines.append((p, f"**{label}** — {_run_on(said)}", True))
    return lines if sum(is_item for _, _, is_item in lines) >= 2 else []


def _compose_by_author(units, scores, passages, authors, budget_words: int) -> list[Line]:
    """« Comment l'Avise et le Labo de l'ESS définissent-ils la coopération ? »: each author's best
    unit from their own documents (what follows it too, when it announces it), under the author's
    name, in the order the question names them; [] when fewer than two authors have one. A unit
    that names its own author (« L'Avise réalise… ») presents them rather than saying what they
    say: it ranks lower, as does a unit that announces what its passage does not hold."""
    budget = max(40, budget_words // len(authors))
    lines: list[Line] = []
    for author, docs in authors:
        own = name_terms(author)
        cands = [i for i, u in enumerate(units) if passages[u.pi].doc_id in docs and not u.fragment
                 and u.kind != "intro" and scores[i] > -9]

        def worth(i: int, own=own) -> float:
            x = units[i]
            dangling = x.announces and not _follow(units, i, budget)  # « … différents enjeux : » and no more
            return (scores[i] - (SELF_NAMED_PENALTY if own & name_terms(x.text) else 0)
                    - (SELF_NAMED_PENALTY if dangling else 0))

        if not cands:
            continue
        best = max(cands, key=worth)
        u = units[best]
        said = [u] + (_follow(units, best, budget) if u.announces else [])
        nxt = _elaboration(units, best) if not u.announces and u.kind == "sentence" else None
        if nxt is not None and not own & name_terms(units[nxt].text):  # as in prose
            said.append(units[nxt])
        words = sum(len(x.text.split()) for x in said)
        for i in sorted(cands, key=lambda i: scores[i], reverse=True):  # a second unit of the same passage
            x = units[i]
            if (x.pi == u.pi and x not in said and scores[i] > scores[best] - 0.1
                    and words + len(x.text.split()) <= budget and not own & name_terms(x.text)):
                said.append(x)
                break
        said.sort(key=lambda x: x.pos)
        lines.append((passages[u.pi], f"**{author}** — {_run_on(said)}", True))
    return lines if len(lines) > 1 else []


def _run_on(said: list[Unit]) -> str:
    """Units of one passage as one line: sentences end with a full stop, list items are joined
    by semicolons after the line that announces them."""
    out = ""
    for x in said:
        text = x.text.strip()
        if not out:
            out = text[:1].upper() + text[1:]
        elif x.kind == "item":
            out = (out.rstrip(" :") + " :" if x is said[1] and said[0].kind != "item" else out.rstrip(" ;.") + " ;")
            out += " " + text.rstrip(" ;.")
        else:
            out = _clean_end(out) + " " + text
    return out


SHEET_TITLE_RE = re.compile(r"^fiche[- ]projets?\s*:\s*", re.I)


def _of_sheet(p: Passage, label: str) -> str:
    """A project sheet's section heading (« Leviers mobilisés par la collectivité », « Porteurs et
    partenaires ») says which project only with the sheet's name: « Le Conseil de l'ESS de
    l'Eurométropole de Strasbourg — leviers mobilisés par la collectivité »."""
    if p.type != "fiche-projet" or fold(label) != fold(section_heading(p.section)) or not SHEET_TITLE_RE.match(p.title):
        return label
    name = SHEET_TITLE_RE.sub("", p.title).split(",")[0].strip()
    return f"{name[:1].upper()}{name[1:]} — {label[:1].lower()}{label[1:]}" if name else label


def _render(lines: list[Line], passages: list[Passage]) -> Composed:
    """Number citations in order of first use; sentences run on, list items go one per line."""
    index = {p.chunk_id: k for k, p in enumerate(passages)}
    cited: list[int] = []
    highlights: dict[int, list[str]] = {}
    out: list[str] = []
    prose: list[str] = []
    extra: list[Passage] = []
    said: set[str] = set()
    kept: list[Line] = []
    for p, text, is_item in lines:  # the same line twice (overlapping chunks) is said once
        key = fold(text).rstrip(" .:;")
        if key not in said:
            said.add(key)
            kept.append((p, text, is_item))
    lines = kept
    labels: dict[int, str] = {}

    def label_of(k: int) -> str:  # what introduces item line k in its passage (parsed once)
        if k not in labels:
            p, text, _ = lines[k]
            labels[k] = list_label(p.text, p.section, text, questions=True)
        return labels[k]

    for k, (p, text, is_item) in enumerate(lines):
        if p.chunk_id not in index:  # a continuation chunk: cite it too
            index[p.chunk_id] = len(passages) + len(extra)
            extra.append(p)
        pi = index[p.chunk_id] + 1
        if pi not in cited:
            cited.append(pi)
        n = cited.index(pi) + 1
        highlights.setdefault(n, []).append(re.sub(r"^\*\*.*?\*\* — ", "", text))
        # A lone item (« Et qui le finance ? » → one partner of a list) reads as a sentence, after
        # what introduces it when it has no main clause of its own and that was not just said.
        lone = is_item and not (k > 0 and lines[k - 1][2]) and not (k + 1 < len(lines) and lines[k + 1][2])
        if is_item and not lone:
            # Items of another list than the line before (« Porteurs et partenaires » after « les
            # leviers suivants : ») come under what introduces them, or they read as more of it.
            # (An author's line, « **ADEME** — … », is introduced by its name.)
            label = "" if text.startswith("**") else label_of(k)
            # A reading list under a topic heading (« Économie de la Fonctionnalité… » above
            # « Annuaire des accompagnateurs ») is not that topic: only « Pour aller plus loin ».
            if label and is_reference(text) and not is_reference_section(label) and fold(label) == fold(
                    section_heading(p.section)):
                label = ""
            if k > 0 and lines[k - 1][2]:
                # (two sheets' « Porteurs et partenaires » are two lists)
                new_list = fold(_of_sheet(p, label)) != fold(_of_sheet(lines[k - 1][0], label_of(k - 1)))
            else:  # after a line that announces it (« … les leviers suivants : »), its list
                new_list = not (k > 0 and lines[k - 1][1].rstrip().endswith(":"))
            if new_list and label and not any(fold(label) in fold(t) for _, t, _ in lines[:k]):
                # A heading that asks is quoted: said bare, it reads as the answer asking the reader.
                label = _of_sheet(p, label)
                prose.append(f"« {label} » : [{n}]" if label.endswith("?") else f"{label} : [{n}]")
            if prose:
                out.append(" ".join(prose))
                prose = []
            item = text.rstrip(" .;,")
            out.append(f"- {item[:1].upper() + item[1:]} [{n}]")
        elif lone:
            item = text.rstrip(" .;,")
            label = "" if text.startswith("**") else item_context(p.text, p.section, item)
            if label and not any(fold(label) in fold(t) for _, t, _ in lines[:k]):
                item = f"{_of_sheet(p, label)} : {after_colon(item)}"
            prose.append(f"{_clean_end(item[:1].upper() + item[1:])} [{n}]")
        else:
            before_list = k + 1 < len(lines) and lines[k + 1][2] and text.rstrip().endswith(":")
            prose.append(f"{_clean_end(FOOTNOTE_MARK_RE.sub('', text), before_list)} [{n}]")
    if prose:
        out.append(" ".join(prose))
    text = "\n".join(out)
    composed = Composed(text, cited, highlights)
    composed.extra = extra  # type: ignore[attr-defined]
    return composed
