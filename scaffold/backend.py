"""The Keras backend a generated file is made for, worked out without importing keras."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

DEFAULT = "tensorflow"


def default_backend(environ: Mapping[str, str] = os.environ) -> str:
    """The backend Keras itself would use here.

    As Keras decides it: ``KERAS_BACKEND``, else ``backend`` in ``keras.json`` under
    ``$KERAS_HOME`` (else ``~/.keras``, or ``/tmp/.keras`` when the home folder is not
    writable), else TensorFlow. A config file that cannot be read or is not a JSON
    object with a ``backend`` string counts as absent.
    """
    chosen = environ.get("KERAS_BACKEND", "").strip()
    if chosen:
        return chosen
    home = environ.get("KERAS_HOME")
    if not home:
        base = os.path.expanduser("~")
        if not os.access(base, os.W_OK):
            base = "/tmp"
        home = os.path.join(base, ".keras")
    try:
        with open(os.path.join(home, "keras.json"), encoding="utf-8") as handle:
            config = json.load(handle)
    except (OSError, ValueError):
        return DEFAULT
    backend = config.get("backend") if isinstance(config, dict) else None
    return backend.strip() if isinstance(backend, str) and backend.strip() else DEFAULT
