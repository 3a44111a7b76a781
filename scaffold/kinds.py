"""Finding kinds: template directories, their ``kind.toml`` metadata, and search order.

A template directory holds one folder per kind. ``<dir>/<kind>/kind.toml`` describes
the kind (a one-line description, its typed variables, the files it renders); the
Jinja2 files sit beside it. Folders whose names start with ``_`` hold shared partials
and base templates, not kinds. The built-in kinds are described the same way.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scaffold.errors import TemplateError, UsageError
from scaffold.sources import Source
from scaffold.variables import Variable, variable_from_metadata

METADATA = "kind.toml"
# The test template of a kind whose metadata names none: it suits models fed (batch, 8).
DEFAULT_TEST = "_common/test_model.py.j2"
# Names the command line already uses, and the names every template gets.
RESERVED_VARIABLES = frozenset(
    {"name", "output", "force", "dry_run", "stdout", "templates", "assignments", "set"}
    | {"help", "version", "class_name", "module"}
)


@dataclass(frozen=True)
class InputSpec:
    """How to feed a model when checking it, where its own config cannot tell.

    A kind's ``[check]`` table and the flags of ``kscaffold check`` fill it; None
    means "work it out from the class" (see :mod:`scaffold.verify`).
    """

    shape: tuple[int, ...] | None = None  # one example's shape, e.g. (8,) or (16, 3)
    condition: bool | None = None  # whether the model takes (features, condition)
    batch_size: int | None = None  # the fixed batch size of a stateful model


@dataclass(frozen=True)
class Rule:
    """A ``[[rules]]`` entry: when variables hold these values (any of a list), either
    give other variables a default, or refuse the combination with a reason."""

    when: dict[str, tuple[Any, ...]]
    default: dict[str, Any]
    refuse: str | None = None

    def matches(self, values: dict[str, Any]) -> bool:
        return all(values[name] in allowed for name, allowed in self.when.items())


@dataclass(frozen=True)
class OutputFile:
    """One file a kind renders: its template and the (templated) path it is written to."""

    template: str
    path: str


@dataclass(frozen=True)
class Kind:
    """A kind of model file, as its metadata describes it."""

    name: str
    description: str
    variables: tuple[Variable, ...]
    files: tuple[OutputFile, ...]
    source: Source
    check: InputSpec = InputSpec()
    # The template of the test `new --with-test` writes (and `init` always writes).
    test: str = DEFAULT_TEST
    rules: tuple[Rule, ...] = ()

    def variable(self, name: str) -> Variable:
        for variable in self.variables:
            if variable.name == name:
                return variable
        raise KeyError(name)


def inside(root: Path, path: Path) -> bool:
    """Whether ``path``, symlinks followed, stays inside ``root``."""
    return path.resolve().is_relative_to(root.resolve())


def load_kind(source: Source, name: str) -> Kind:
    """Read ``<source>/name/kind.toml``; a malformed file is a TemplateError naming it."""
    path = source.path / name / METADATA
    if not inside(source.path, path):
        raise TemplateError(f"{path}: a symlink leads outside {source.path}")
    try:
        meta = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise TemplateError(f"{path}: {exc}") from None
    variables = meta.get("variables", {})
    files = meta.get("files", [])
    if not isinstance(variables, dict) or not isinstance(files, list) or not files:
        raise TemplateError(f"{path}: needs [variables.*] tables and a [[files]] list")
    if not isinstance(meta.get("description", ""), str):
        raise TemplateError(f"{path}: description must be text")
    if not isinstance(meta.get("test", ""), str):
        raise TemplateError(f"{path}: test must name a template in the kind's folder")
    if not all(
        isinstance(f, dict)
        and isinstance(f.get("template"), str)
        and isinstance(f.get("path"), str)
        for f in files
    ):
        raise TemplateError(
            f"{path}: each [[files]] needs 'template' and 'path' (text)"
        )
    for key in variables:
        if not key.isidentifier() or not key.isascii() or key in RESERVED_VARIABLES:
            raise TemplateError(
                f"{path}: variable {key!r} must be a Python identifier and not one of "
                + ", ".join(sorted(RESERVED_VARIABLES))
            )
    declared = tuple(
        variable_from_metadata(key, spec, str(path)) for key, spec in variables.items()
    )
    _check_links(declared, path)
    return Kind(
        name=name,
        description=meta.get("description", ""),
        variables=declared,
        files=tuple(OutputFile(f"{name}/{f['template']}", f["path"]) for f in files),
        source=source,
        check=_check_table(meta.get("check", {}), path),
        test=f"{name}/{meta['test']}" if meta.get("test") else DEFAULT_TEST,
        rules=_rules(meta.get("rules", []), {v.name: v for v in declared}, path),
    )


def _rules(entries: object, variables: dict[str, Variable], path: Path) -> tuple:
    """``[[rules]]``: each has ``when`` and either ``default`` or ``refuse``."""
    where = f"{path}: [[rules]]"
    if not isinstance(entries, list):
        raise TemplateError(f"{where} must be a list of tables")
    rules = []
    for entry in entries:
        if (
            not isinstance(entry, dict)
            or set(entry) - {"when", "default", "refuse"}
            or not isinstance(entry.get("when"), dict)
            or not entry["when"]
            or ("default" in entry) == ("refuse" in entry)
            or not isinstance(entry.get("default", {}), dict)
            or not isinstance(entry.get("refuse", ""), str)
        ):
            raise TemplateError(
                f"{where}: each needs a 'when' table and either a 'default' table "
                "or a 'refuse' message"
            )

        def parsed(name: str, raw: Any) -> Any:
            if name not in variables:
                raise TemplateError(f"{where}: no variable {name!r}")
            try:
                return variables[name].parse(raw)
            except UsageError as exc:
                raise TemplateError(f"{where}: {exc}") from None

        def alternatives(name: str, raw: Any) -> tuple[Any, ...]:
            # A list means "any of these" (for an int_list: a list of lists).
            listed = isinstance(raw, list) and (
                variables.get(name) is None
                or variables[name].type != "int_list"
                or all(isinstance(item, list) for item in raw)
            )
            return tuple(parsed(name, item) for item in (raw if listed else [raw]))

        when = {name: alternatives(name, raw) for name, raw in entry["when"].items()}
        default = {
            name: parsed(name, raw) for name, raw in entry.get("default", {}).items()
        }
        rules.append(Rule(when, default, entry.get("refuse")))
    return tuple(rules)


def _check_links(variables: tuple[Variable, ...], path: Path) -> None:
    """``requires`` and ``implies`` must name a bool variable of the same kind."""
    bools = {v.name for v in variables if v.type == "bool"}
    for variable in variables:
        for key in ("requires", "implies"):
            target = getattr(variable, key)
            if target is not None and target not in bools:
                raise TemplateError(
                    f"{path}: variable {variable.name!r}: {key} must name a bool "
                    f"variable of this kind, not {target!r}"
                )


def _check_table(table: object, path: Path) -> InputSpec:
    """``[check]``: ``shape`` (or ``features``, its one-number form), ``condition``
    and ``batch_size``."""
    keys = {"features", "shape", "condition", "batch_size"}
    if not isinstance(table, dict) or set(table) - keys:
        raise TemplateError(f"{path}: [check] takes {', '.join(sorted(keys))} only")
    shape = table.get("shape", [table["features"]] if "features" in table else None)
    sizes = [*(shape or []), table.get("batch_size", 1)]
    if (shape is not None and (not isinstance(shape, list) or not shape)) or any(
        isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in sizes
    ):
        raise TemplateError(
            f"{path}: [check] shape, features and batch_size take positive integers"
        )
    condition = table.get("condition")
    if condition is not None and not isinstance(condition, bool):
        raise TemplateError(f"{path}: [check] condition must be true or false")
    return InputSpec(
        shape=None if shape is None else tuple(shape),
        condition=condition,
        batch_size=table.get("batch_size"),
    )


def _is_kind_name(name: str) -> bool:
    """A kind is a plain folder name: no separators, no hidden or partial folders."""
    return bool(name) and not name.startswith(("_", ".")) and Path(name).name == name


def _kinds_in(source: Source) -> set[str]:
    return {
        entry.name
        for entry in source.path.iterdir()
        if _is_kind_name(entry.name) and (entry / METADATA).is_file()
    }


def kind_names(sources: list[Source]) -> list[str]:
    """Every kind found in ``sources``, sorted."""
    return sorted(set().union(*(_kinds_in(source) for source in sources)))


def kind_layers(sources: list[Source]) -> dict[str, list[Source]]:
    """For each kind, every source that defines it, the winning one first."""
    layers: dict[str, list[Source]] = {}
    for source in sources:
        for name in _kinds_in(source):
            layers.setdefault(name, []).append(source)
    return dict(sorted(layers.items()))


def find_layout(name: str, sources: list[Source]) -> Kind:
    """Load a layout that is not a kind of ``new`` (``_project``) from the first source."""
    for source in sources:
        if (source.path / name / METADATA).is_file():
            return load_kind(source, name)
    raise TemplateError(f"no {name!r} templates on the search path")


def find_kind(name: str, sources: list[Source]) -> Kind:
    """Load the kind called ``name`` from the first source that has it."""
    for source in sources:
        if _is_kind_name(name) and (source.path / name / METADATA).is_file():
            return load_kind(source, name)
    raise UsageError(
        f"unknown kind {name!r}; choose from: {', '.join(kind_names(sources))}"
    )
