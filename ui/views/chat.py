"""The chat page: welcome screen, history, then each answer in three steps: « Recherche dans les
documents… », the documents found with the elapsed time as soon as retrieval ends, then the answer
text with its source cards.

The page is drawn before the models are loaded (they load in the background, ui.session): a
question asked meanwhile waits under a progress message.
"""

import time

import streamlit as st

from assistant.errors import CoopterError
from ui import components, session

settings = session.settings()
role = session.role()  # re-checked against the users file at the start of this run (app.py)


def seconds(s: float) -> str:
    """« 0,4 s »: elapsed time in French."""
    return f"{s:.1f} s".replace(".", ",")


def found_line(passages, elapsed: float) -> str:
    """What retrieval found, and how long it took."""
    if not passages:
        return f"Aucun passage trouvé en {seconds(elapsed)}."
    docs = len({p.doc_id for p in passages})
    return f"{len(passages)} passage(s) trouvé(s) dans {docs} document(s) en {seconds(elapsed)} · rédaction de la réponse…"


def consulted(passages) -> None:
    """The documents retrieval found (the role's own passages only), shown before the answer."""
    seen = {}
    for p in passages:
        seen.setdefault(p.doc_id, p)
    st.caption("Documents consultés")
    for p in seen.values():
        st.markdown(f"- {components.md_escape(p.title)} · {components.access_badge(p.access)}")


def timing_caption(msg: dict) -> None:
    timing = msg.get("timing")
    if timing:
        st.caption(f"Recherche : {seconds(timing['search'])} · réponse complète : {seconds(timing['total'])}")


head, action = st.columns([3, 2], vertical_alignment="center")
head.title("Assistant COOP'TER")
action.button("Nouvelle conversation", icon=":material/add_comment:", on_click=session.new_conversation, width="stretch")
st.caption("Les connaissances du programme COOP'TER (ADEME) sur la coopération économique territoriale.")

question = st.chat_input("Posez votre question sur la coopération territoriale…")
question = question or session.take_pending()
history = session.messages()

if not history and not question:
    components.welcome()

for msg in history:
    with st.chat_message(msg["kind"]):
        if msg["kind"] == "user":
            st.markdown(components.md_escape(msg["text"]))
        else:
            timing_caption(msg)
            components.assistant_message(msg, settings.feedback_db)

if question:
    with st.chat_message("user"):
        st.markdown(components.md_escape(question))

bot = session.assistant(settings)  # at once when loaded; until then a progress message
if bot is None:
    st.stop()

if question:
    session.add_message("user", question)
    with st.chat_message("assistant"):
        status, box, sources = st.empty(), st.empty(), st.empty()
        status.markdown("_Recherche dans les documents…_")
        started, clock = time.monotonic(), {"search": 0.0}

        def on_retrieved(passages, _timings) -> None:
            clock["search"] = time.monotonic() - started
            status.caption(found_line(passages, clock["search"]))
            if passages:
                with sources.container():
                    consulted(passages)

        streamed, answer = "", None
        try:
            with session.answering():  # the background warm-up waits meanwhile
                for piece in bot.stream(question, role=role, conversation=session.conversation(), on_retrieved=on_retrieved):
                    if isinstance(piece, str):
                        streamed += piece
                        box.markdown(components.answer_markdown(streamed) + " ▌")
                    else:
                        answer = piece
        except CoopterError as exc:
            status.empty()
            box.error(f"Impossible de répondre : {exc}")
        if answer is not None:
            msg = session.add_message("assistant", answer.answer, answer)
            msg["timing"] = {"search": clock["search"], "total": time.monotonic() - started}
            with status.container():
                timing_caption(msg)
            box.markdown(components.answer_markdown(components.refusal_markdown(answer.answer)))
            with sources.container():
                components.answer_sources(answer, msg["id"])
                components.feedback(msg, settings.feedback_db)
