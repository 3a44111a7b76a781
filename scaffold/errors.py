"""The project's error types; each carries the exit status the CLI returns for it."""


class ScaffoldError(Exception):
    """Root of every error kscaffold reports to the user as a one-line message."""

    exit_code = 1


class UsageError(ScaffoldError):
    """A value the user typed was rejected (unknown kind, bad name, out-of-range option)."""

    exit_code = 2


class TargetExistsError(ScaffoldError):
    """A file kscaffold would write already exists and ``--force`` was not given."""


class WriteError(ScaffoldError):
    """The destination could not be written (permissions, a file where a folder belongs)."""


class TemplateError(ScaffoldError):
    """A template or its metadata is broken; the message names the file and line."""


class CheckFailedError(ScaffoldError):
    """A generated model failed its check; ``details`` holds the check's table."""

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.details = details


class ManifestError(ScaffoldError):
    """The manifest or a recorded base text cannot be read, or lacks what is needed."""


class ConflictError(ScaffoldError):
    """Work left to the user: conflicts marked by ``update``, files it could not find,
    edited files ``destroy`` kept."""
