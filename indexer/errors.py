"""Error types; the service maps each to an HTTP status, the CLI to one printed line."""


class PlanqaError(Exception):
    """Base of every error planqa raises on purpose."""


class CorpusError(PlanqaError):
    """The corpus or its manifest is malformed."""


class IndexError_(PlanqaError):
    """The index is missing, corrupt or built for another corpus or model."""


class ModelError(PlanqaError):
    """The embedding model cannot be loaded."""


class InvalidRequest(PlanqaError):
    """A caller asked for something that does not exist (unknown doc id, mode, county...)."""

    def __init__(self, message: str, allowed: list[str] | None = None) -> None:
        super().__init__(message)
        self.allowed = allowed or []


class NotFound(InvalidRequest):
    """A named resource (passage, document, county, sector) is not known."""


class BuildError(IndexError_):
    """An index build could not finish (no space left, ...); the live index is unchanged."""
