"""The welcome screen's entry points: (title, icon, starter questions).

The questions live in assistant/suggestions.py: a refusal also offers them.

Each question is answered from public documents of the shipped corpus (checked by
tests/test_ui_apptest.py), so a visitor who is not signed in gets a cited answer.
"""

from assistant.suggestions import STARTERS

ICONS = {
    "Je veux créer un PTCE": ":material/rocket_launch:",
    "Je suis agent d'une collectivité": ":material/account_balance:",
    "J'accompagne des projets": ":material/handshake:",
}
ENTRY_POINTS: list[tuple[str, str, list[str]]] = [(title, ICONS[title], qs) for title, qs in STARTERS.items()]
