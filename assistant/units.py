"""Passages read as answer units: sentences, list items, and the line that introduces a list.

`parse_passage` splits a passage's text into units (a sentence cut by the chunker, a dangling
connector or a bare label is marked so that it never answers on its own); `SentenceCache` keeps
each unit's vector, computed once per chunk, so that a warm answer only scores.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from ingest.references import KIND_REFERENCES, is_reference, is_reference_section

from .lexical import analyze
from .schema import Passage

SENTENCE_RE = re.compile(r"(?<=[.!?…»])\s+(?=[«A-ZÀ-ÖØ-Þ0-9])")
ITEM_RE = re.compile(r"^\s*(?:[-•▶*]|\d+[.)])\s+")
# A line that ends the text it introduces: « … suivants : », « … notamment sur : ».
OPENS_RE = re.compile(r"[:：]\s*$")
# Softer announcements: the content follows in the next sentences.
ANNOUNCE_RE = re.compile(
    r"(différent(e)?s \w+|diverses? \w+|plusieurs \w+|suivant(e)?s|ci-dessous|comme suit|s'ajoutent|"
    # « ces trois aspects » points back at what was said, it announces nothing.
    r"(?<!\bces )\b(deux|trois|quatre|cinq|six|sept|huit|neuf|dix|\d+) (grand(e)?s |principa(les|ux) )?\w+s\b)[^.]{0,40}[.:]?$"
    r"|s'ajoutent|s’ajoutent|\bde (nombreu(x|ses)|multiples) \w+"
    # « … tient à sa double portée. » announces both; « D'une part, … » announces « D'autre part ».
    r"|\b(double|triple)\b|^d['’]une part\b",
    re.I,
)


# A sentence that cannot be read without the one before it (« Ces deux paramètres induisent… »,
# « Le premier est centré sur l'ÉFC. »): that one comes first.
NEEDS_ANTECEDENT_RE = re.compile(
    r"^(ces (deux|trois|quatre|cinq|six|derni[eè]res?|derniers)\b|ce dernier|cette derni[eè]re|"
    # an ordinal standing alone as the subject (« Le premier est… »), not « Le troisième pilier… »
    r"(le|la) (premi[eè]re?|second|seconde|deuxi[eè]me|troisi[eè]me)(\s+(est|a|correspond|concerne|vise|porte|"
    r"consiste|permet|se|s['’])\w*|\s*,)|celui-ci|celle-ci|ceux-ci|celles-ci|"
    r"cela\b|ceci\b|l['’]une? d['’](eux|elles|entre eux|entre elles)\b|"
    # « C'est par exemple le cas des PTCE… »: the case of what the sentence before says
    r"c['’]est (par exemple |notamment |aussi |également )?le cas\b)", re.I)
DANGLING_RE = re.compile(r"^(ou|et|mais|donc|car|puis|dont|qui|que|qu'|où|soit|ni|or)\b", re.I)
# « Ceux que l'exemple strasbourgeois illustre… sont : »: a pronoun for what the sentence before
# named (the levers); as the label of a list it names nothing.
PRONOUN_SUBJECT_RE = re.compile(r"^(ceux|celles?|celui|elles?|ils)\b", re.I)


@dataclass
class Unit:
    """One answer unit: a sentence, a list item, or the line that introduces a list."""

    pi: int  # passage index
    pos: int  # order inside the passage
    text: str
    kind: str  # "sentence" | "item" | "intro"
    block: int  # paragraph or list it belongs to
    fragment: bool = False  # starts mid-sentence: never an answer on its own
    announces: bool = False
    terms: set[str] = field(default_factory=set)


def _sentences(line: str) -> list[str]:
    return [s.strip() for s in SENTENCE_RE.split(line) if s.strip()]


# A sentence whose final period the source dropped (« Le troisième pilier s'adresse aux acteurs
# externes ») is not a heading: subject first, then a verb.
UNPUNCTUATED_SENTENCE_RE = re.compile(
    r"^(le|la|les|l['’]|un|une|des|ce|cette|ces|il|elle|ils|elles|on|nous|leur|leurs|son|sa|ses)\s*.{0,80}?"
    r"\b(s['’]\w+|est|sont|a|ont|peut|peuvent|doit|doivent|permet|permettent|vise|visent|reste|restent)\b",
    re.I,
)


def _is_label(line: str) -> bool:
    """A line with no final punctuation that is short or made of « — »-separated parts: a
    heading, a link title, a date line, a publication's masthead."""
    if re.search(r"[.!?…»:;)]$", line):
        return False
    if UNPUNCTUATED_SENTENCE_RE.match(line) or ADDRESS_SENTENCE_RE.search(line):
        return False
    return len(line.split()) < 12 or len(re.findall(r"\s[—–]\s", line)) >= 2


