"""Provenance: what kscaffold wrote, how, and the exact text, kept at the project root.

``new``, ``--with-test`` and ``init`` record every file they write in
``.kscaffold/manifest.json`` at the project root (the folder of the nearest
``pyproject.toml``, else the output folder), and the exact text written in
``.kscaffold/base/<hash of the path>.base``: the base of a later three-way merge.
The suffix keeps tools off the copies (no second ``pyproject.toml``, active ``.gitignore`` or
importable module). Generated files carry no markers. The manifest is meant to be committed: JSON with sorted keys and
entries, POSIX paths relative to the root.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

from scaffold.errors import ManifestError
from scaffold.project import nearest_pyproject
from scaffold.sources import BUILTIN, Source
from scaffold.variables import Variable
from scaffold.writer import Target, plan, write

FOLDER = ".kscaffold"
MANIFEST = f"{FOLDER}/manifest.json"
BASE = f"{FOLDER}/base"
SUFFIX = ".base"
FORMAT = 1  # the manifest's own format version

# Roles of a recorded file: a kind's file, the test of a model, a file of `init`'s layout.
MODEL, TEST, PROJECT = "model", "test", "project"


def base_path(path: str) -> str:
    """Where the recorded text of the file at ``path`` is kept, relative to the root.

    Named by a hash of the path, so the name's length is fixed: a module whose own
    name is near the system's 255-byte limit still has a place for its base.
    """
    return f"{BASE}/{sha256(path)[:40]}{SUFFIX}"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def project_root(destination: Path) -> Path:
    """Where the manifest of files written to ``destination`` lives."""
    pyproject = nearest_pyproject(destination)
    return pyproject.parent if pyproject is not None else destination.resolve()


def find_root(start: Path) -> Path | None:
    """The closest folder at or above ``start`` holding a manifest, if any."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / MANIFEST).is_file():
            return folder
    return None


def relative_to(root: Path, path: Path) -> str:
    """``path`` as the manifest names it: POSIX, relative to ``root``."""
    return path.resolve().relative_to(root.resolve()).as_posix()


def kscaffold_version() -> str:
    """kscaffold's installed version, from its ``.dist-info`` folder name.

    importlib.metadata would cost ~50 ms of every ``kscaffold new``; listing the
    sys.path folders costs well under one.
    """
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            if name.startswith("kscaffold-") and name.endswith(".dist-info"):
                return name[len("kscaffold-") : -len(".dist-info")]
    return "0+unknown"


