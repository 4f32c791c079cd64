"""The chat page: welcome screen, history, streamed answers with their source cards."""

import streamlit as st

from assistant.errors import CoopterError
from ui import components, session

settings = session.settings()
role = session.role()  # re-checked against the users file at the start of this run (app.py)

head, action = st.columns([3, 2], vertical_alignment="center")
head.title("Assistant COOP'TER")
action.button("Nouvelle conversation", icon=":material/add_comment:", on_click=session.new_conversation, width="stretch")
st.caption("Les connaissances du programme COOP'TER (ADEME) sur la coopération économique territoriale.")

bot = session.assistant(settings)
if bot is None:
    st.stop()

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
            components.assistant_message(msg, settings.feedback_db)

if question:
    session.add_message("user", question)
    with st.chat_message("user"):
        st.markdown(components.md_escape(question))
    with st.chat_message("assistant"):
        box = st.empty()
        box.markdown("_Recherche dans les documents…_")
        streamed, answer = "", None
        try:
            for piece in bot.stream(question, role=role, conversation=session.conversation()):
                if isinstance(piece, str):
                    streamed += piece
                    box.markdown(components.answer_markdown(streamed) + " ▌")
                else:
                    answer = piece
        except CoopterError as exc:
            box.error(f"Impossible de répondre : {exc}")
        if answer is not None:
            msg = session.add_message("assistant", answer.answer, answer)
            box.markdown(components.answer_markdown(answer.answer))
            components.answer_sources(answer, msg["id"])
            components.feedback(msg, settings.feedback_db)
