"""What a question asks: its form (a list, a definition, past experiences…), the type of answer
it needs (a date, a quantity, an amount, contact details, the holder of a post), and the names it
mentions (a place, an organisation, the authors it wants to hear).

Regular expressions over the user's own French words, and `lacks_asked_type`, which tells when
the chosen lines do not hold what was asked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from .lexical import CORPUS_WIDE_NAMES, analyze, content_words, same_stem_prefix, stem_prefixes
from .schema import fold
from .synonyms import corpus_words, related

LIST_Q_RE = re.compile(
    r"^\s*(quel(le)?s\b|lesquel(le)?s|cite|énumère|liste)|\b(quels|quelles) sont\b|"
    r"\b(leviers|bonnes pratiques|défis|étapes|critères|enjeux|compétences|piliers|dimensions|axes|"
    r"missions|actions|conditions|outils|principes|pistes|spécificités|formes|freins|atouts|moyens|"
    r"acteurs|partenaires|besoins|objectifs|thématiques)\b",
    re.I,
)
# A follow-up that points back at the previous answer's content.
REFERS_BACK_RE = re.compile(
    r"\b(lequel|laquelle|lesquel(le)?s|celui|celle|ceux|celles|ce dernier|cette dernière|parmi (eux|elles|ceux|celles|ces)|"
    r"le premier|la première|le deuxième|le second|la seconde|le troisième|la troisième|le dernier|la dernière)\b",
    re.I,
)


# The category a list question asks for: « Quels outils… », « Quelles sont les bonnes pratiques… ».
CATEGORY_Q_RE = re.compile(
    r"^\s*(?:et\s+)?(?:quel(?:le)?s|lesquel(?:le)?s)\s+(?:sont\s+)?(?:les\s+|des\s+)?"
    r"(?:(?:principa(?:les|ux)|grand(?:e)?s|bonnes|autres|différent(?:e)?s|nouve(?:aux|lles)|premi[eè]res?)\s+)?"
    r"(?P<noun>[a-zà-ÿ'-]{3,})(?:\s+(?P<next>[a-zà-ÿ'-]+))?", re.I)
# Adjectives that qualify nothing (« Quels outils concrets… ? »); a verb (« … accompagnent ») is
# not a qualifier either.
VAGUE_QUALIFIERS = frozenset(analyze("concrets concrètes possibles existants existantes utiles nécessaires "
                                     "disponibles importants importantes principaux principales clés"))
# Questions that ask to cross sources (« en croisant les sources », « chacun », « points communs »):
# they need passages from more documents than a plain question.
CROSS_SOURCE_Q_RE = re.compile(
    r"\b(en croisant|croiser|chacun(e)?|points? communs?|rapport entre|à la fois dans|différent(e)?s (sources|documents)|"
    r"tous (les )?deux|toutes (les )?deux|rapproch\w*|compar\w*|d'une source à l'autre|selon les sources)\b", re.I)
# « Que disent l'Avise et le Labo de l'ESS sur… ? », « d'après X et Y »: authors heard side by side.
# « chez l'Avise » names one; « chez nous » is where the asker lives or works.
SOURCES_Q_RE = re.compile(
    CROSS_SOURCE_Q_RE.pattern + r"|\b(selon|d'après|que disent|que dit|chez(?! (?:nous|moi|vous|toi|soi)\b)|entre|de leur côté)\b", re.I)
# « Quels sont les points communs entre X et Y ? » is answered in prose, each side in its words.
COMPARE_Q_RE = re.compile(r"\b(points? communs?|différences?|compar\w*)\b", re.I)
# « PTCE et ECT, c'est pareil ? », « quelle différence entre… ? »: two notions set side by side.
SAME_Q_RE = re.compile(r"\b(pareil|(la )?m[êe]me chose|diff[ée]rences?|se distingu\w*|distingu\w*|identiques?|"
                       r"synonymes?|confond\w*)\b", re.I)
WORD_RE = re.compile(r"[\w'’-]+")


def compared_acronyms(question: str, defined: Callable[[str], bool]) -> list[str]:
    """The acronyms a « c'est pareil ? » question sets side by side, as the documents write them
    (« ptce » typed for « PTCE »), when two or more of them are; `defined(acronym)` tells whether
    the documents spell one out (« … Territorialisé (ECT) »)."""
    if not SAME_Q_RE.search(question):
        return []
    words = [w.upper() for w in WORD_RE.findall(question) if 2 <= len(w) <= 6 and w.isalpha()]
    found = [w for w in dict.fromkeys(words) if defined(w)]
    return found if len(found) >= 2 else []


SINGULAR_Q_RE = re.compile(r"^\s*(quel|quelle)\b(?!s)", re.I)
# « Comment démarre la dynamique d'acteurs ? » asks how, not for a list of actors.
HOW_WHY_Q_RE = re.compile(r"^\s*(comment|pourquoi|en quoi|dans quelle mesure)\b(?!.*\bquel(le)?s\b)", re.I)
# « c'est quoi », as typed: « cest quoi », « c quoi », « c koi ».
SPOKEN_WHAT = r"\bc['’]?\s?est (?:quoi|koi)\b|\bc (?:quoi|koi)\b"
DEF_Q_RE = re.compile(
    r"(qu'?est[- ]ce qu|" + SPOKEN_WHAT + r"|que signifie|que veut dire|veut dire quoi|signifie quoi|définition|définir|sigle|acronyme|"
    r"qu'appelle|désigne|à quoi correspond|qui est\b|qu'entend-on|en quoi consiste|définit|définissent)",
    re.I,
)
# « Quelles expériences… », « des exemples de… », « où… » (not « les retours d'expérience de X »).
EXPERIENCE_Q_RE = re.compile(
    r"(\b(quel(le)?s|des|d'autres)\s+(expériences|exemples|initiatives|projets|cas)\b|exemples? (de|d')|"
    r"\boù\b|territoires? (ont|qui)|cas concrets?|initiatives? (existent|menées))",
    re.I,
)
DEF_SUBJECT_RE = re.compile(
    r"(?:qu'?est[- ]ce qu(?:e|')|" + SPOKEN_WHAT + r"|que signifie|que veut dire|qu'appelle-t-on|"
    r"à quoi correspond|qui est|en quoi consiste|définit(?:-il|-elle|-on)?|définissent(?:-ils|-elles)?)\s*"
    r"(?:exactement\s+)?(?:le sigle |l'acronyme )?(?:un |une |le |la |les |l'|des |du )?(.+?)\s*\??$",
    re.I,
)


# « la somme », « quelles sommes », not the verb (« Sommes-nous obligés… ? », « nous ne sommes pas »).
SUMS = r"somme|(?<!nous )(?<!ne )sommes(?!-nous)"
# Questions whose answer must hold a quantity or a date: without one in the chosen sentences,
# the passages only talk around it (« Quel budget… ? » answered with the programme's aims).
NEEDS_NUMBER_RE = re.compile(
    r"\b(combien|montants?|budgets?|co[uû]ts?|prix|capital|chiffres?|chiffrée?s?|nombre de|pourcentage|"
    r"taux|" + SUMS + r"|effectifs?|salaires?|rémunérations?|numéros?)\b", re.I)
# « quand » asks a date as the question word (« Quand… ? », « depuis quand », « …, c'était quand ? »),
# not as a conjunction (« Quelle posture adopter quand on accompagne un collectif ? »). A first
# « quand » opens a clause when two words or more and a comma follow it, with no inverted verb
# before the comma, and the question goes on after it (« Quand on instruit un dossier, que
# vérifie… ? », « Quand une collectivité soutient un projet, elle peut faire quoi ? »); « Quand le
# programme a-t-il commencé, et avec qui ? » and « Quand est-ce que…, » still ask a date.
NEEDS_DATE_RE = re.compile(r"\b(en quelle ann[ée]e|quelle ann[ée]e|quelle date|depuis quand|jusqu['’]?[àa] quand|"
                           r"[àa] partir de quand|calendrier|dates?|ann[ée]e de|c['’]est quand|c['’][ée]tait quand|"
                           r"(date|dater?|datent) de quand|pour quand)\b|"
                           r"^\W*(et\s+)?quand\b(?!(\s+(?![^\s?,]*-(t-)?(il|elle|ils|elles|on|ce)\b)[^\s?,]+){2,}"
                           r"\s*,[^?]*\w)|\bquand\s*\?", re.I)
# « Combien de temps dure… ? » wants a duration: a number with its unit, not any number.
NEEDS_DURATION_RE = re.compile(r"\b(combien de temps|durée|pendant combien|dure-t-(il|elle))\b", re.I)
# An address, a phone number, a company number: the corpus's prose never holds one.
NEEDS_CONTACT_RE = re.compile(
    r"\b(adresse (postale|mail|e-?mail|électronique)|l['’]adresse\b|numéro de téléphone|téléphone|courriel|"
    r"e-?mails?|mails?|siret|siren|coordonn[ée]es|(le|son|du|leur) siège|contacter|joindre|site (internet|web)|"
    # « on s'adresse où ? », not « À qui s'adresse le troisième pilier ? » (its audience)
    r"s['’]adress\w*\s+où|où\s+(on\s+|je\s+|nous\s+)?s['’]adress|"
    # « à qui j'écris ? », « à qui dois-je m'adresser ? » (the asker writing to someone)
    r"à qui (j['’]écri\w*|écrire|envoyer|(je|on|nous) (dois |doit |peux |peut |devons )?(écri\w*|envoi\w*|"
    r"m['’]adress\w*|s['’]adress\w*|nous adress\w*)|(dois|puis|peut|faut)[- ](je|on|il)\s+(m['’]|s['’]|nous )?"
    r"(adresser|écrire|envoyer)))", re.I)
# Numbers in words, and the approximate ones (« une centaine »); written without accents, so that
# they read the same on accent-folded text.
NUMBER_WORDS = (r"deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|quinze|vingt|trente|quarante|"
                r"cinquante|soixante|cent|mille|millions?|milliards?|dizaines?|quinzaines?|vingtaines?|"
                r"trentaines?|cinquantaines?|centaines?|milliers?")
NUMBER_RE = re.compile(r"\d|\b(" + NUMBER_WORDS + r"|moitié|tiers|quart)\b", re.I)
# A count before what it counts, on accent-folded lowercase text.
COUNT_RE = r"(?:\b\d[\d .,]*|\b(?:" + NUMBER_WORDS + r"))"
YEAR_RE = re.compile(r"\b(1[89]|20)\d\d\b")
DATE_RE = re.compile(r"\b(1[89]|20)\d\d\b|\b(janvier|février|mars|avril|mai|juin|juillet|août|septembre|"
                     r"octobre|novembre|décembre|printemps|été|automne|hiver)\b", re.I)
DURATION_RE = re.compile(
    r"(\d+|\b(un|une|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|douze|quinze|vingt|trente|plusieurs|"
    r"quelques))\s+(ans?|années?|mois|semaines?|jours?|heures?)\b|\b(1[89]|20)\d\d\s*(-|–|à)\s*(1[89]|20)\d\d\b",
    re.I)
# A budget, a cost or a salary is an amount of money, not any number (« 200 collectivités »).
NEEDS_MONEY_RE = re.compile(r"\b(montants?|budgets?|co[uû]ts?|coûte|prix|tarifs?|frais|capital|" + SUMS + r"|salaires?|rémunérations?|"
                            r"subventions? versées?|payer|paie)\b", re.I)
# « combien l'ADEME peut financer ? », « ça rapporte combien ? »: how much money, though no money noun
# is said (« combien de projets finance-t-elle ? » counts projects: COUNTED_RE).
HOW_MUCH_MONEY_RE = re.compile(
    r"\bcombien\b(?!\s+d(?:e\b|['’]))[^?]*?\b(financ\w*|vers\w*|touch\w*|donn\w*|gagn\w*|rapport\w*|"
    r"subventionn\w*|co[uû]t\w*)\b|\b(financ\w*|vers\w*|touch\w*|donn\w*|gagn\w*|rapport\w*|co[uû]t\w*)\b"
    r"[^?,]{0,40}?\bcombien\b(?!\s+d(?:e\b|['’]))", re.I)
MONEY_RE = re.compile(r"€|\beuros?\b|\bEUR\b", re.I)
# What a « combien de … » question counts.
COUNTED_RE = re.compile(r"\b(?:combien|nombre)\s+d(?:e\s+|['’])(?P<noun>\w+)", re.I)
# A yes/no question: an inverted verb (« faut-il », « a-t-elle ») or « est-ce que », no question word.
YES_NO_Q_RE = re.compile(r"^(?!.*\b(quel(le)?s?|combien|comment|pourquoi|qui|quoi|où|lequel|laquelle|lesquel(le)?s)\b)"
                         r".*(\b\w+-(t-)?(il|elle|on|ils|elles)\b|\best-ce qu)", re.I | re.S)


def years_in(text: str) -> set[str]:
    return {m.group(0) for m in YEAR_RE.finditer(text)}


CONTACT_RE = re.compile(r"@|https?://|www\.|\b\d{5}\b|\b\d{2}([ .]\d{2}){4}\b")
# « … faut-il regarder autre chose que son budget en euros ? », « elle se contente de payer ou… ? »
# ask what is not money.
BEYOND_MONEY_RE = re.compile(
    r"\b((autre chose que|au-delà d[eu]|en dehors d[eu]|pas (seulement|que|uniquement)|hormis|plutôt que)\s+"
    r"(le |la |les |l'|l’|son |sa |ses |leur |leurs )?(\w+\s+){0,2}?(montants?|budgets?|argent|euros|co[uû]ts?|prix)|"
    r"se content\w* de (payer|financer))\b",
    re.I)
# « Il existe un document qui présente les projets ? », « quelle lecture conseillée ? »: a resource
# is asked for; reference lines (titles, links), never answer content otherwise, are then the answer.
# « Quel rapport entre X et Y ? », « quel rapport avec… », « quel rapport ça a… » ask for a relation.
_RELATION = r"(?!s?\s+(entre|avec|à|au|aux|y|il|ils|elle|elles|ça|cela|ceci|le|la|les|l['’]|a|ont|on)\b)"
RESOURCE_Q_RE = re.compile(
    r"\b(quel(le)?s? (document|publication|lecture|référence|ressource|ouvrage|texte|rapport" + _RELATION + r"|"
    r"carnet|annuaire|journal|journaux|lettre|revue)s?|(comment s['’]appelle|le (nom|titre) d[eu]) (le |la |l['’])?(journal|lettre|"
    r"revue|publication|carnet|annuaire|guide|document|rapport)|"
    r"(existe-t-il|(il )?(y a|existe)(-t-il)?) (un|une|des) (document|liste|publication|annuaire|carnet|référence|"
    r"lecture|ressource|texte)s?|(lectures?|références?|ressources?|publications?) (conseillée|recommandée|à lire)s?|"
    r"(sélection|liste) de (lectures|ressources|références|publications)|citer la publication|la publication où)",
    re.I)
# « Quelles publications les documents recommandent-ils ? », « une sélection de lectures »: several
# titles are asked, so a reading list comes whole (« une lecture sur… ? » wants a title or two).
READING_LIST_Q_RE = re.compile(
    r"\b(quel(le)?s (documents|publications|lectures|références|ressources|ouvrages|textes|sites|rapports)|"
    r"(sélection|liste|bibliographie) de (lectures|ressources|références|publications|documents)|"
    r"(lectures|références|ressources|publications) (conseillées|recommandées|à lire)|bibliographie)\b",
    re.I)
# « Qui préside le Labo ? », « Qui est l'élue chargée de l'ESS ? » ask for the holder of a post: the
# answer must at least speak of that post (the organisation's presentation does not).
_POSTS = r"(vice-)?présid\w*|dirig\w*|directeur|directrice|direction|élu\w*|maire|responsable|délégué\w*|adjoint\w*"
NEEDS_POST_RE = re.compile(
    r"\bqui\s+(préside|dirige|est\s+(le|la|l'|l’)\s*((vice-)?président\w*|directeur|directrice|élu\w*|maire|"
    r"responsable|délégué\w*|adjoint\w*))\b", re.I)
POST_RE = re.compile(rf"\b({_POSTS})\b", re.I)


# « Qui paie l'accompagnement ? », « Comment se construit le budget d'un PTCE ? », « Pourquoi le
# coût… ? » ask who, how or why: the money or number word is their subject, not what they ask.
# « combien », « quel montant », « nombre de » ask a quantity all the same.
WHO_HOW_WHY_Q_RE = re.compile(r"^\W*(et\s+)?(qui|comment|pourquoi|en quoi)\b", re.I)
QUANTITY_Q_RE = re.compile(
    r"\bcombien\b|\bnombre d|\bquel(le)?s?\s+(est\s+le\s+|sont\s+les\s+)?(montant|budget|co[uû]t|prix|tarif|somme|"
    r"capital|frais|taux|chiffre|effectif|salaire|rémunération)", re.I)


# Where a sentence or a coordinated clause ends: « Je découvre le programme. En quelle année a-t-il
# démarré, et avec quel labo ? » asks the year in its second sentence's first clause.
_CLAUSE_END_RE = re.compile(r"[.!?;:]\s+|,\s*(?:et|mais|ou|puis)\b|\s+et\s+(?=(?:qui|quel\w*|comment|combien|où|"
                            r"pourquoi|avec|par qui|à qui|de quel\w*)\b)", re.I)


PURPOSE_RE = re.compile(r"\s*(?:pour|afin d[e']|avant d[e']|en vue d[e'])\s*[^,?]{3,80},\s*", re.I)


def asking_clause(question: str, asked: tuple[re.Pattern, ...]) -> str:
    """The clause of `question` that holds the first match of `asked` (the whole question when
    none matches, or when the clause says nothing beyond the asking words): the words that say
    what the asked date or number is about are there, not in the context before it."""
    hits = [m for rx in asked if (m := rx.search(question))]
    if not hits:
        return question
    at = min(m.start() for m in hits)
    start, end = 0, len(question)
    for m in _CLAUSE_END_RE.finditer(question):
        if m.end() <= at:
            start = m.end()
        elif m.start() >= at:
            end = m.start()
            break
    clause = question[start:end]
    # « Pour convaincre notre conseil d'administration, avez-vous des chiffres… ? »: a leading
    # purpose says why the asker asks, not what the number is about.
    purpose = PURPOSE_RE.match(clause)
    if purpose and purpose.end() <= at - start:
        clause = clause[purpose.end():]
    bare = clause
    for rx in asked:
        bare = rx.sub(" ", bare)
    return clause if analyze(content_words(bare)) else question


# « Nos élus s'interrogent sur la durée du soutien : pourquoi… ? »: a question word after a colon
# opens what is asked; the context before it asks no date, duration or number.
_ASKED_AFTER_COLON_RE = re.compile(
    r":\s*(?=(?:et\s+)?(?:comment|quel\w*|qui|où|pourquoi|combien|quand|que|qu['’]|est-ce|en quoi|"
    r"dans quelle)\b)", re.I)


def asked_type_part(question: str) -> str:
    """The part of `question` whose words say what type of answer is asked (a date, a number…)."""
    return _ASKED_AFTER_COLON_RE.split(asking_sentences(question))[-1]


def lacks_asked_type(asked_form: str, question: str, lines: list[str], idf: Callable[[str], float],
                     dated: str = "", contexts: list[str] | None = None) -> bool:
    """True when `asked_form` (the user's own words) asks for a quantity, a date, a duration or
    contact details, or the holder of a post (« qui préside… ? »), and no chosen line gives one
    about what `question` names: a year is not a
    quantity, and the line must hold what is counted (« combien de structures ») or else one of
    the question's two most specific words (« 30 territoires » does not count PTCE). « Qui paie… ? »,
    « Comment se construit le budget… ? » ask who or how, not an amount. A year the
    question names must be in a line or in `dated` (the cited documents' titles and dates):
    « … versée en 2022 ? » is not answered by a sentence about another year. A yes/no question
    asks no number, but still an amount of money."""
    if years_in(asked_form) - years_in(" ".join(lines) + " " + dated):
        return True
    asked_form = asked_type_part(asked_form)
    if NEEDS_CONTACT_RE.search(asked_form) and not any(CONTACT_RE.search(line) for line in lines):
        return True
    if NEEDS_POST_RE.search(asked_form) and not any(POST_RE.search(line) for line in lines):
        return True
    subject_only = bool(WHO_HOW_WHY_Q_RE.search(asked_form)) and not QUANTITY_Q_RE.search(asked_form)
    if ((NEEDS_MONEY_RE.search(asked_form) or HOW_MUCH_MONEY_RE.search(asked_form))
            and not BEYOND_MONEY_RE.search(asked_form) and not subject_only
            and not any(MONEY_RE.search(line) for line in lines)):
        return True  # even asked yes or no: « Le programme a-t-il un budget dédié ? » wants it
    # « … faut-il un nombre minimum de partenaires ? » asks yes or no, not a number.
    yes_no = bool(YES_NO_Q_RE.search(asked_form))
    wants_duration = bool(NEEDS_DURATION_RE.search(asked_form))
    wants_date = bool(NEEDS_DATE_RE.search(asked_form)) and not wants_duration
    wants_number = (bool(NEEDS_NUMBER_RE.search(asked_form)) and not wants_duration and not yes_no
                    and not subject_only)
    if not (wants_date or wants_number or wants_duration):
        return False
    asked = (NEEDS_NUMBER_RE, NEEDS_DATE_RE, NEEDS_DURATION_RE, NEEDS_MONEY_RE)
    stripped = asking_clause(question, asked)
    for rx in asked:
        stripped = rx.sub(" ", stripped)
    terms = set(analyze(content_words(stripped)))
    key = set(sorted(terms, key=lambda t: (-idf(t), t))[:2])  # ties broken the same way in every process
    # « combien de structures… ? » counts structures: the line must name them (the surface word,
    # as the stemmer makes « collectifs » of « collectivités »).
    # The user's word may not be the documents' (« combien de communes » for « 200 collectivités »):
    # the corpus words it stands for (synonyms.py) count too.
    # « combien de collectivités…, et combien d'opérateurs… ? »: a count of any of them answers.
    counted = [] if wants_duration else [m.group("noun") for m in COUNTED_RE.finditer(asked_form)]
    nouns = [w for c in counted for w in (c, *corpus_words(c))]
    # The number counts them: « environ 70 acteurs », « trois piliers », not « ces deux paramètres
    # induisent des besoins en accompagnement » for « combien d'accompagnateurs ».
    noun = re.compile(COUNT_RE + r"\s+(?:[\w'’·-]+\s+){0,3}?(" + "|".join(
        re.escape(fold(n).lower().rstrip("sx")) for n in nouns) + ")") if nouns else None
    # A line's passage title and section say what it is about (« Il a débuté en 2020 » under
    # « Historique du programme »).
    contexts = contexts or [""] * len(lines)
    for line, context in zip(lines, contexts):
        if noun is not None:
            if not noun.search(fold(line).lower()):
                continue
        elif key and not any(k in said or related(k) & said or same_stem_prefix(k, stem_prefixes(said))
                             for said in [set(analyze(f"{line} {context}"))] for k in key):
            # (the user's word or the documents' word for it: « démarré » for « débuté »; a form the
            # stemmer leaves apart, as coverage() reads it: « strasbourgeoise » for « Strasbourg »)
            continue
        if wants_duration and DURATION_RE.search(line):
            return False
        if wants_date and DATE_RE.search(line):
            return False
        if wants_number and NUMBER_RE.search(YEAR_RE.sub(" ", line)):
            return False
    return True


def question_kind(question: str) -> str:
    """« list », « experience », « definition » or « fact »."""
    q = question.strip()
    if EXPERIENCE_Q_RE.search(q) and not DEF_Q_RE.search(q):
        return "experience"
    if DEF_Q_RE.search(q):
        return "definition"
    if LIST_Q_RE.search(q) and not SINGULAR_Q_RE.match(q) and not HOW_WHY_Q_RE.match(q) and not COMPARE_Q_RE.search(q):
        return "list"
    return "fact"


# « Qu'est-ce que l'ADEME appelle une coopération… ? »: the subject follows the verb of naming.
NAMED_AS_RE = re.compile(
    r"\b(?:appellent|appelle|nomment|nomme|entend(?:-on|ent)? par|désigne(?:nt)? par)\s+"
    r"(?:un |une |le |la |les |l'|des |du )?(.+?)\s*\??$", re.I)


# The subject first: « PTCE, ça veut dire quoi ? », « l'ÉFC c'est quoi au juste ? ».
DEF_SUBJECT_FIRST_RE = re.compile(
    r"^\W*(?:et\s+)?(?:le sigle |l'acronyme )?(?:un |une |le |la |les |l'|des |du )?(.+?)\s*,?\s+(?:ça|ca|cela|c['’]?\s?est|ce)\s+"
    r"(?:veut dire|signifie|désigne|est)?\s*(?:quoi|koi)\b", re.I)


# What may follow « c'est quoi » without being its subject (« l'ÉFC, c'est quoi au juste ? »).
NO_SUBJECT_RE = re.compile(r"^(au juste|en fait|exactement|concrètement|donc|alors|déjà|en gros|ça|ca)?\W*$", re.I)


def definition_subject(question: str) -> str:
    q = question.strip()
    named = NAMED_AS_RE.search(q.replace("’", "'"))
    m = named or DEF_SUBJECT_RE.search(q)
    if not m or NO_SUBJECT_RE.match(m.group(1).strip(" «»\"'?")):
        m = DEF_SUBJECT_FIRST_RE.search(q) or m
    if not m:
        return ""
    subject = m.group(1).strip(" «»\"'?")
    subject = re.sub(r"^(chacun|chacune|tous|toutes|aussi|également|donc|vraiment)\s+", "", subject, flags=re.I)  # « … définissent-ils chacun X »
    # Drop what only situates the subject: « … de COOP'TER », « … selon Demoustier », « … et comment… ».
    subject = re.sub(r"\s*,.*$", "", subject)  # « Qu'est-ce qu'un PTCE, si l'on rapproche… »
    subject = re.sub(r"\s+(dans|pour|selon|au sein|et|exactement|concrètement)\b.*$", "", subject, flags=re.I)
    subject = re.sub(r"\s+(de|du|d')\s*(coop.ter|l'ademe|l'avise|la|le|l')\b.*$", "", subject, flags=re.I)
    return subject.strip()


def asked_category(question: str) -> str:
    """The stem of what a list question asks for (« outil » for « Quels outils concrets… ? »), or ''."""
    return asked_category_and_qualifier(question)[0]


# Spoken French names the category after « comme »: « qu'a-t-elle produit comme outils ? », « on a
# quoi comme aides ? ».
SPOKEN_CATEGORY_RE = re.compile(r"(?<=\w\s)(?:quoi\s+)?comme\s+(?P<noun>[a-zà-ÿ'-]{3,})(?:\s+(?P<next>[a-zà-ÿ'-]+))?(?=[^?]*\?)",
                                re.I)


# « Pouvez-vous me lister les leviers… ? », « la liste des outils » (no qualifier read).
LISTING_RE = re.compile(
    r"\b(?:lister|énumérer|citer|donner|(?:la|une) liste)(?:-moi|-nous)?\s+(?:les|des|vos|de|d')\s*"
    r"(?:(?:principa(?:les|ux)|différent(?:e)?s|grand(?:e)?s)\s+)?(?P<noun>[a-zà-ÿ'-]{3,})(?P<next>)", re.I)


INNER_CATEGORY_RE = re.compile(
    r"(?<=\w)\s+(?:sur\s+|dans\s+|avec\s+|par\s+|pour\s+|à\s+|de\s+)?(?:quel(?:le)?s)\s+"
    r"(?:(?:principa(?:les|ux)|grand(?:e)?s|bonnes|autres|différent(?:e)?s|nouve(?:aux|lles))\s+)?"
    r"(?P<noun>[a-zà-ÿ'-]{3,})(?:\s+(?P<next>[a-zà-ÿ'-]+))?", re.I)


def asked_category_and_qualifier(question: str) -> tuple[str, str]:
    """(category, qualifier) stems: « Quels outils contractuels… » gives (« outil », « contractuel »);
    the qualifier is '' when the next word is a form word, a vague adjective or a verb."""
    q = question.replace("’", "'")
    # The question may open on its context (« Chargée de mission dans une interco, … Quels leviers… ? »).
    m = (CATEGORY_Q_RE.match(q) or CATEGORY_Q_RE.match(asking_part(q)) or LISTING_RE.search(q)
         or (SPOKEN_CATEGORY_RE.search(q) if LIST_Q_RE.search(q) else None)
         # « Et ça intervient sur quels axes ? », « on mobilise quelles aides ? »: spoken French asks last.
         or INNER_CATEGORY_RE.search(asking_part(q)))
    stems = analyze(m.group("noun")) if m else []
    if not stems or stems[0] in ("typ", "form", "sort", "gen", "exempl", "element"):
        return "", ""
    nxt = m.group("next") or ""
    qual = analyze(nxt) if nxt and not re.search(r"(ent|ont)$", nxt) else []
    return stems[0], (qual[0] if qual and qual[0] not in VAGUE_QUALIFIERS else "")


# A name in a question, whole: capitalised words (« La Place », « Générateur BFC », « la Banque des
# Territoires », « le Mois de l'ESS »), never the question's first word; the corpus-wide names (ESS,
# PTCE, COOP'TER…) say nothing specific.
ENTITY_RE = re.compile(
    r"(?<=[\s'’«])[A-ZÀ-ÖØ-Þ][\w'’-]*(?:\s+(?:de\s+la\s+|de\s+l['’]|des\s+|de\s+|d['’]|du\s+|à\s+)?"
    r"[A-ZÀ-ÖØ-Þ][\w'’-]*)*")
COMMON_NAMES = CORPUS_WIDE_NAMES
COMMON_STEMS = frozenset(w for n in COMMON_NAMES for w in analyze(n))


CAPITALISED_RE = re.compile(r"\b[A-ZÀ-ÖØ-Þ][\w'’-]*")


@lru_cache(maxsize=65536)
def name_terms(text: str) -> frozenset[str]:
    """Stems of the capitalised words of `text`: « La Place » names the programme, « mise en
    place » does not."""
    return frozenset(analyze(" ".join(CAPITALISED_RE.findall(text))))


def question_names(question: str) -> list[set[str]]:
    """The names a question gives, each as the set of its folded words, minus the corpus-wide ones."""
    out = []
    # A sentence's first word is capitalised whatever it is (« Qui… ? J'aimerais… »).
    text = re.sub(r"(^|[.?!]\s+)\S+", " ", question.strip().replace("’", "'"))
    for m in ENTITY_RE.finditer(text):
        if fold(m.group(0).lower()) in COMMON_NAMES:
            continue
        words = {w for w in analyze(m.group(0)) if len(w) > 2 and w not in COMMON_STEMS}
        if words:
            out.append(words)
    return out


# The sentence that asks: the last one ending with « ? » (the ones before give context: « Je suis
# chargée de mission dans une métropole du Sud-Ouest. Quelles structures… ? »).
_ASKING_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+")
# « Je suis à Lyon, comment… ? » gives context before the comma; « Notre cabinet veut figurer dans
# l'Annuaire : quelle procédure… ? » names its subject before the colon.
_CONTEXT_CLAUSE_RE = re.compile(
    r",\s+(?=(?:comment|quel\w*|qui|où|pourquoi|est-ce|combien|quand|que|qu['’]|faut-il|peut-on|"
    r"y a-t-il|existe-t-il)\b)", re.I)


_QUESTION_WORD_RE = re.compile(r"\b(quand|qui|quoi|koi|où|comment|combien|pourquoi|quel(le)?s?|lequel|laquelle|"
                               r"lesquel(le)?s|est-ce)\b", re.I)


def asking_sentences(question: str) -> str:
    """The sentences of `question` that ask (ending with « ? », or holding a question word), joined;
    the whole question when none does. « c'est qui qui anime La Place ? je dois les contacter pour un collectif » asks who
    runs it: the sentence after says why, and asks no contact details."""
    sentences = [x for x in _ASKING_SENTENCE_RE.split(question.strip()) if x]
    # Typed without its « ? », a sentence still asks with a question word (« c quand la date limite »).
    asking = [x for x in sentences if x.rstrip().endswith("?") or _QUESTION_WORD_RE.search(x)]
    return " ".join(asking) if asking else question


def asking_part(question: str) -> str:
    """What the question asks, without the context given before it: its last sentence ending
    with « ? » (« Je suis chargée de mission dans une métropole du Sud-Ouest. Quelles structures…
    ? »), from its question word on (« Je suis à Lyon, comment monter un PTCE ? »)."""
    sentences = [x for x in _ASKING_SENTENCE_RE.split(question.strip()) if x]
    asking = next((x for x in reversed(sentences) if x.rstrip().endswith("?")), question)
    return _CONTEXT_CLAUSE_RE.split(asking)[-1]


def unknown_name(question: str, df: Callable[[str], int]) -> str:
    """The first name of the question's asking sentence (« la Région Bretagne », « le DLA »,
    « Besançon ») with a word that no document the asker may see holds (`df`: the number of
    visible chunks holding an analysed term), as the question writes it; "" when there is none.
    The documents cannot say anything about it, whatever passages share the question's other words."""
    # A sentence's or clause's first word is capitalised whatever it is.
    text = re.sub(r"(^|[.?!:]\s+)\S+", " ", asking_part(question).replace("’", "'"))
    for m in ENTITY_RE.finditer(text):
        if fold(m.group(0).lower()) in COMMON_NAMES or re.search(r"\d", m.group(0)):
            continue  # a code or a reference number (« CANARI-7Q4M ») is no name
        words = [w for w in analyze(m.group(0)) if len(w) > 2 and w not in COMMON_STEMS]
        if any(df(w) == 0 for w in words):
            return m.group(0)
    return ""


def named_authors(question: str, doc_authors: dict[str, list[str]]) -> list[tuple[str, frozenset[str]]]:
    """« Que disent l'ADEME, Demoustier et le Labo de l'ESS sur… ? »: the authors the question
    names, each with the documents they signed (`doc_authors`: doc_id -> authors, the asker's
    documents only), in the order the question names them. An author is named by a word of their
    own (« Demoustier », « Labo »), or by their whole name when it is a corpus-wide one (« ADEME »);
    co-authors of the same documents count once."""
    asked = set(name_terms(question.replace("’", "'")))
    where: dict[str, int] = {}
    folded = fold(question.lower())
    by_docs: dict[frozenset[str], str] = {}
    for author in sorted({a for authors in doc_authors.values() for a in authors}):
        terms = name_terms(author)
        own = {t for t in terms if t not in COMMON_STEMS} or set(terms)
        if not own & asked:
            continue
        docs = frozenset(d for d, authors in doc_authors.items() if author in authors)
        if docs in by_docs:
            continue
        by_docs[docs] = author
        where[author] = min((folded.find(fold(w.lower())) for w in re.findall(r"[\w'-]+", author)
                             if fold(w.lower()) in folded and len(w) > 3), default=len(folded))
    return sorted(((a, d) for d, a in by_docs.items()), key=lambda ad: where[ad[0]])
