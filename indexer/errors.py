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


class DocumentRejected(InvalidRequest):
    """An uploaded file cannot become a document (the detail says why)."""


class UnsupportedFormat(DocumentRejected):
    """The file is not one of the accepted formats, by name or by content."""


class DocumentTooLarge(DocumentRejected):
    """The file is over the configured size limit."""


class EmptyDocument(DocumentRejected):
    """The file holds no text."""


class NoTextLayer(EmptyDocument):
    """A PDF whose pages are images: there is no text to index without OCR."""


class UnsafeArchive(DocumentRejected):
    """A DOCX whose zip members would expand far beyond a real document (a zip bomb)."""


class UnsupportedLanguage(DocumentRejected):
    """The text is neither Chinese nor English."""


class DuplicateDocument(PlanqaError):
    """The same file (same SHA-256) is already in the document store."""

    def __init__(self, message: str, existing_id: str) -> None:
        super().__init__(message)
        self.existing_id = existing_id
        self.allowed = [existing_id]
