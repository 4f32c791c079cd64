"""Staff-only page: index status and re-indexing, users' feedback (table, CSV export)."""

import streamlit as st

from assistant.errors import CoopterError
from assistant.schema import ACCESS_LABELS_FR
from ui import session
from ui.feedback import FeedbackStore

settings = session.settings()
if session.role() != "staff":  # app.py does not even register this page for other roles
    st.error("Page réservée à l'équipe COOP'TER.")
    st.stop()

st.set_page_config(layout="wide")  # tables need the room
st.title("Administration")

st.subheader("Index documentaire")
bot = session.assistant(settings)
if st.button("Réindexer le corpus", icon=":material/sync:"):
    from ingest import run

    try:
        with st.spinner("Indexation du corpus en cours…"):
            report = run(settings, embedder=bot.embedder if bot is not None else None)
    except CoopterError as exc:
        st.error(f"Réindexation impossible : {exc}")
    else:
        st.success(f"Corpus réindexé : {report.summary_fr()}")
        for skipped in report.skipped:
            st.warning(f"Fichier ignoré : {skipped}")
        if bot is not None:
            bot.reload()
        else:
            session.forget_assistant()
            bot = session.assistant(settings)
if bot is not None:
    status = bot.status()
    docs, chunks = st.columns(2)
    docs.metric("Documents", status["documents"])
    chunks.metric("Passages", status["chunks"])
    last = status["last_ingest"].replace("T", " à ") or "inconnue"
    st.caption(f"Dernière indexation : {last} · modèle : {status['embedder']} · base : {status['store']}")

st.subheader("Avis des utilisateurs")
store = FeedbackStore(settings.feedback_db)
rows = store.rows()
if not rows:
    st.info("Aucun avis pour l'instant.")
else:
    up = sum(r["rating"] == 1 for r in rows)
    st.caption(f"{len(rows)} avis : {up} positif(s), {len(rows) - up} négatif(s)")
    st.dataframe(
        [
            {
                "Date (UTC)": r["created_at"][:16].replace("T", " "),
                "Profil": ACCESS_LABELS_FR.get(r["role"], r["role"]),
                "Avis": "Positif" if r["rating"] == 1 else "Négatif",
                "Question": r["question"],
                "Commentaire": r["comment"],
                "Réponse": r["answer"],
                "Passages cités": " ".join(r["cited_chunk_ids"]),
            }
            for r in rows
        ],
        hide_index=True,
        width="stretch",
    )
    st.download_button(
        "Exporter en CSV",
        store.to_csv().encode("utf-8-sig"),
        file_name="avis-coopter.csv",
        mime="text/csv",
        icon=":material/download:",
    )
