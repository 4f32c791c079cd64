"""The Streamlit web app: `streamlit run ui/app.py` (or `coopter ui`).

It only renders what `assistant/` returns for the signed-in user's role. `ui.auth` (accounts)
and `ui.feedback` (answer ratings) do not import Streamlit, so the CLI can use them.
"""