# « Pour rejoindre le réseau, rendez-vous sur www.rtes.fr »: a clause, then where to go (an address
# the line ends with) is a sentence without its final period, not a heading.
ADDRESS_SENTENCE_RE = re.compile(r"^\w[^—–]{3,80},\s+.{3,60}\b(www\.\S+|https?://\S+|\S+@\S+\.\w+)$", re.I)


def _split_items(lines) -> list[str]:
    """A list item that goes on into a sentence announcing what follows (« … du territoire. Ces
    PTCE doivent relever de nombreux défis, car… », the text extractor glued the next paragraph to
    the last item) ends before that sentence, which becomes a paragraph of its own."""
    out: list[str] = []
    for line in lines:
        if ITEM_RE.match(line):
            sents = _sentences(ITEM_RE.sub("", line))
            k = next((k for k in range(1, len(sents)) if ANNOUNCE_RE.search(sents[k]) or OPENS_RE.search(sents[k])), 0)
            if k:
                out += [line[: len(line) - len(" ".join(sents[k:]))].rstrip(), " ".join(sents[k:])]
                continue
        out.append(line)
    return out


def parse_passage(text: str, section: str = "", continues: bool = False,
                  references: bool = False) -> list[tuple[str, str, int, bool]]:
    """(text, kind, block, fragment) units of a passage, in reading order.

    `continues`: the passage is not its document's first chunk, so a first line that starts in
    lower case or with a connector is the tail of a sentence cut by the splitter. A list made
    mostly of references (titles of resources, bibliography) is left out whole; a line that says
    where to go (« Pour rejoindre le réseau, rendez-vous sur www.rtes.fr ») is kept. With
    `references` (the question asks for a resource: « quelle lecture conseillée ? »), reference lines
    and sections are content like the rest.
    """
    if is_reference_section(section) and not references:
        return []
    lines = _split_items(ln.strip() for ln in text.splitlines() if ln.strip())
    is_item = [bool(ITEM_RE.match(ln)) for ln in lines]
    skip = [is_reference(ln) and not ADDRESS_SENTENCE_RE.search(ln) and not references for ln in lines]
    i = 0
    while i < len(lines):  # a run of items that is mostly references goes whole
        if is_item[i]:
            j = i
            while j < len(lines) and is_item[j]:
                j += 1
            if 2 * sum(skip[i:j]) >= j - i:
                skip[i:j] = [True] * (j - i)
            i = j
        else:
            i += 1
    out: list[tuple[str, str, int, bool]] = []
    block = 0
    for i, line in enumerate(lines):
        if skip[i]:
            continue
        body = ITEM_RE.sub("", line).strip()
        if is_item[i]:
            if out and out[-1][1] != "item" and i > 0 and not is_item[i - 1]:
                block += 1
                if (OPENS_RE.search(out[-1][0]) or not re.search(r"[.!?…»]$", out[-1][0])
                        or (out[-1][1] == "sentence" and ANNOUNCE_RE.search(out[-1][0]))):
                    t, _, b, frag = out[-1]
                    out[-1] = (t, "intro", block, frag)
            out.append((body.rstrip(" ;,"), "item", block, False))
            continue
        if _is_label(line) and not (i + 1 < len(lines) and is_item[i + 1]):
            continue
        block += 1
        for j, sent in enumerate(_sentences(body)):
            frag = (i == 0 and j == 0 and continues and (sent[:1].islower() or bool(DANGLING_RE.match(sent))))
            # « … en utilisant les atouts de l'action couplée à la recherche. » ends the sentence
            # that opened the list above it: a tail, wherever it stands.
            frag = frag or sent.startswith(("…", "..."))
            out.append((sent, "sentence", block, frag))
    return out


# A list item that opens on its own subject (« Il s'agit de… », « C'est… ») needs no introduction.
READS_ALONE_RE = re.compile(r"^(il|elle|ils|elles|on|nous|c['’]est|ce sont)\b", re.I)
# A word that opens an item with no main clause and is written in lower case after a colon:
# a determiner, or an infinitive (« Adapter les modes de contractualisation… »).
LOWER_AFTER_COLON_RE = re.compile(r"^(l['’]|(le|la|les|un|une|des|du|de|d['’]|[a-zà-ÿ-]+(er|ir|re))\b)", re.I)


