"""``kscaffold destroy``: remove generated files that are unchanged since written.

Only files the manifest records are ever removed, with their records; a file edited
since it was written is kept (and listed) unless ``--force``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from scaffold.errors import ScaffoldError, UsageError
from scaffold.manifest import (
    BASE,
    MANIFEST,
    MODEL,
    TEST,
    Entry,
    base_path,
    relative_to,
    sha256,
    tests_of,
)
from scaffold.names import class_and_module
from scaffold.update import manifest_at, read_text
from scaffold.writer import plan, write


class DestroyResult(NamedTuple):
    root: Path
    removed: list[str]  # recorded paths removed (or gone already)
    kept: list[str]  # edited files left in place


def destroy(
    selectors: Sequence[str],
    *,
    cwd: Path | None = None,
    force: bool = False,
    dry_run: bool = False,
) -> DestroyResult:
    """``kscaffold destroy``: remove recorded files unchanged since written.

    A selector is a recorded file, or a class or module name (its model and test).
    A model file brings its test along. Edited files are kept unless ``force``;
    nothing the manifest does not list is ever touched.
    """
    cwd = cwd or Path.cwd()
    if not selectors:
        raise UsageError(
            "name the files, or the model (class or module name), to destroy"
        )
    paths = [cwd / s for s in selectors if _looks_like_path(s, cwd)]
    manifest = manifest_at(paths[0].parent if paths else cwd)
    root = manifest.root
    chosen: dict[str, Entry] = {}
    for selector in selectors:
        if _looks_like_path(selector, cwd):
            relative = relative_to(root, cwd / selector)
            entry = manifest.entries.get(relative)
            if entry is None:
                raise UsageError(
                    f"{selector!r} is not a file kscaffold recorded; destroy removes "
                    "only those"
                )
            found = [entry]
            if entry.role == MODEL:
                found += tests_of(manifest, entry)
        else:
            found = [
                e
                for e in manifest.entries.values()
                if e.role in (MODEL, TEST)
                and selector in (e.name, class_and_module(e.name)[1])
            ]
            if not found:
                raise UsageError(f"no recorded model is called {selector!r}")
        chosen.update((e.path, e) for e in found)
    removed, kept = [], []
    for path in sorted(chosen):
        entry = chosen[path]
        file = root / path
        if file.is_file() and sha256(read_text(file)) != entry.sha256 and not force:
            kept.append(path)
        else:
            removed.append(path)
    if removed and not dry_run:
        for path in removed:
            del manifest.entries[path]
        # The manifest first: a file that cannot be removed then is merely unknown.
        write(plan(root, [(MANIFEST, manifest.text())], force=True))
        for path in removed:
            for gone in (root / path, root / base_path(path)):
                try:
                    gone.unlink(missing_ok=True)
                except OSError as exc:
                    raise ScaffoldError(
                        f"cannot remove {str(gone)!r}: {exc.strerror or exc}"
                    ) from None
            _prune(root / base_path(path), root / BASE)
    return DestroyResult(root, removed, kept)


def _prune(removed: Path, top: Path) -> None:
    """Remove the folders left empty above ``removed``, up to ``top``."""
    for folder in removed.parents:
        if folder == top or not folder.is_relative_to(top):
            return
        try:
            folder.rmdir()
        except OSError:
            return


def _looks_like_path(selector: str, cwd: Path) -> bool:
    return (
        "/" in selector
        or os.sep in selector
        or selector.endswith(".py")
        or (cwd / selector).is_file()
    )
