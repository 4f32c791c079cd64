"""coopter-assistant: French answers, with citations, over the COOP'TER corpus.

    from assistant import Assistant, load_settings
    bot = Assistant(load_settings())
    print(bot.ask("Qu'est-ce qu'un PTCE ?", role="public").answer)

Heavy libraries load on first use, so importing this package is instant.
"""

from typing import TYPE_CHECKING

__all__ = ["Assistant", "Conversation", "Filters", "Settings", "load_settings"]

if TYPE_CHECKING:  # pragma: no cover
    from .conversation import Conversation
    from .engine import Assistant
    from .retrieval import Filters
    from .settings import Settings, load_settings


def __getattr__(name):
    if name == "Assistant":
        from .engine import Assistant

        return Assistant
    if name == "Conversation":
        from .conversation import Conversation

        return Conversation
    if name == "Filters":
        from .retrieval import Filters

        return Filters
    if name in ("Settings", "load_settings"):
        from . import settings

        return getattr(settings, name)
    raise AttributeError(name)
