"""Putting rendered files on disk: confined to the destination, never clobbering, atomic."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from scaffold.errors import TargetExistsError, UsageError, WriteError


@dataclass(frozen=True)
class Target:
    """A rendered file and where it goes."""

    path: Path
    text: str
    exists: bool


def confine(destination: Path, relative: str) -> Path:
    """``destination/relative``, refusing anything that would land outside it.

    Absolute paths, ``..`` parts and symlinks (in the destination) that lead
    elsewhere are all refused.
    """
    parts = PurePosixPath(relative.replace("\\", "/"))
    if relative.endswith(("/", "\\")) or relative.strip() in ("", "."):
        raise UsageError(f"refusing to write {relative!r}: not a file name")
    if parts.is_absolute() or not parts.parts or ".." in parts.parts:
        raise UsageError(f"refusing to write {relative!r}: outside the destination")
    target = destination.joinpath(*parts.parts)
    root = destination.resolve()
    if not target.resolve().is_relative_to(root):
        raise UsageError(
            f"refusing to write {str(target)!r}: a symlink leads outside {str(destination)!r}"
        )
    return target


def plan(destination: Path, files: list[tuple[str, str]], force: bool) -> list[Target]:
    """Check every target before anything is written; raise on the first refusal."""
    if destination.exists() and not destination.is_dir():
        raise WriteError(f"destination {str(destination)!r} is not a directory")
    targets = []
    for relative, text in files:
        path = confine(destination, relative)
        blocked = next((f for f in path.parents if f.exists() and not f.is_dir()), None)
        if blocked is not None:
            raise WriteError(f"cannot write {str(path)!r}: {str(blocked)!r} is a file")
        if path.is_symlink() or (path.exists() and not path.is_file()):
            raise WriteError(f"refusing to replace {str(path)!r}: not a regular file")
        exists = path.exists()
        if exists and not force:
            raise TargetExistsError(
                f"{str(path)!r} already exists; use --force to overwrite it"
            )
        targets.append(Target(path, text, exists))
    return targets


def _write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file in the same folder, then rename over the target."""
    fd, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.chmod(temporary, 0o666 & ~current_umask())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def current_umask() -> int:
    """The process's umask (reading it means setting it, so it is set straight back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write(targets: list[Target]) -> None:
    """Write every target; if one fails, remove the new files this call created."""
    created: list[Path] = []
    made_dirs: list[Path] = []
    try:
        for target in targets:
            for folder in reversed(target.path.parents):
                if not folder.exists():
                    folder.mkdir()
                    made_dirs.append(folder)
            _write_atomic(target.path, target.text)
            if not target.exists:
                created.append(target.path)
    except OSError as exc:
        for path in created:
            path.unlink(missing_ok=True)
        for folder in reversed(made_dirs):
            try:
                folder.rmdir()
            except OSError:
                pass
        where = exc.filename or targets[0].path
        raise WriteError(
            f"cannot write {str(where)!r}: {exc.strerror or exc}"
        ) from None
