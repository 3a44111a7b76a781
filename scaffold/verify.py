"""Proving a generated file works: import it, build, train, save and load each model in it.

This is the one module that imports keras (and through it tensorflow), and only when a
check runs. How to feed a model comes from the ``[check]`` table of its kind's metadata:
``features`` (the width of one example) and ``condition`` (whether the model takes
``(features, condition)``).
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from scaffold.errors import ScaffoldError
from scaffold.kinds import InputSpec

STAGES = ("import", "build", "train", "save/load")


@dataclass(frozen=True)
class Outcome:
    """How far one class got: the stage it failed at (or "ok") and why."""

    name: str
    stage: str
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.stage == "ok"


def _describe(exc: BaseException) -> str:
    """``Type: first line of the message``: one line per failure in the report."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def _keras():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        import keras
        import numpy as np
    except ImportError as exc:
        raise ScaffoldError(
            f"checking models needs keras and tensorflow ({exc.name} is missing): "
            "pip install 'kscaffold[keras]'"
        ) from None
    return keras, np


def import_file(path: Path):
    """Import the file at ``path`` as a new module with a unique name."""
    name = f"_kscaffold_{path.stem}_{uuid.uuid4().hex[:8]}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _missing_config_keys(cls, model) -> list[str]:
    """Constructor arguments that get_config() does not record (lost on load)."""
    parameters = inspect.signature(cls.__init__).parameters.values()
    wanted = [
        p.name
        for p in parameters
        if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    config = model.get_config()
    return [name for name in wanted if name not in config]


def _data(np, spec: InputSpec, n: int = 256):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, spec.features)).astype("float32")
    if spec.condition:
        # float 0/1, not bool: bool inputs break fit under tf.distribute.
        return (x, (rng.random(n) < 0.5).astype("float32"))
    return x


def check_class(cls, spec: InputSpec) -> Outcome:
    """Build, train and round-trip one keras.Model subclass; stop at the first failure."""
    keras, np = _keras()
    name = cls.__name__
    stage = "build"
    try:
        keras.utils.set_random_seed(0)
        model = cls()
        model.build((None, spec.features))
        if not model.weights:
            return Outcome(name, stage, "build() created no weights")
        stage = "train"
        x = _data(np, spec)
        # A differently seeded copy provides a target the model can certainly learn.
        keras.utils.set_random_seed(1)
        teacher = cls()
        teacher.build((None, spec.features))
        y = np.asarray(teacher.predict(x, verbose=0))
        model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
        history = model.fit(
            x, y, batch_size=32, epochs=5, verbose=0, shuffle=False
        ).history
        losses = history.get("loss")
        if not losses:
            return Outcome(name, stage, "train_step returned no 'loss'")
        if not all(np.isfinite(losses)) or min(losses) <= 0:
            return Outcome(
                name, stage, f"loss is {losses[-1]} (the loss tracker is not updated?)"
            )
        if not losses[-1] < losses[0]:
            return Outcome(
                name, stage, f"loss did not fall: {losses[0]:.4g} -> {losses[-1]:.4g}"
            )
        stage = "save/load"
        missing = _missing_config_keys(cls, model)
        if missing:
            return Outcome(name, stage, f"get_config() lacks {', '.join(missing)}")
        with tempfile.TemporaryDirectory() as folder:
            saved = Path(folder) / "model.keras"
            model.save(saved)
            loaded = keras.saving.load_model(saved)
        before, after = model.predict(x, verbose=0), loaded.predict(x, verbose=0)
        if not np.array_equal(before, after):
            diff = float(np.max(np.abs(before - after)))
            return Outcome(
                name, stage, f"loaded model predicts differently (max diff {diff:.3g})"
            )
    except Exception as exc:  # noqa: BLE001 (a user's model may fail any way)
        return Outcome(name, stage, _describe(exc))
    return Outcome(name, "ok")


def check_file(path: Path, spec: InputSpec) -> list[Outcome]:
    """Check every keras.Model subclass defined in the file at ``path``."""
    keras, _ = _keras()
    try:
        module = import_file(path)
    except Exception as exc:  # noqa: BLE001 (syntax errors, import errors, anything)
        return [Outcome(path.name, "import", _describe(exc))]
    classes = [
        obj
        for obj in vars(module).values()
        if isinstance(obj, type)
        and issubclass(obj, keras.Model)
        and obj.__module__ == module.__name__
    ]
    if not classes:
        return [Outcome(path.name, "import", "defines no keras.Model subclass")]
    return [check_class(cls, spec) for cls in classes]
