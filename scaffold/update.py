"""``status``, ``update`` and ``destroy``: recorded files against today's templates.

A recorded file is rendered again the way it was made (its values, changed as asked,
on today's templates) by the same functions ``new`` and ``init`` use. ``update``
then merges three ways, base = the text kscaffold wrote, ours = the file on disk,
theirs = the new rendering, with merge3 (Breezy's diff3 merge, imported only here).
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

from scaffold.errors import ManifestError, ScaffoldError, UsageError
from scaffold.manifest import (
    MANIFEST,
    MODEL,
    PROJECT,
    TEST,
    Entry,
    Manifest,
    base_path,
    find_root,
    make_entry,
    project_root,
    relative_to,
    sha256,
    template_dirs,
    tests_of,
    write_recorded,
)
from scaffold.merging import formatted, has_conflicts, lines, merge
from scaffold.names import class_and_module
from scaffold.workspace import Workspace, resolve
from scaffold.writer import plan

# Folders never searched for a moved file.
SKIPPED = frozenset({"__pycache__", "node_modules", "venv", "build", "dist"})


def manifest_at(start: Path) -> Manifest:
    """The manifest at or above ``start``; a UsageError when there is none."""
    root = find_root(start)
    if root is None:
        raise UsageError(
            f"no {MANIFEST} in {str(start)!r} or above: kscaffold records the files "
            "that new and init write there"
        )
    return Manifest.load(root)


# --- rendering a recorded file again -------------------------------------------------


class Rendering(NamedTuple):
    """A recorded file rendered today: its text and the entry that would record it."""

    text: str
    entry: Entry


class Renderer:
    """Renders recorded files again, as ``new`` and ``init`` rendered them.

    ``templates``: ``--templates`` given to this command, searched instead of the
    folders each file was made with. Workspaces, and renderings of the same recipe
    (a kind's several files, ``init``'s layout), are reused within one command.
    """

    def __init__(self, root: Path, templates: Sequence[str] | None = None) -> None:
        self.root = root
        self.templates = templates
        self._workspaces: dict[tuple, Workspace] = {}
        self._done: dict[tuple, tuple[list[tuple[str, str]], dict, Any]] = {}

    def workspace(self, entry: Entry, folder: Path) -> Workspace:
        if self.templates is not None:
            dirs = tuple(self.templates)
        else:
            dirs = tuple(str(self.root / d) for d in entry.template_dirs)
        key = (dirs, str(folder))
        if key not in self._workspaces:
            previous = next(
                (w for k, w in self._workspaces.items() if k[0] == dirs), None
            )
            self._workspaces[key] = resolve(
                templates=dirs, output=folder, previous=previous
            )
        return self._workspaces[key]

    def render(self, entry: Entry, changes: Mapping[str, Any] = {}) -> Rendering:
        """``entry``'s file on today's templates, with ``changes`` to its values."""
        from scaffold.bootstrap import render_layout
        from scaffold.generate import (
            kind_entries,
            render_files,
            render_model_test,
        )

        folder = self.root / entry.folder
        workspace = self.workspace(entry, folder)
        raw = {**entry.raw(), **changes}
        dirs = (
            template_dirs(self.templates, self.root)
            if self.templates is not None
            else entry.template_dirs
        )
        key = (
            entry.role,
            entry.kind,
            entry.name,
            tuple(sorted(raw.items())),
            entry.folder,
            entry.import_from,
            entry.path_setup,
            entry.models,
            dirs,
        )
        if key not in self._done:
            used: dict = {}
            if entry.role == PROJECT:
                specs = [tuple(m.split(":", 1)) for m in entry.models]
                files = render_layout(workspace, entry.name, specs, entry.backend, used)
                kind = workspace.catalog.layout(entry.kind)
            else:
                kind = workspace.catalog.find(entry.kind)
                if entry.role == TEST:
                    files = [
                        render_model_test(
                            kind,
                            entry.name,
                            raw,
                            import_from=entry.import_from,
                            sources=workspace.sources,
                            destination=folder,
                            backend=entry.backend,
                            path_setup=entry.path_setup,
                            used=used,
                        )
                    ]
                else:
                    files = render_files(
                        kind,
                        entry.name,
                        raw,
                        sources=workspace.sources,
                        destination=folder,
                        backend=entry.backend,
                        used=used,
                    )
            self._done[key] = (files, used, kind)
        files, used, kind = self._done[key]
        relative = entry.output
        text = dict(files).get(relative)
        if text is None:
            raise ManifestError(
                f"{entry.path}: kind {entry.kind!r} no longer renders "
                f"{relative!r} (it renders {', '.join(dict(files))})"
            )
        if entry.role == PROJECT:
            new = make_entry(
                self.root,
                self.root / entry.path,
                text,
                role=PROJECT,
                kind=entry.kind,
                name=entry.name,
                variables=kind.variables,
                values={"package": entry.name},
                given=["package"],
                backend=entry.backend,
                read=used[relative],
                sources=workspace.sources,
                folder=folder,
                dirs=dirs,
                models=entry.models,
            )
        else:
            [new] = kind_entries(
                root=self.root,
                kind=kind,
                name=entry.name,
                raw=raw,
                sources=workspace.sources,
                files=[(relative, text)],
                folder=folder,
                used=used,
                backend=entry.backend,
                dirs=dirs,
                role=entry.role,
                import_from=entry.import_from,
                path_setup=entry.path_setup,
            )
        # The file stays made for the backend it was made for.
        return Rendering(text, new._replace(path=entry.path))


def reasons(old: Entry, new: Entry) -> str:
    """Why today's rendering of a file differs from what was written."""
    why = []
    before = {(t["template"], t["source"]): t["sha256"] for t in old.templates}
    after = {(t["template"], t["source"]): t["sha256"] for t in new.templates}
    changed = sorted(
        {key[0] for key, digest in before.items() if after.get(key) != digest}
        | {key[0] for key in after.keys() - before.keys()}
    )
    if changed:
        why.append("template changed: " + ", ".join(changed))
    if old.kscaffold != new.kscaffold:
        why.append(f"kscaffold upgraded: {old.kscaffold} -> {new.kscaffold}")
    values = sorted(k for k in new.values if old.values.get(k) != new.values[k])
    if values:
        why.append("values changed: " + ", ".join(values))
    return "; ".join(why) or "rendering changed (Black settings?)"


