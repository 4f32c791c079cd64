"""Rendering helpers: answers with their source cards, feedback, welcome screen, account panel.

Everything shown comes from what the Assistant returned for the session's role; nothing here
queries the store.
"""

from __future__ import annotations

import html
import re

import streamlit as st

from assistant.schema import ACCESS_LABELS_FR

from . import session
from .feedback import FeedbackStore
from .starters import ENTRY_POINTS

TYPE_LABELS = {"note": "Note", "guide": "Guide", "fiche-projet": "Fiche projet", "article": "Article", "page": "Page"}
ACCESS_COLORS = {"public": "green", "community": "blue", "staff": "orange"}
MD_INLINE = re.compile(r"([\\`*_\[\]<>$~|])")
MD_LINE_START = re.compile(r"^(\s*(?:\d+)?)([#>+\-.)])", re.M)  # headings, quotes, lists

CSS = """
<style>
.coopter-passage { font-size: 0.92rem; line-height: 1.5; border-left: 3px solid #d0d7de; padding-left: .75rem; }
.coopter-passage mark { background: #fff3b0; padding: 0 .1rem; border-radius: 2px; }
</style>
"""


def md_escape(text: str) -> str:
    """Text shown literally by st.markdown (no emphasis, links, math or HTML)."""
    return MD_LINE_START.sub(r"\1\\\2", MD_INLINE.sub(r"\\\1", text))


ANSWER_ITEM = re.compile(r"^- (?:\*\*(?P<title>.+?)\*\* — )?(?P<body>.*)$")


def answer_markdown(text: str) -> str:
    """An answer as Markdown: its list items and project-sheet titles kept, the rest literal
    (the passages' own characters never turn into emphasis, links or HTML)."""
    out: list[str] = []
    for line in text.splitlines():
        m = ANSWER_ITEM.match(line)
        if m:
            if out and not out[-1].startswith("- "):
                out.append("")  # a list needs a blank line after a paragraph
            title = f"**{md_escape(m['title'])}** — " if m["title"] else ""
            out.append(f"- {title}{md_escape(m['body'])}")
        else:
            if out and out[-1].startswith("- "):
                out.append("")
            out.append(md_escape(line))
    return "\n".join(out)


def type_label(doc_type: str) -> str:
    return TYPE_LABELS.get(doc_type, doc_type or "Document")


def access_badge(access: str) -> str:
    """Markdown badge of an access level."""
    return f":{ACCESS_COLORS.get(access, 'gray')}-badge[{ACCESS_LABELS_FR.get(access, access)}]"


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def highlight_html(text: str, highlights: list[str]) -> str:
    """The passage as escaped HTML, the sentences used in the answer wrapped in <mark>."""
    spans = []
    for sentence in highlights:
        words = sentence.split()
        if not words:
            continue
        pattern = r"\s+".join(re.escape(w) for w in words)  # tolerate re-flowed whitespace
        spans += [m.span() for m in re.finditer(pattern, text)]
    out, pos = [], 0
    for start, end in sorted(spans):
        if start < pos:  # overlapping highlights: keep the first
            continue
        out += [html.escape(text[pos:start]), "<mark>", html.escape(text[start:end]), "</mark>"]
        pos = end
    out.append(html.escape(text[pos:]))
    return "".join(out).replace("$", "&#36;").replace("\n", "<br>")


def meta_line(doc_type: str, access: str, date: str, section: str = "", page: int | None = None, ocr: bool = False) -> str:
    parts = [access_badge(access), md_escape(type_label(doc_type))]
    parts += [md_escape(x) for x in (section, f"p. {page}" if page else "", date) if x]
    if ocr:  # a scanned page read by OCR may hold misread words: say so where it is cited
        parts.append(":material/document_scanner: texte reconnu par OCR (page scannée)")
    return " · ".join(parts)


def source_link(source: str, key: str) -> None:
    if is_url(source):
        st.link_button("Ouvrir la source", source, icon=":material/open_in_new:", key=key)
    elif source:
        st.caption(f"Source : {md_escape(source)}")


def source_card(citation, key: str) -> None:
    """One cited passage as an expander: where it comes from, the passage, the source."""
    with st.expander(f"\\[{citation.n}\\] {md_escape(citation.title)}"):
        st.markdown(meta_line(citation.type, citation.access, citation.date, citation.section, citation.page,
                              getattr(citation, "ocr", False)))
        st.markdown(
            f"<div class='coopter-passage'>{highlight_html(citation.text, citation.highlights)}</div>",
            unsafe_allow_html=True,
        )
        source_link(citation.source, key=f"src-{key}-{citation.n}")


def strip_overlap(previous: str, text: str, probe: int = 30) -> str:
    """`text` without the opening it repeats from the end of `previous` (chunks overlap)."""
    head = text[:probe]
    start = previous.find(head) if len(head) == probe else -1
    while start != -1:
        tail = previous[start:]
        if text.startswith(tail):
            return text[len(tail):].lstrip()
        start = previous.find(head, start + 1)
    return text