def typed(variable: Variable, value: Any) -> str | None:
    """A validated value as the user would type it, so that it parses back the same."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    return str(value)


class Entry(NamedTuple):
    """One recorded file: where it is, how it was made, and a hash of what was written.

    ``folder`` is the folder it was rendered for (relative to the root) and
    ``output`` the name rendered there, which stays when the file moves; a test also
    keeps the module it imports and whether it sets up ``sys.path``; a file of
    ``init``'s layout keeps the project's models (``KIND:ClassName``).
    """

    path: str
    role: str
    kind: str
    name: str
    values: dict[str, str | None]
    given: tuple[str, ...]
    backend: str
    templates: tuple[dict[str, str], ...]
    kscaffold: str
    sha256: str
    folder: str = "."
    output: str = ""
    import_from: str = ""
    path_setup: bool = False
    models: tuple[str, ...] = ()
    template_dirs: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        data = self._asdict()
        for key in ("given", "templates", "models", "template_dirs"):
            data[key] = list(data[key])
        if self.role != TEST:
            del data["import_from"], data["path_setup"]
        if self.role != PROJECT:
            del data["models"]
        return data

    @classmethod
    def from_json(cls, data: Any) -> Entry:
        if not isinstance(data, dict) or not isinstance(data.get("path"), str):
            raise TypeError("an entry must be an object with a path")
        fields = {k: v for k, v in data.items() if k in cls._fields}
        for key in ("given", "templates", "models", "template_dirs"):
            if key in fields:
                fields[key] = tuple(fields[key])
        entry = cls(**fields)
        if not entry.output:  # the rendered name, when the file has not moved
            folder = PurePosixPath(entry.folder)
            entry = entry._replace(
                output=PurePosixPath(entry.path).relative_to(folder).as_posix()
            )
        if not isinstance(entry.values, dict) or entry.role not in (
            MODEL,
            TEST,
            PROJECT,
        ):
            raise ValueError(f"entry {entry.path!r} is malformed")
        return entry

    @property
    def module(self) -> str:
        return PurePosixPath(self.path).stem

    def raw(self) -> dict[str, str]:
        """The values the user gave, as typed: what a re-rendering starts from."""
        return {
            name: self.values[name]
            for name in self.given
            if self.values.get(name) is not None
        }


class Manifest:
    """The entries recorded at one project root, by path."""

    def __init__(self, root: Path, entries: Mapping[str, Entry] = ()) -> None:
        self.root = root
        self.entries: dict[str, Entry] = dict(entries)

    @classmethod
    def load(cls, root: Path) -> Manifest:
        """The manifest at ``root`` (empty when there is none yet)."""
        path = root / MANIFEST
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls(root)
        except (OSError, UnicodeDecodeError) as exc:
            raise ManifestError(f"cannot read {str(path)!r}: {exc}") from None
        try:
            data = json.loads(text)
            entries = [Entry.from_json(item) for item in data["files"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise ManifestError(
                f"{str(path)!r} is not a kscaffold manifest: {exc}"
            ) from None
        return cls(root, {entry.path: entry for entry in entries})

    def text(self) -> str:
        data = {
            "format": FORMAT,
            "files": [self.entries[path].as_json() for path in sorted(self.entries)],
        }
        return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    def base(self, entry: Entry) -> str:
        """The exact text kscaffold wrote for ``entry``: the merge base."""
        path = self.root / base_path(entry.path)
        try:
            with open(path, encoding="utf-8", newline="") as handle:
                return handle.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise ManifestError(
                f"cannot read the recorded text of {entry.path!r} ({str(path)!r}): "
                f"{exc.strerror if isinstance(exc, OSError) else exc}"
            ) from None

    def record(self, written: Iterable[tuple[Entry, str]]) -> list[tuple[str, str]]:
        """Add each entry, with the exact text written for it; return the files that
        record them (see :meth:`records`)."""
        bases = {}
        for entry, text in written:
            self.entries[entry.path] = entry
            bases[entry.path] = text
        return self.records(bases)

    def records(self, bases: Mapping[str, str]) -> list[tuple[str, str]]:
        """The files that record this manifest: each new base text, then the manifest."""
        return [(base_path(path), text) for path, text in sorted(bases.items())] + [
            (MANIFEST, self.text())
        ]


def make_entry(
    root: Path,
    path: Path,
    text: str,
    *,
    role: str,
    kind: str,
    name: str,
    variables: Iterable[Variable],
    values: Mapping[str, Any],
    given: Iterable[str],
    backend: str,
    read: Mapping[str, tuple[Path, str]],
    sources: list[Source],
    folder: Path,
    dirs: tuple[str, ...] = (),
    import_from: str = "",
    path_setup: bool = False,
    models: tuple[str, ...] = (),
) -> Entry:
    """The entry of ``text``, written at ``path``: every value, as typed, and the
    templates read (``read``, the loader's record)."""
    return Entry(
        path=relative_to(root, path),
        role=role,
        kind=kind,
        name=name,
        values={v.name: typed(v, values[v.name]) for v in variables},
        given=tuple(sorted(given)),
        backend=backend,
        templates=template_records(read, sources, root),
        kscaffold=kscaffold_version(),
        sha256=sha256(text),
        folder=relative_to(root, folder) or ".",
        output=path.resolve().relative_to(folder.resolve()).as_posix(),
        import_from=import_from,
        path_setup=path_setup,
        models=models,
        template_dirs=dirs,
    )


def template_records(
    read: Mapping[str, tuple[Path, str]], sources: list[Source], root: Path
) -> tuple[dict[str, str], ...]:
    """Each template file a rendering read: its name, where it came from, its hash.

    ``read`` is the loader's record (file -> (template root, text)); the source is
    ``built-in``, the pack (``pack 'team' (dist)``) or ``directory <path>`` (relative
    to the project root when inside it).
    """
    labels = {}
    for source in sources:
        if source.origin == BUILTIN or source.origin.startswith("pack "):
            labels.setdefault(source.path, source.origin)
        else:
            labels.setdefault(source.path, f"directory {portable(source.path, root)}")
    records = []
    for file, (template_root, text) in read.items():
        records.append(
            {
                "template": Path(file).relative_to(template_root).as_posix(),
                "source": labels.get(template_root, BUILTIN),
                "sha256": sha256(text),
            }
        )
    return tuple(sorted(records, key=lambda r: (r["template"], r["source"])))


def portable(folder: Path, root: Path) -> str:
    """A folder as the manifest keeps it: relative to ``root`` when inside, else absolute."""
    resolved = folder.resolve()
    if resolved.is_relative_to(root.resolve()):
        return resolved.relative_to(root.resolve()).as_posix() or "."
    return resolved.as_posix()


def template_dirs(dirs: Iterable[str | os.PathLike], root: Path) -> tuple[str, ...]:
    """``--templates`` folders as recorded, so a re-rendering searches them again."""
    return tuple(portable(Path(d).expanduser(), root) for d in dirs)


def write_recorded(targets: list[Target], root: Path, records: list[tuple[str, str]]):
    """Write the generated files and the records that describe them in one write.

    The records come last; a failure anywhere leaves files and records as they were
    (see :func:`scaffold.writer.write`).
    """
    everything = targets + plan(root, records, force=True)
    write(everything)
    return everything


def tests_of(manifest: Manifest, model: Entry) -> list[Entry]:
    """The recorded tests of the model ``model``."""
    return [
        e
        for e in manifest.entries.values()
        if e.role == TEST and e.kind == model.kind and e.name == model.name
    ]