# --- status ------------------------------------------------------------------------


class Row(NamedTuple):
    """One line of ``status``."""

    path: str
    state: str  # unchanged, edited, conflicted, missing, moved to PATH
    today: str  # up to date, or "would change"
    why: str


def read_text(path: Path) -> str:
    """A file as it is on disk (newlines kept as they are)."""
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            return handle.read()
    except UnicodeDecodeError:
        raise UsageError(f"{str(path)!r} is not UTF-8 text") from None
    except OSError as exc:
        raise ScaffoldError(
            f"cannot read {str(path)!r}: {exc.strerror or exc}"
        ) from None


def state_of(manifest: Manifest, entry: Entry) -> tuple[str, Path | None]:
    """``entry``'s file on disk: its state and where it is (None when missing)."""
    path = manifest.root / entry.path
    if not path.is_file():
        moved = find_moved(manifest, entry)
        if moved is None:
            return "missing", None
        return f"moved to {relative_to(manifest.root, moved)}", moved
    text = read_text(path)
    if sha256(text) == entry.sha256:
        return "unchanged", path
    return ("conflicted" if has_conflicts(text) else "edited"), path


def find_moved(manifest: Manifest, entry: Entry) -> Path | None:
    """The one unrecorded file under the root holding exactly what ``entry`` wrote."""
    recorded = {manifest.root / path for path in manifest.entries}
    suffix = PurePosixPath(entry.path).suffix
    size = None
    found = []
    for folder, dirs, files in os.walk(manifest.root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIPPED)
        for name in sorted(files):
            path = Path(folder) / name
            if path.suffix != suffix or path in recorded:
                continue
            if size is None:
                size = len(manifest.base(entry).encode("utf-8"))
            try:
                if path.stat().st_size != size:
                    continue
                if sha256(read_text(path)) == entry.sha256:
                    found.append(path)
            except (OSError, ScaffoldError):
                continue
    return found[0] if len(found) == 1 else None


def select(manifest: Manifest, paths: Iterable[Path]) -> list[Entry]:
    """The entries of the files or folders ``paths`` (all entries when none)."""
    paths = list(paths)
    if not paths:
        return [manifest.entries[p] for p in sorted(manifest.entries)]
    chosen = {}
    for path in paths:
        relative = relative_to(manifest.root, path)
        inside = [
            entry
            for key, entry in manifest.entries.items()
            if key == relative
            or relative == "."
            or key.startswith(relative.rstrip("/") + "/")
        ]
        if not inside:
            raise UsageError(f"{str(path)!r} is not a file kscaffold recorded")
        chosen.update((entry.path, entry) for entry in inside)
    return [chosen[p] for p in sorted(chosen)]


