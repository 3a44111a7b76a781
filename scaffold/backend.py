"""The Keras backend a generated file is made for, worked out without importing keras."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

from scaffold.errors import UsageError

DEFAULT = "tensorflow"


def default_backend(environ: Mapping[str, str] = os.environ) -> str:
    """The backend Keras itself would use here.

    As Keras decides it: ``KERAS_BACKEND``, else ``backend`` in ``keras.json`` under
    ``$KERAS_HOME`` (else ``~/.keras``, or ``/tmp/.keras`` when the home folder is not
    writable), else TensorFlow. A config file that cannot be read or is not a JSON
    object with a ``backend`` string counts as absent.
    """
    return _keras_choice(environ)[0]


def _keras_choice(environ: Mapping[str, str]) -> tuple[str, str]:
    """Keras's own choice of backend and what made it, for messages."""
    chosen = environ.get("KERAS_BACKEND", "").strip()
    if chosen:
        return chosen, "KERAS_BACKEND"
    home = environ.get("KERAS_HOME")
    if not home:
        base = os.path.expanduser("~")
        if not os.access(base, os.W_OK):
            base = "/tmp"
        home = os.path.join(base, ".keras")
    config_file = os.path.join(home, "keras.json")
    try:
        with open(config_file, encoding="utf-8") as handle:
            config = json.load(handle)
    except (OSError, ValueError):
        return DEFAULT, "the default"
    backend = config.get("backend") if isinstance(config, dict) else None
    if isinstance(backend, str) and backend.strip():
        return backend.strip(), f"{config_file!r}: backend"
    return DEFAULT, "the default"


# The backends kscaffold writes for, in the order help lists them.
BACKENDS = ("tensorflow", "jax", "torch")


def checked(value: str, where: str, hint: str = "") -> str:
    """``value`` if kscaffold writes for that backend, else a UsageError naming it."""
    if value not in BACKENDS:
        raise UsageError(
            f"{where} {value!r} is not a backend kscaffold writes for: expected one of "
            + ", ".join(BACKENDS)
            + hint
        )
    return value


def project_backend(start: Path) -> str | None:
    """``[tool.kscaffold] backend`` of the pyproject.toml nearest ``start``, if set."""
    from scaffold.project import nearest_pyproject, tool_table

    pyproject = nearest_pyproject(start)
    if pyproject is None:
        return None
    value = tool_table(pyproject, "kscaffold").get("backend")
    if value is None:
        return None
    where = f"{str(pyproject)!r}: [tool.kscaffold] backend"
    if not isinstance(value, str):
        raise UsageError(f"{where} must be a string, not {value!r}")
    return checked(value, where)


def choose_backend(
    given: str | None, start: Path, environ: Mapping[str, str] = os.environ
) -> str:
    """The backend a new file is written for: ``--backend``, else the project's
    ``[tool.kscaffold] backend``, else what Keras itself would use here."""
    if given is not None:
        return checked(given, "--backend")
    from_project = project_backend(start)
    if from_project is not None:
        return from_project
    chosen, where = _keras_choice(environ)
    return checked(chosen, where, " (or give --backend)")
