"""Proving model code works: import a file, then build, train, save and load each class.

This is the one module that imports keras (and through it tensorflow), and only when a
check runs. It needs no markers in the checked code: how to feed each class is read
from the class itself, and an :class:`~scaffold.kinds.InputSpec` (a kind's ``[check]``
table, or the flags of ``kscaffold check``) overrides what it reads:

- a ``keras.layers.Layer`` that is not a Model is checked inside a functional model;
- a model that overrides ``compile`` is adversarial (a GAN): built with
  ``(None, latent_dim)``, compiled with its own defaults, fit on data of shape
  ``data_shape`` without targets; every log must be finite and one must be a loss;
- a model holding recurrent layers is fed ``(TIMESTEPS, features)`` sequences; with
  stateful ones, batches of its ``batch_size``, unshuffled, states reset to compare;
- a model whose ``call`` takes a second input (``call(x, condition)``) gets 0/1 floats;
- otherwise examples of ``features`` (from the config, else 8) numbers.

Supervised classes are trained on a target a differently seeded copy of the same class
produces, so the target is certainly learnable: the loss must fall.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import inspect
import os
import signal
import sys
import tempfile
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scaffold.errors import ScaffoldError, UsageError
from scaffold.kinds import InputSpec
from scaffold.on_backend import check_each, process_backend

FEATURES = 8  # examples of a model that does not say its width
TIMESTEPS = 16  # sequence length for recurrent models
BATCH_SIZE = 32
BATCHES = 8  # per epoch
EPOCHS = 5
ANY_INPUT = InputSpec()  # nothing overridden: everything read from the class


@dataclass(frozen=True)
class Outcome:
    """How far one class got: the stage it failed at (or "ok", "skipped") and why."""

    name: str
    stage: str
    reason: str = ""
    file: str = ""
    backend: str = ""  # the Keras backend it ran on

    @property
    def ok(self) -> bool:
        return self.stage in ("ok", "skipped")


class CheckFailed(Exception):
    """A class failed a stage for a reason the check states itself."""


@dataclass(frozen=True)
class Feeding:
    """How one class is fed: what the check worked out, or was told."""

    layer: bool  # a Layer checked inside a functional model
    adversarial: bool  # fit(x) without targets, compiled with its own defaults
    shape: tuple[int, ...]  # one example of the data fit sees
    build_shape: tuple[int, ...]  # one example of what call() takes
    condition: bool
    batch_size: int
    stateful: bool


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
    if spec is None:
        raise ImportError(f"{path.name} is not a Python file (.py)")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    with exits_raise():
        spec.loader.exec_module(module)
    return module


# Signals that end a process unless handled; SIGINT (Ctrl-C) still stops the check.
_ENDING = [
    getattr(signal, name)
    for name in ("SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGALRM")
    if hasattr(signal, name)
]


@contextlib.contextmanager
def exits_raise() -> Iterator[None]:
    """While checked code runs, ``os._exit()`` and ending signals raise SystemExit:
    the check reports them as a failure instead of ending with an empty report."""

    checking = os.getpid()

    def _exit(status: int = 0) -> None:
        if os.getpid() != checking:  # a process the checked code forked: it may end
            saved_exit(status)
        raise SystemExit(f"os._exit({status}) called")

    def _signalled(number: int, frame: object) -> None:
        raise SystemExit(f"{signal.Signals(number).name} received")

    saved_exit, os._exit = os._exit, _exit
    saved = {}
    if threading.current_thread() is threading.main_thread():
        saved = {number: signal.signal(number, _signalled) for number in _ENDING}
    try:
        yield
    finally:
        os._exit = saved_exit
        for number, handler in saved.items():
            signal.signal(number, handler)


def _parameters(function) -> list[inspect.Parameter]:
    return [
        p
        for p in inspect.signature(function).parameters.values()
        if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]


def _missing_config_keys(cls, config: dict[str, Any]) -> list[str]:
    """Constructor arguments that get_config() does not record (lost on load)."""
    return [p.name for p in _parameters(cls.__init__) if p.name not in config]


def _sublayers(layer) -> list:
    """Every layer inside ``layer``, at any depth."""
    found, todo = [], list(getattr(layer, "_layers", []))
    while todo:
        child = todo.pop()
        found.append(child)
        todo.extend(getattr(child, "_layers", []))
    return found


def _takes_condition(cls) -> bool:
    """Whether ``call`` takes a second input besides ``inputs`` (and training/mask)."""
    names = [p.name for p in _parameters(cls.call)]
    return len([n for n in names if n not in ("training", "mask")]) > 1


def _sizes(config: dict[str, Any], key: str) -> tuple[int, ...]:
    value = config.get(key)
    value = [value] if isinstance(value, int) else value
    if not value or not all(isinstance(n, int) and n > 0 for n in value):
        raise CheckFailed(
            f"get_config() has no usable {key!r}; give the shape with --input-shape"
        )
    return tuple(value)


def feeding(keras, cls, instance, spec: InputSpec) -> Feeding:
    """Work out how to feed ``instance`` of ``cls``; ``spec`` overrides what it finds."""
    config = instance.get_config()
    layer = not isinstance(instance, keras.Model)
    adversarial = not layer and cls.compile is not keras.Model.compile
    recurrent = [
        child for child in _sublayers(instance) if isinstance(child, keras.layers.RNN)
    ]
    stateful = any(child.stateful for child in recurrent)
    if spec.shape is not None:
        shape = spec.shape
    elif adversarial:
        shape = _sizes(config, "data_shape")
    elif recurrent:
        shape = (TIMESTEPS, config.get("features", FEATURES))
    else:
        shape = (config.get("features", FEATURES),)
    batch_size = spec.batch_size or (config.get("batch_size") if stateful else None)
    if stateful and not batch_size:
        raise CheckFailed("a stateful model needs a fixed batch size: --batch-size")
    return Feeding(
        layer=layer,
        adversarial=adversarial,
        shape=shape,
        build_shape=_sizes(config, "latent_dim") if adversarial else shape,
        condition=(
            spec.condition if spec.condition is not None else _takes_condition(cls)
        ),
        batch_size=batch_size or BATCH_SIZE,
        stateful=stateful,
    )


def _data(np, feed: Feeding, seed: int = 0):
    rng = np.random.default_rng(seed)
    n = feed.batch_size * BATCHES
    x = rng.normal(size=(n, *feed.shape)).astype("float32")
    if feed.condition:
        # float 0/1, not bool: bool inputs break fit under tf.distribute.
        return (x, (rng.random(n) < 0.5).astype("float32"))
    return x


def _reset_states(keras, model) -> None:
    for child in _sublayers(model):
        if isinstance(child, keras.layers.RNN) and child.stateful:
            child.reset_state()


def _built(keras, cls, feed: Feeding, seed: int):
    """A seeded, built instance: the class itself, or a functional model around a layer."""
    keras.utils.set_random_seed(seed)
    instance = cls()
    batch = feed.batch_size if feed.stateful else None
    instance.build((batch, *feed.build_shape))
    if not instance.weights:
        raise CheckFailed("build() created no weights")
    if not feed.layer:
        return instance
    inputs = keras.Input(feed.shape)
    outputs = instance(inputs)
    declared = tuple(instance.compute_output_shape((None, *feed.shape)))
    if declared != tuple(outputs.shape):
        raise CheckFailed(
            f"compute_output_shape gives {declared}, call gives {tuple(outputs.shape)}"
        )
    return keras.Model(inputs, outputs)


def _predict(keras, model, x, feed: Feeding):
    if feed.stateful:
        _reset_states(keras, model)
    return model.predict(x, batch_size=feed.batch_size, verbose=0)


def _train(keras, np, model, teacher, x, feed: Feeding) -> None:
    fit = {"batch_size": feed.batch_size, "shuffle": False, "verbose": 0}
    if feed.adversarial:
        model.compile()  # its own defaults: optimizers and loss
        logs = model.fit(x, epochs=2, **fit).history
        if not any(name.endswith("loss") for name in logs):
            raise CheckFailed(f"train_step reported no loss (logs: {sorted(logs)})")
        bad = [name for name, values in logs.items() if not np.all(np.isfinite(values))]
        if bad:
            raise CheckFailed(f"{bad[0]} is not finite: {logs[bad[0]][-1]}")
        return
    y = np.asarray(_predict(keras, teacher, x, feed))
    if np.ptp(y, axis=0).max() == 0:
        raise CheckFailed(
            "the output is the same for every input (softmax over one unit, or "
            "zero-initialised weights?): nothing to learn from"
        )
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    losses = model.fit(x, y, epochs=EPOCHS, **fit).history.get("loss")
    if not losses:
        raise CheckFailed("train_step returned no 'loss'")
    if not all(np.isfinite(losses)) or min(losses) <= 0:
        raise CheckFailed(f"loss is {losses[-1]} (the loss tracker is not updated?)")
    if not losses[-1] < losses[0]:
        raise CheckFailed(f"loss did not fall: {losses[0]:.4g} -> {losses[-1]:.4g}")


def check_class(cls, spec: InputSpec = ANY_INPUT) -> Outcome:
    """Build, train and round-trip one Model or Layer subclass; stop at the first failure."""
    with exits_raise():
        return _check_class(cls, spec)


def _check_class(cls, spec: InputSpec) -> Outcome:
    keras, np = _keras()
    name = cls.__name__
    required = [p.name for p in _parameters(cls.__init__) if p.default is p.empty]
    if required:
        return Outcome(name, "skipped", f"its constructor needs {', '.join(required)}")
    stage = "build"
    try:
        feed = feeding(keras, cls, cls(), spec)
        model = _built(keras, cls, feed, seed=0)
        stage = "train"
        x = _data(np, feed)
        teacher = None if feed.adversarial else _built(keras, cls, feed, seed=1)
        _train(keras, np, model, teacher, x, feed)
        stage = "save/load"
        instance = model if not feed.layer else model.layers[-1]
        missing = _missing_config_keys(cls, instance.get_config())
        if missing:
            raise CheckFailed(f"get_config() lacks {', '.join(missing)}")
        with tempfile.TemporaryDirectory() as folder:
            saved = Path(folder) / "model.keras"
            model.save(saved)
            loaded = keras.saving.load_model(saved)
        probe = (
            np.random.default_rng(2)
            .normal(size=(feed.batch_size * 2, *feed.build_shape))
            .astype("float32")
            if feed.adversarial
            else x
        )
        before, after = _predict(keras, model, probe, feed), _predict(
            keras, loaded, probe, feed
        )
        if not np.array_equal(before, after):
            diff = float(np.max(np.abs(before - after)))
            raise CheckFailed(
                f"loaded model predicts differently (max diff {diff:.3g})"
            )
    except CheckFailed as exc:
        return Outcome(name, stage, str(exc))
    except (Exception, SystemExit) as exc:  # noqa: BLE001 (a model may fail any way)
        return Outcome(name, stage, _describe(exc))
    return Outcome(name, "ok")


def check_file(
    path: Path, spec: InputSpec = ANY_INPUT, *, models_only: bool = False
) -> list[Outcome]:
    """Check every Model and Layer subclass defined in the file at ``path``.

    A file that defines none is a failure, or with ``models_only`` no rows at all.
    """
    if importlib.util.find_spec("keras") is None:
        _keras()  # says what to install
    backend = process_backend()
    try:
        module = import_file(path)
    except (Exception, SystemExit) as exc:  # noqa: BLE001 (a file may even call exit())
        return [Outcome("-", "import", _describe(exc), str(path), backend)]
    keras, _ = _keras()  # after the file: one that ends at import costs no keras
    classes = [
        obj
        for obj in vars(module).values()
        if isinstance(obj, type)
        and issubclass(obj, keras.layers.Layer)
        and obj.__module__ == module.__name__
    ]
    if not classes and models_only:
        return []
    if not classes:
        reason = "defines no keras.Model or keras.layers.Layer subclass"
        return [Outcome("-", "import", reason, str(path), backend)]
    return [
        Outcome(o.name, o.stage, o.reason, str(path), backend)
        for o in (check_class(cls, spec) for cls in classes)
    ]


def is_test_file(path: Path) -> bool:
    """Test files are not models to check: ``test_*.py`` and ``conftest.py``."""
    return path.name.startswith("test_") or path.name == "conftest.py"


def check_paths(paths: list[Path], spec: InputSpec = ANY_INPUT) -> list[Outcome]:
    """``kscaffold check``: every class of the named files, and of the folders' files.

    A folder means its ``.py`` files that define a model or layer: test files and
    helpers are left out. A path that does not exist, or paths that hold no model
    at all, are a UsageError.
    """
    for path in paths:
        if not path.exists():
            raise UsageError(f"Invalid value for PATH: {str(path)!r} does not exist")
    jobs = []
    for path in paths:
        if not path.is_dir():
            jobs.append((path, False, spec))
            continue
        for found in sorted(path.glob("*.py")):
            if not is_test_file(found):
                jobs.append((found, True, spec))
    outcomes = [outcome for found in check_each(jobs) for outcome in found]
    if not outcomes:
        raise UsageError(
            "Invalid value for PATH: no models or layers in "
            + ", ".join(str(p) for p in paths)
        )
    return outcomes


def check_texts(
    files: list[tuple[str, str]], spec: InputSpec = ANY_INPUT, backend: str = ""
) -> list[Outcome]:
    """Check rendered Python files ``[(file name, text)]``, written for ``backend``,
    from a scratch folder."""
    with tempfile.TemporaryDirectory() as scratch:
        names, jobs = [], []
        for name, text in files:
            if not name.endswith(".py"):
                continue
            path = Path(scratch) / name
            path.write_text(text, encoding="utf-8")
            names.append(name)
            jobs.append((path, False, spec))
        checked = check_each(jobs, backend or None)
    return [
        dataclasses.replace(outcome, file=name)
        for name, found in zip(names, checked)
        for outcome in found
    ]


def _result(stage: str) -> str:
    return stage if stage in ("ok", "skipped") else f"failed at {stage}"


def report(outcomes: list[Outcome], first: str = "file") -> str:
    """One row per class: where it is, its name, the backend it ran on, how far it
    got, and why it stopped."""
    rows = [(first, "class", "backend", "result", "reason")]
    rows += [
        (o.file, o.name, o.backend or "-", _result(o.stage), o.reason) for o in outcomes
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row[:4], widths)) + "  " + row[4]
        for row in rows
    ]
    return "\n".join(line.rstrip() for line in lines) + "\n"