def status(start: Path) -> list[Row]:
    """One row per recorded file at or under ``start`` (a file or folder)."""
    manifest = manifest_at(start if start.is_dir() else start.parent)
    everything = start.resolve() == manifest.root.resolve()
    renderer = Renderer(manifest.root)
    rows = []
    for entry in select(manifest, [] if everything else [start]):
        state, _ = state_of(manifest, entry)
        rendering = renderer.render(entry)
        if rendering.text == manifest.base(entry):
            rows.append(Row(entry.path, state, "up to date", ""))
        else:
            why = reasons(entry, rendering.entry)
            rows.append(Row(entry.path, state, "would change", why))
    return rows


def table(rows: Sequence[Row]) -> str:
    """``status`` as text: one aligned row per file."""
    lines = [("file", "on disk", "templates", "why")] + [tuple(r) for r in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(3)]
    return "".join(
        (
            "  ".join(c.ljust(w) for c, w in zip(line[:3], widths)) + "  " + line[3]
        ).rstrip()
        + "\n"
        for line in lines
    )


# --- update --------------------------------------------------------------------------


class FileUpdate(NamedTuple):
    """What ``update`` does to one file."""

    path: Path  # where the file is (its new place when it moved)
    old: Entry
    new: Entry
    ours: str
    text: str  # what the file becomes
    base: str  # the new merge base: today's rendering
    conflicts: int
    moved: bool
    old_base: str  # the merge base before

    @property
    def changed(self) -> bool:
        """Whether the file or its record changes (else it is up to date)."""
        return (
            self.text != self.ours
            or self.moved
            or self.base != self.old_base
            or (self.new.values, self.new.given) != (self.old.values, self.old.given)
        )

    def diff(self, root: Path) -> str:
        name = relative_to(root, self.path)
        return "".join(
            difflib.unified_diff(
                lines(self.ours),
                lines(self.text),
                fromfile=f"a/{name}",
                tofile=f"b/{name}",
            )
        )


class UpdateResult(NamedTuple):
    root: Path
    files: list[FileUpdate]
    missing: list[Entry]
    adopted: list[Entry]

    @property
    def conflicted(self) -> list[FileUpdate]:
        return [f for f in self.files if f.conflicts]


def update(
    files: Sequence[Path] = (),
    *,
    all_files: bool = False,
    cwd: Path | None = None,
    values: Mapping[str, Any] | None = None,
    assignments: Sequence[str] = (),
    templates: Sequence[str] | None = None,
    kind: str | None = None,
    name: str | None = None,
    moved_from: Path | None = None,
    dry_run: bool = False,
) -> UpdateResult:
    """``kscaffold update``: bring recorded files up to today's templates and values.

    ``values`` (options of the kinds) and ``assignments`` (``--set``) change the
    recorded values of every file whose kind has them. ``kind`` (with ``name``)
    records a file made before the manifest; ``moved_from`` names where a recorded
    file was before it moved to ``files[0]``. Nothing is written with ``dry_run``.
    """
    from scaffold.generate import merge_assignments

    cwd = cwd or Path.cwd()
    changes = merge_assignments(
        {k: v for k, v in (values or {}).items() if v is not None}, assignments
    )
    if all_files == bool(files):
        raise UsageError("name the files to update, or --all (not both)")
    if (kind or moved_from) and len(files) != 1:
        raise UsageError(f"{'--kind' if kind else '--from'} takes exactly one FILE")
    if name and not kind:
        raise UsageError("--name goes with --kind (a file made before the manifest)")
    if kind:
        return adopt(files[0], kind, name, changes, templates, dry_run)
    start = files[0].parent if files else cwd
    manifest = manifest_at(start)
    root = manifest.root
    renderer = Renderer(root, templates)
    if moved_from is not None:
        old = relative_to(root, moved_from)
        if old not in manifest.entries:
            raise UsageError(f"{str(moved_from)!r} is not a file kscaffold recorded")
        if relative_to(root, files[0]) in manifest.entries:
            raise UsageError(f"{str(files[0])!r} is already recorded")
        if not files[0].is_file():
            raise UsageError(f"{str(files[0])!r} does not exist")
        selected = [(manifest.entries[old], files[0])]
    else:
        for file in files:
            if find_root(file.parent) != root:
                raise UsageError(
                    f"{str(file)!r} is not recorded in {str(root / MANIFEST)!r}"
                )
        entries = {e.path: e for e in select(manifest, files)}
        for entry in list(entries.values()):  # a model brings its test along
            if entry.role == MODEL:
                entries.update((t.path, t) for t in tests_of(manifest, entry))
        selected = [(entries[path], None) for path in sorted(entries)]

    used_changes: set[str] = set()
    results, missing = [], []
    for entry, location in selected:
        if location is None:
            path = root / entry.path
            moved = False
            if not path.is_file():
                found = find_moved(manifest, entry)
                if found is None:
                    missing.append(entry)
                    continue
                path, moved = found, True
        else:
            path, moved = location, True
        if entry.role == PROJECT:
            own = {}
        else:
            workspace = renderer.workspace(entry, root / entry.folder)
            names = {v.name for v in workspace.catalog.find(entry.kind).variables}
            own = {k: v for k, v in changes.items() if k in names}
        used_changes.update(own)
        rendering = renderer.render(entry, own)
        base = manifest.base(entry)
        ours = read_text(path)
        merged = merge(base, ours, rendering.text, relative_to(root, path))
        text = merged.text
        if not merged.conflicts:
            text = formatted(text, ours, rendering.text, path)
        new = rendering.entry._replace(path=relative_to(root, path))
        results.append(
            FileUpdate(
                path,
                entry,
                new,
                ours,
                text,
                rendering.text,
                merged.conflicts,
                moved,
                base,
            )
        )
    unused = sorted(set(changes) - used_changes)
    if unused:
        raise UsageError(
            f"{unused[0]!r}: none of the files to update has a variable of that name"
        )
    changed = [f for f in results if f.changed]
    if changed and not dry_run:
        targets = [
            target
            for f in changed
            if f.text != f.ours
            for target in plan(f.path.parent, [(f.path.name, f.text)], force=True)
        ]
        for f in changed:
            manifest.entries.pop(f.old.path, None)
        records = manifest.record((f.new, f.base) for f in changed)
        write_recorded(targets, root, records)
        for f in changed:
            if f.moved:
                (root / base_path(f.old.path)).unlink(missing_ok=True)
    return UpdateResult(root, results, missing, [])


