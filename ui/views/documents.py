"""The documents page: what the user's role may read, filtered by type and theme. Clicking a row
of the table (or choosing a title in the list under it) opens the document below: its metadata,
its source and the passages the role may see.

Only `Assistant.documents(role)` is listed and only `Assistant.document_text(doc_id, role)` is
shown, so no title or passage above the role's clearance reaches the page.
"""

import streamlit as st

from assistant.schema import ACCESS_LABELS_FR
from ui import components, session

CHOICE = "doc-choice"  # the open document's id
TABLE = "docs-table"
ROW_HEIGHT = 92  # px: above 4rem the table wraps text; 92 px holds four lines of themes
# Pixel widths that fit a 1280 px screen next to the sidebar (the table stretches them on wider
# ones): the title and the themes get the room, wrapped instead of cut.
WIDTHS = {"Titre": 290, "Type": 80, "Date": 72, "Accès": 80, "Thèmes": 250}

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
by_id = {d.doc_id: d for d in shown}
if st.session_state.get(CHOICE) not in by_id:  # filtered out, or no longer visible to this role
    st.session_state.pop(CHOICE, None)


def open_row(ids: list[str]) -> None:
    """A row was clicked: open its document (`ids` are the rows' documents, in table order)."""
    rows = st.session_state[TABLE].selection.rows
    if rows and rows[0] < len(ids):
        st.session_state[CHOICE] = ids[rows[0]]


ids = [d.doc_id for d in shown]
st.caption(f"{len(shown)} document(s) accessible(s) avec votre profil · cliquez sur une ligne pour l'ouvrir")
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
    height=min(38 + ROW_HEIGHT * max(len(shown), 1), 900),  # every row visible, up to ~9
    row_height=ROW_HEIGHT,
    column_config={name: st.column_config.TextColumn(name, width=w) for name, w in WIDTHS.items()},
    key=TABLE,
    on_select=lambda: open_row(ids),
    selection_mode="single-row",
)

choice = st.selectbox(
    "Lire un document",
    ids,
    key=CHOICE,
    index=None,
    format_func=lambda doc_id: by_id[doc_id].title,
    placeholder="Choisir un document…",
)
if choice is not None:
    doc = by_id[choice]
    st.subheader(doc.title)
    st.markdown(components.meta_line(doc.type, doc.access, doc.date))
    if doc.themes:
        st.caption(f"Thèmes : {components.md_escape(', '.join(doc.themes))}")
    components.source_link(doc.source, key=f"doc-src-{doc.doc_id}")
    components.document_text(bot.document_text(doc.doc_id, role))
