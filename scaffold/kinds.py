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

from scaffold.errors import TemplateError, UsageError
from scaffold.variables import Variable, variable_from_metadata

METADATA = "kind.toml"


def builtin_templates() -> Path:
    """The bundled template directory: inside the wheel, or at the top of a checkout."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "templates", package.parent / "templates"):
        if candidate.is_dir():
            return candidate
    raise TemplateError(f"bundled templates not found beside {package}")


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
    root: Path

    def variable(self, name: str) -> Variable:
        for variable in self.variables:
            if variable.name == name:
                return variable
        raise KeyError(name)


def load_kind(root: Path, name: str) -> Kind:
    """Read ``root/name/kind.toml``; a malformed file is a TemplateError naming it."""
    path = root / name / METADATA
    try:
        meta = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise TemplateError(f"{path}: {exc}") from None
    variables = meta.get("variables", {})
    files = meta.get("files", [])
    if not isinstance(variables, dict) or not isinstance(files, list) or not files:
        raise TemplateError(f"{path}: needs [variables.*] tables and a [[files]] list")
    try:
        outputs = tuple(OutputFile(f["template"], f["path"]) for f in files)
    except (KeyError, TypeError):
        raise TemplateError(
            f"{path}: each [[files]] needs 'template' and 'path'"
        ) from None
    return Kind(
        name=name,
        description=str(meta.get("description", "")),
        variables=tuple(
            variable_from_metadata(key, spec, str(path))
            for key, spec in variables.items()
        ),
        files=tuple(OutputFile(f"{name}/{out.template}", out.path) for out in outputs),
        root=root,
    )


def _is_kind_name(name: str) -> bool:
    """A kind is a plain folder name: no separators, no hidden or partial folders."""
    return bool(name) and not name.startswith(("_", ".")) and Path(name).name == name


def kind_names(roots: list[Path]) -> list[str]:
    """Every kind found in ``roots``, sorted; the first root holding a name wins."""
    names = set()
    for root in roots:
        if root.is_dir():
            names |= {
                entry.name
                for entry in root.iterdir()
                if _is_kind_name(entry.name) and (entry / METADATA).is_file()
            }
    return sorted(names)


def find_kind(name: str, roots: list[Path]) -> Kind:
    """Load the kind called ``name`` from the first root that has it."""
    for root in roots:
        if _is_kind_name(name) and (root / name / METADATA).is_file():
            return load_kind(root, name)
    raise UsageError(
        f"unknown kind {name!r}; choose from: {', '.join(kind_names(roots))}"
    )