def adopt(
    file: Path,
    kind_name: str,
    name: str | None,
    changes: Mapping[str, Any],
    templates: Sequence[str] | None,
    dry_run: bool,
) -> UpdateResult:
    """Record ``file``, made before the manifest, as ``kind_name`` with these values.

    Today's rendering becomes its base: whatever differs in the file counts as the
    user's and is kept by later updates.
    """
    from scaffold.backend import choose_backend
    from scaffold.generate import kind_entries, render_files

    if not file.is_file():
        raise UsageError(f"{str(file)!r} does not exist")
    existing = find_root(file.parent)
    root = existing or project_root(file.parent)
    manifest = Manifest.load(root)
    relative = relative_to(root, file)
    if relative in manifest.entries:
        recorded = manifest.entries[relative]
        raise UsageError(
            f"{str(file)!r} is already recorded (kind {recorded.kind!r}); "
            "--kind is for files made before the manifest"
        )
    ours = read_text(file)
    class_name = name or _class_in(ours, file)
    workspace = resolve(templates=templates or (), output=file.parent)
    kind = workspace.catalog.find(kind_name)
    backend = choose_backend(None, file.parent)
    used: dict = {}
    files = render_files(
        kind,
        class_name,
        changes,
        sources=workspace.sources,
        destination=file.parent,
        backend=backend,
        used=used,
    )
    text = dict(files).get(file.name)
    if text is None:
        raise UsageError(
            f"kind {kind_name!r} with class {class_name!r} writes "
            f"{', '.join(dict(files))}, not {file.name!r}"
        )
    [entry] = kind_entries(
        root=root,
        kind=kind,
        name=class_name,
        raw=changes,
        sources=workspace.sources,
        files=[(file.name, text)],
        folder=file.parent,
        used=used,
        backend=backend,
        dirs=template_dirs(templates or (), root),
    )
    if not dry_run:
        write_recorded([], root, manifest.record([(entry, text)]))
    return UpdateResult(root, [], [], [entry])


def _class_in(text: str, file: Path) -> str:
    """The class ``new`` would have written to ``file``: the one whose module it is."""
    import ast

    try:
        tree = ast.parse(text)
    except SyntaxError:
        tree = ast.Module(body=[], type_ignores=[])
    names = [
        node.name
        for node in tree.body
        if isinstance(node, ast.ClassDef)
        and class_and_module(node.name)[1] == file.stem
    ]
    if len(names) != 1:
        raise UsageError(
            f"cannot tell the class of {str(file)!r}; give it with --name ClassName"
        )
    return names[0]


# --- destroy -------------------------------------------------------------------------
