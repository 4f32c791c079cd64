"""Errors a user can meet. Each message is one French line that says what to do.

The CLI and the UI catch `CoopterError` and print its message; anything else is a bug.
"""


class CoopterError(Exception):
    """Base class: a problem the user can fix."""


class ConfigError(CoopterError):
    """A setting is invalid."""


class CorpusError(CoopterError):
    """A corpus file cannot be ingested (bad format, metadata, encoding...)."""

    def __init__(self, path: str, reason: str):
        self.path = path
        self.reason = reason
        super().__init__(f"{path} : {reason}")


class StoreMissingError(CoopterError):
    """No index where one was expected."""


class StoreMismatchError(CoopterError):
    """The index was built with another embedder."""


class BackendError(CoopterError):
    """An answer backend (LLM server, local model) is unavailable."""


class AccessError(CoopterError):
    """An unknown role or access level."""


class QuestionError(CoopterError):
    """A question that cannot be asked as written (too long)."""
