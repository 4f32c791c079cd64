"""The documents page: what the user's role may read, filtered by type and theme."""

import streamlit as st

from assistant.schema import ACCESS_LABELS_FR
from ui import components, session

settings = session.settings()
role = session.role()

st.set_page_config(layout="wide")  # tables need the room
st.title("Documents")
bot = session.assistant(settings)
if bot is None:
    st.stop()

docs = bot.documents(role)
types = sorted({d.type for d in docs})
themes = sorted({t for d in docs for t in d.themes})
left, right = st.columns(2)
chosen_types = left.multiselect("Type", types, format_func=components.type_label, placeholder="Tous les types")
chosen_themes = right.multiselect("Thème", themes, placeholder="Tous les thèmes")
shown = [
    d
    for d in docs
    if (not chosen_types or d.type in chosen_types) and (not chosen_themes or set(d.themes) & set(chosen_themes))
]

st.caption(f"{len(shown)} document(s) accessible(s) avec votre profil")
st.dataframe(
    [
        {
            "Titre": d.title,
            "Type": components.type_label(d.type),
            "Date": d.date,
            "Accès": ACCESS_LABELS_FR.get(d.access, d.access),
            "Thèmes": ", ".join(d.themes),
        }
        for d in shown
    ],
    hide_index=True,
    width="stretch",
)

doc = st.selectbox(
    "Lire un document",
    shown,
    index=None,
    format_func=lambda d: d.title,
    placeholder="Choisir un document…",
)
if doc is not None:
    st.subheader(doc.title)
    st.markdown(components.meta_line(doc.type, doc.access, doc.date))
    components.source_link(doc.source, key=f"doc-src-{doc.doc_id}")
    components.document_text(bot.document_text(doc.doc_id, role))