def document_text(passages) -> None:
    """A document's visible passages in order, under their section headings and page numbers."""
    if not passages:
        st.info("Aucun passage de ce document n'est accessible avec votre profil.")
        return
    section, page, previous = None, None, ""
    for p in passages:
        if p.section != section:
            section, previous = p.section, ""
            if section:
                st.markdown(f"#### {md_escape(section)}")
        if p.page and p.page != page:
            page, previous = p.page, ""
            st.caption(f"Page {p.page}")
        text = strip_overlap(previous, p.text)
        previous = p.text
        if text:
            st.markdown(text.replace("$", "\\$"))


def answer_sources(answer, key: str) -> None:
    if answer.citations:
        st.caption("Sources")
        for citation in answer.citations:
            source_card(citation, key)
    suggestions(answer, key)


SUGGESTIONS_HEADING = "\n\nQuestions auxquelles je sais répondre :"


def refusal_markdown(text: str) -> str:
    """A refusal's text without its list of questions (the app shows them as buttons)."""
    head, _, tail = text.partition(SUGGESTIONS_HEADING)
    if not tail:
        return text
    rest = tail.split("\n\n", 1)
    return head + ("\n\n" + rest[1] if len(rest) > 1 else "")


def suggestions(answer, key: str) -> None:
    """Questions a refusal suggests, as buttons that ask them."""
    if not getattr(answer, "suggestions", None):
        return
    st.caption("Questions auxquelles je sais répondre")
    for i, question in enumerate(answer.suggestions):
        st.button(question, key=f"suggest-{key}-{i}", on_click=session.ask_later, args=(question,),
                  type="tertiary", icon=":material/help:")


def _on_rating(msg: dict, db_path) -> None:
    store = FeedbackStore(db_path)
    value = st.session_state.get(f"rating-{msg['id']}")
    row_id = msg.get("feedback_id")
    if value is None:
        if row_id:
            store.delete(row_id)
        msg["feedback_id"] = None
    elif row_id:
        store.update(row_id, rating=value)
    else:
        answer = msg["answer"]
        msg["feedback_id"] = store.add(
            role=msg["asked_as"],
            question=answer.question,
            answer=answer.answer,
            chunk_ids=[c.chunk_id for c in answer.citations],
            rating=value,
        )


def feedback(msg: dict, db_path) -> None:
    """👍/👎 stored as soon as clicked, then an optional comment."""
    st.feedback("thumbs", key=f"rating-{msg['id']}", on_change=_on_rating, args=(msg, db_path))
    if not msg.get("feedback_id"):
        return
    if msg.get("commented"):
        st.caption("Merci pour votre avis !")
        return
    with st.form(f"comment-{msg['id']}", border=False):
        comment = st.text_input("Un commentaire ? (facultatif)", placeholder="Ce qui manque, ce qui est faux…")
        if st.form_submit_button("Envoyer le commentaire"):
            FeedbackStore(db_path).update(msg["feedback_id"], comment=comment)
            msg["commented"] = True
            st.caption("Merci pour votre avis !")


def assistant_message(msg: dict, db_path) -> None:
    """A past answer: text, source cards, feedback."""
    st.markdown(answer_markdown(refusal_markdown(msg["text"])))
    answer = msg["answer"]
    if answer is not None:
        answer_sources(answer, msg["id"])
        feedback(msg, db_path)


def welcome() -> None:
    """Three entry points, each with starter questions; a click asks the question."""
    st.markdown(
        "Posez une question sur la coopération économique territoriale : PTCE, écosystèmes "
        "coopératifs, ESS, rôle des collectivités. Chaque réponse cite ses sources."
    )
    for col, (title, icon, questions) in zip(st.columns(len(ENTRY_POINTS)), ENTRY_POINTS):
        with col, st.container(border=True):
            st.markdown(f"**{icon} {title}**")
            for i, question in enumerate(questions):
                st.button(
                    question,
                    key=f"starter-{title}-{i}",
                    on_click=session.ask_later,
                    args=(question,),
                    type="tertiary",
                )


def account_panel(settings, role: str) -> None:
    """Sidebar: who is connected and with which profile; sign in / sign out."""
    with st.sidebar:
        name = session.user_name()
        if session.oidc_enabled():
            if name:
                st.markdown(f"Connecté(e) : **{md_escape(name)}** · profil {access_badge(role)}")
                st.button("Se déconnecter", on_click=st.logout, key="logout")
            else:
                st.markdown(f"Visiteur · profil {access_badge(role)}")
                st.button("Se connecter", on_click=st.login, key="login", type="primary")
            return
        if name:
            st.markdown(f"Connecté(e) : **{md_escape(name)}** · profil {access_badge(role)}")
            st.button("Se déconnecter", on_click=session.sign_out, key="logout")
            return
        st.markdown(f"Visiteur · profil {access_badge(role)}")
        with st.form("sign-in"):
            st.markdown("**Espace membres**")
            user = st.text_input("Identifiant", key="signin-name")
            password = st.text_input("Mot de passe", type="password", key="signin-password")
            if st.form_submit_button("Se connecter"):
                if session.sign_in(settings, user, password):
                    st.rerun()
                st.error("Identifiant ou mot de passe incorrect.")
