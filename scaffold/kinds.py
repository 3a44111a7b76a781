"""Finding kinds: template directories, their ``kind.toml`` metadata, and search order.

A template directory holds one folder per kind. ``<dir>/<kind>/kind.toml`` describes
the kind (a one-line description, its typed variables, the files it renders); the
Jinja2 files sit beside it. Folders whose names start with ``_`` hold shared partials
and base templates, not kinds. The built-in kinds are described the same way.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

from scaffold.errors import ScaffoldError, TemplateError, UsageError
from scaffold.sources import Source, search_order
from scaffold.variables import Variable, variable_from_metadata

METADATA = "kind.toml"
# The test template of a kind whose metadata names none: it suits models fed (batch, 8).
DEFAULT_TEST = "_common/test_model.py.j2"
# Names every template gets besides the kind's variables (test templates get the last two).
CONTEXT_NAMES = frozenset({"class_name", "module", "import_from", "path_setup"})
# The largest size in a [check] table: `check` feeds batches of synthetic data, and
# one (batch, 65536) float32 batch is already 256 KiB per example.
MAX_CHECK_SIZE = 65536
# Names a template reads as Jinja's own, whatever a variable of that name holds.
JINJA_NAMES = frozenset({"self", "true", "false", "none", "True", "False", "None"})


class InputSpec(NamedTuple):
    """How to feed a model when checking it, where its own config cannot tell.

    A kind's ``[check]`` table and the flags of ``kscaffold check`` fill it; None
    means "work it out from the class" (see :mod:`scaffold.verify`).
    """

    shape: tuple[int, ...] | None = None  # one example's shape, e.g. (8,) or (16, 3)
    condition: bool | None = None  # whether the model takes (features, condition)
    batch_size: int | None = None  # the fixed batch size of a stateful model


class Rule(NamedTuple):
    """A ``[[rules]]`` entry: when variables hold these values (any of a list), either
    give other variables a default, or refuse the combination with a reason."""

    when: dict[str, tuple[Any, ...]]
    default: dict[str, Any]
    refuse: str | None = None

    def matches(self, values: dict[str, Any]) -> bool:
        return all(values[name] in allowed for name, allowed in self.when.items())


class OutputFile(NamedTuple):
    """One file a kind renders: its template and the (templated) path it is written to."""

    template: str
    path: str


class Kind(NamedTuple):
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
    # The shared metadata files its kind.toml includes (``_common/dense.toml``).
    includes: tuple[str, ...] = ()

    def variable(self, name: str) -> Variable:
        for variable in self.variables:
            if variable.name == name:
                return variable
        raise KeyError(name)


def inside(root: Path, path: Path) -> bool:
    """Whether ``path``, symlinks followed, stays inside ``root``."""
    return path.resolve().is_relative_to(root.resolve())


def _read_toml(path: Path, root: Path) -> dict[str, Any]:
    if not inside(root, path):
        raise TemplateError(f"{path}: a symlink leads outside {root}")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except RecursionError:
        raise TemplateError(f"{path}: arrays or tables nested too deeply") from None
    except (OSError, ValueError) as exc:  # TOMLDecodeError, a 5,000-digit integer
        raise TemplateError(f"{path}: {exc}") from None


def shared_file(name: str, kind: str, sources: Sequence[Source]) -> Path | None:
    """Where the shared file ``name`` (``_common/dense.toml``, a relative path checked
    by the caller) is for ``kind``: found as templates are (see
    :func:`scaffold.sources.search_order`)."""
    roots = [source.path for source in sources]
    for root, path in search_order(roots, kind, PurePosixPath(name).parts):
        if path.is_file():
            return path if inside(root, path) else None
    return None


def _tables(meta: dict[str, Any], kind: str, path: Path, sources: Sequence[Source]):
    """The kind's variable tables (each with the file it is declared in) and rules,
    with those of the files it includes.

    ``include = ["_common/dense.toml"]`` names shared files holding ``[variables.*]``
    and ``[[rules]]``. The kind's own variables come first, and replace an included
    variable of the same name; then the included ones, in order. Two included files
    may not declare the same variable.
    """
    includes = meta.get("include", [])
    if not isinstance(includes, list) or not all(isinstance(i, str) for i in includes):
        raise TemplateError(f"{path}: include must be a list of shared .toml files")
    included: dict[str, tuple[Any, Path]] = {}
    rules: list[Any] = []
    for name in includes:
        parts = PurePosixPath(name).parts
        if PurePosixPath(name).is_absolute() or ".." in parts or not parts:
            raise TemplateError(
                f"{path}: include {name!r} must be a path inside a template directory"
            )
        found = shared_file(name, kind, sources)
        if found is None:
            raise TemplateError(f"{path}: included {name!r} not found")
        shared = _read_toml(found, found.parent)
        variables, listed = shared.get("variables", {}), shared.get("rules", [])
        if (
            set(shared) - {"variables", "rules"}
            or not isinstance(variables, dict)
            or not isinstance(listed, list)
        ):
            raise TemplateError(
                f"{found}: holds [variables.*] tables and [[rules]] only"
            )
        for key, spec in variables.items():
            if key in included:
                raise TemplateError(
                    f"{path}: variable {key!r} is declared in both "
                    f"{included[key][1]} and {found}"
                )
            included[key] = (spec, found)
        rules += listed
    own = meta.get("variables", {})
    if not isinstance(own, dict):
        raise TemplateError(f"{path}: needs [variables.*] tables and a [[files]] list")
    listed = meta.get("rules", [])
    rules += listed if isinstance(listed, list) else [None]  # None: refused later
    tables = {key: (spec, path) for key, spec in own.items()}
    tables.update({k: v for k, v in included.items() if k not in own})
    return tables, rules


def load_kind(
    source: Source,
    name: str,
    sources: Sequence[Source] = (),
    reserved: Reserved | None = None,
) -> Kind:
    """Read ``<source>/name/kind.toml``; a malformed file is a TemplateError naming it.

    ``sources`` is the search path its ``include`` files are found on; ``reserved``
    holds the command line's own names, which no variable may take.
    """
    path = source.path / name / METADATA
    meta = _read_toml(path, source.path)
    variables, rule_tables = _tables(meta, name, path, [*sources] or [source])
    files = meta.get("files", [])
    if not isinstance(files, list) or not files:
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
    for entry in files:
        for key in ("template", "path"):
            if not entry[key].isprintable():  # a NUL, a line break
                raise TemplateError(
                    f"{path}: [[files]] {key} {entry[key]!r} has a control character"
                )
    for key in variables:
        if not key.isidentifier() or not key.isascii() or key in CONTEXT_NAMES:
            raise TemplateError(
                f"{path}: variable {key!r} must be a Python identifier and not one of "
                + ", ".join(sorted(CONTEXT_NAMES))
            )
        if key in JINJA_NAMES:
            raise TemplateError(
                f"{path}: variable {key!r}: a template would read Jinja's own {key}"
            )
        clash = (reserved or Reserved()).clash(key)
        if clash:
            raise TemplateError(
                f"{path}: variable {key!r} would shadow kscaffold's own {clash}"
            )
    declared = tuple(
        variable_from_metadata(key, spec, str(where))
        for key, (spec, where) in variables.items()
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
        rules=_rules(rule_tables, {v.name: v for v in declared}, path),
        includes=tuple(meta.get("include", ())),
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
                or list not in variables[name].type.native
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
    bools = {v.name for v in variables if v.type.flag}
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
        isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_CHECK_SIZE
        for n in sizes
    ):
        raise TemplateError(
            f"{path}: [check] shape, features and batch_size take positive integers "
            f"(at most {MAX_CHECK_SIZE})"
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


class Reserved(NamedTuple):
    """Names the command line uses itself: no kind variable may take one."""

    names: frozenset[str] = frozenset()  # parameter names (``dry_run``)
    options: frozenset[str] = frozenset()  # option strings (``--dry-run``)

    def clash(self, variable: str) -> str | None:
        """What ``variable`` would shadow ("option --verify"), if anything.

        Its option (``--x``, ``--no-x``) may not be one the command line has, and its
        name not the name of a parameter (``init``'s PATH is ``path``, ``--model``
        fills ``models``): Click would merge the two.
        """
        option = "--" + variable.replace("_", "-")
        for candidate in (option, "--no-" + option[2:]):
            if candidate in self.options:
                return f"option {candidate}"
        return f"parameter {variable!r}" if variable in self.names else None


class Catalog:
    """The kinds on one search path, each ``kind.toml`` read once per command."""

    def __init__(self, sources: Sequence[Source], reserved: Reserved | None = None):
        self.sources = list(sources)
        self.reserved = reserved or Reserved()
        self._kinds: dict[str, Kind] = {}
        self._found: list[set[str]] | None = None

    def _per_source(self) -> list[set[str]]:
        if self._found is None:
            self._found = [_kinds_in(source) for source in self.sources]
        return self._found

    def names(self) -> list[str]:
        """Every kind found, sorted."""
        return sorted(set().union(*self._per_source()))

    def layers(self) -> dict[str, list[Source]]:
        """For each kind, every source that defines it, the winning one first."""
        layers: dict[str, list[Source]] = {}
        for source, names in zip(self.sources, self._per_source()):
            for name in sorted(names):
                layers.setdefault(name, []).append(source)
        return dict(sorted(layers.items()))

    def find(self, name: str) -> Kind:
        """The kind called ``name``, from the first source that has it."""
        if name not in self._kinds:
            for source, names in zip(self.sources, self._per_source()):
                if name in names:
                    self._kinds[name] = load_kind(
                        source, name, self.sources, self.reserved
                    )
                    break
            else:
                raise UsageError(
                    f"unknown kind {name!r}; choose from: {', '.join(self.names())}"
                )
        return self._kinds[name]

    def layout(self, name: str) -> Kind:
        """A layout that is not a kind of ``new`` (``_project``), from the first source."""
        for source in self.sources:
            if (source.path / name / METADATA).is_file():
                return load_kind(source, name, self.sources)
        raise TemplateError(f"no {name!r} templates on the search path")

    def variables(self, leave_out: Iterable[str] = ()) -> list[Variable]:
        """Each variable name of every kind once (its first declaration, by kind name),
        but those in ``leave_out``: the model options of ``init``."""
        found: dict[str, Variable] = {}
        skip = set(leave_out)
        for name in self.names():
            for variable in self.find(name).variables:
                if variable.name not in skip:
                    found.setdefault(variable.name, variable)
        return list(found.values())

    def owners(self, option: str) -> list[str]:
        """The kinds that have ``option`` (``--accumulate`` or ``--no-train-step``)."""
        owners = []
        for name in self.names():
            try:
                variables = self.find(name).variables
            except ScaffoldError:
                continue  # a broken kind owns nothing
            if any(option in (v.option, f"--no-{v.option[2:]}") for v in variables):
                owners.append(name)
        return owners


def kind_names(sources: list[Source]) -> list[str]:
    """Every kind found in ``sources``, sorted."""
    return Catalog(sources).names()


def find_kind(name: str, sources: list[Source]) -> Kind:
    """Load the kind called ``name`` from the first source that has it."""
    return Catalog(sources).find(name)