def item_context(text: str, section: str, item: str) -> str:
    """What introduces a list item said alone, so that it does not read as a fragment (see
    `list_label`); "" when the item reads alone (a subject, then a verb)."""
    item = item.strip().rstrip(" .;,")
    if UNPUNCTUATED_SENTENCE_RE.match(item) or READS_ALONE_RE.match(item) or is_reference(item):
        return ""
    return list_label(text, section, item)


def section_heading(section: str) -> str:
    """The last heading of a section path, without its numbering, « (suite) » or final colon
    (« 3. Les leviers des collectivités (suite) » → « Les leviers des collectivités »)."""
    return re.sub(r"^\d+[.)]\s*|\s*\(suite\)$", "", section.split(" > ")[-1]).strip().rstrip(" :.")


def list_label(text: str, section: str, item: str, questions: bool = False) -> str:
    """What introduces a list item in its passage: the line that opens its list (« Les
    collectivités peuvent : »), else the passage's section heading (« Les leviers des collectivités
    pour soutenir les coopérations »), without numbering or final colon; "" when neither reads as
    a label. A heading that asks (« Collectivités, pourquoi soutenir les coopérations ? ») is one
    only with `questions` (it heads a list on its own line; it cannot open an item's sentence)."""
    item = item.strip().rstrip(" .;,")
    units = parse_passage(text, section, references=True)
    for k, (t, kind, block, _) in enumerate(units):
        if kind == "item" and t.rstrip(" .;,") == item:
            j = k
            while j >= 0 and units[j][1] == "item":
                j -= 1
            intro = units[j][0] if j >= 0 and units[j][1] == "intro" and units[j][2] == block else ""
            # the tail of a sentence cut by the chunker (« ou dans des structures… ») introduces nothing
            if intro[:1].isupper() and not DANGLING_RE.match(intro) and not re.search(r"[;,]$", intro) \
                    and len(intro.split()) <= 35 and not PRONOUN_SUBJECT_RE.match(intro):
                return intro.rstrip(" :.")
            break
    heading = section_heading(section)
    if heading and (questions or not heading.endswith("?")) and len(heading.split()) <= 15:
        return heading
    return ""


def after_colon(item: str) -> str:
    """The item as it reads after « … : »: a determiner or an infinitive in lower case, a name as
    written."""
    return item[:1].lower() + item[1:] if LOWER_AFTER_COLON_RE.match(item) else item


def read_units(passages: list[Passage], references: bool = False) -> list[Unit]:
    units: list[Unit] = []
    for pi, p in enumerate(passages):
        if p.meta.get("kind") == KIND_REFERENCES and not references:  # searchable, not content
            continue
        continues = int(p.meta.get("position", 0) or 0) > 0
        for pos, (text, kind, block, frag) in enumerate(parse_passage(p.text, p.section, continues, references)):
            if kind != "item" and (len(text) < 25 or not re.search(r"\w{3,}", text)):
                continue
            if kind == "sentence" and text.endswith("?"):
                continue  # the source's own question (a heading, a rhetorical question) answers nothing
            if kind == "item" and len(text) < 4:
                continue
            u = Unit(pi, pos, text, kind, block, fragment=frag)
            u.announces = bool(OPENS_RE.search(text) or (kind == "sentence" and ANNOUNCE_RE.search(text)))
            u.terms = set(analyze(text))
            units.append(u)
    return units


class SentenceCache:
    """Unit vectors per chunk id, computed once per process (bounded, least recently used out)."""

    def __init__(self, embedder, max_chunks: int = 20000):
        self.embedder = embedder
        self.max_chunks = max_chunks
        self._vecs: OrderedDict[str, dict[str, np.ndarray]] = OrderedDict()

    def vectors(self, passages: list[Passage], units: list[Unit]) -> np.ndarray:
        """One vector per unit, in order; only units never seen before are embedded."""
        missing: list[tuple[str, str]] = []
        for u in units:
            cid = passages[u.pi].chunk_id
            if u.text not in self._vecs.get(cid, {}):
                missing.append((cid, u.text))
        if missing:
            texts = list(dict.fromkeys(t for _, t in missing))
            vecs = dict(zip(texts, np.asarray(self.embedder.embed_passages(texts), dtype=np.float32)))
            for cid, t in missing:
                self._vecs.setdefault(cid, {})[t] = vecs[t]
        out = []
        for u in units:
            cid = passages[u.pi].chunk_id
            self._vecs.move_to_end(cid)
            out.append(self._vecs[cid][u.text])
        while len(self._vecs) > self.max_chunks:
            self._vecs.popitem(last=False)
        return np.vstack(out) if out else np.zeros((0, 1), dtype=np.float32)
