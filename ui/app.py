"""Entry point of the web app: `streamlit run ui/app.py` (or `coopter ui`).

Every run starts by re-checking who is signed in (ui.session.resolve_role); the navigation
then lists only the pages that role may open: the administration page exists for staff only.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run ui/app.py` from a checkout that is not installed
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from ui import components, session  # noqa: E402

# An emoji favicon is drawn by the browser (a data: URL); a :material/…: one is fetched from
# fonts.gstatic.com, which an offline deployment cannot reach.
st.set_page_config(page_title="Assistant COOP'TER", page_icon="🤝", layout="centered")
st.markdown(components.CSS, unsafe_allow_html=True)

settings = session.settings()
session.start_loading(settings)  # models load in the background while the page is drawn
role = session.resolve_role(settings)

pages = [
    st.Page("views/chat.py", title="Assistant", icon=":material/forum:", default=True),
    st.Page("views/documents.py", title="Documents", icon=":material/library_books:"),
]
if role == "staff":
    pages.append(st.Page("views/admin.py", title="Administration", icon=":material/admin_panel_settings:"))
page = st.navigation(pages)
components.account_panel(settings, role)
page.run()
