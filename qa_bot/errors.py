"""Domain errors. The CLI turns them into one-line messages, the UI into gr.Error."""


class QaBotError(Exception):
    """Base class for errors a user should see as a plain message."""


class BadFileError(QaBotError):
    """A document that cannot be ingested; the message is the reason."""


class IndexMismatchError(QaBotError):
    """The index was built with a different embedder or chunking than configured."""


class ModelIntegrityError(QaBotError):
    """A model file is missing or its checksum does not match."""


class BadQuestionError(QaBotError):
    """An empty or otherwise unusable question."""


class BackendError(QaBotError):
    """An LLM or store backend failed or is misconfigured."""


class EmptyIndexError(QaBotError):
    """A question asked of an index with nothing in it: never answered with a refusal."""
