"""Putting rendered files on disk: confined to the destination, never clobbering, atomic.

Every file kscaffold writes (``new``, ``--with-test``, ``init``, ``templates eject``)
goes through here, as UTF-8 with LF newlines on every platform.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath
from typing import NamedTuple

from scaffold.errors import TargetExistsError, UsageError, WriteError


class Target(NamedTuple):
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


def _write_text(path: Path, text: str, mode: int = 0o666) -> None:
    """The one place a file's bytes are written: UTF-8, LF newlines, umask applied."""
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
    os.chmod(path, mode & ~current_umask())


def _write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file in the same folder, then rename over the target."""
    fd, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    os.close(fd)
    try:
        _write_text(Path(temporary), text)
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


def write_tree(
    root: Path, files: list[tuple[str, str]], *, replace: bool = False
) -> None:
    """Create the folder ``root`` holding ``files`` (``[(relative path, text)]``) at once.

    The files are written to a staging folder beside ``root``, which is then renamed
    to ``root``: a failure leaves no partial folder. An existing empty ``root`` is
    replaced; a non-empty one only with ``replace``, and then it is kept until the
    new one is in place (and restored if that fails).
    """
    paths = [confine(root, relative) for relative, _ in files]
    parent = root.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=parent, prefix=f".{root.name}.kscaffold-"))
        os.chmod(staging, 0o777 & ~current_umask())  # mkdtemp makes it private
    except OSError as exc:
        raise WriteError(
            f"cannot write to {str(parent)!r}: {exc.strerror or exc}"
        ) from None
    old = None
    try:
        for path, (_, text) in zip(paths, files):
            staged = staging / path.relative_to(root)
            staged.parent.mkdir(parents=True, exist_ok=True)
            _write_text(staged, text)
        if root.is_dir() and not any(root.iterdir()):
            root.rmdir()
        elif root.exists():
            if not replace:
                raise TargetExistsError(
                    f"{str(root)!r} already exists; use --force to replace it"
                )
            old = Path(tempfile.mkdtemp(dir=parent, prefix=f".{root.name}.old-"))
            os.rename(root, old / root.name)
        os.rename(staging, root)  # one atomic step
        staging = None
    except BaseException as exc:  # Ctrl-C too: the user's folder comes back first
        if old is not None:
            moved = old / root.name
            if moved.exists() and not root.exists():
                try:
                    os.rename(moved, root)
                except OSError:
                    pass  # kept where it is, never deleted
            if not moved.exists():
                shutil.rmtree(old, ignore_errors=True)
            old = None  # the user's folder is never deleted on this path
        if isinstance(exc, OSError):
            raise WriteError(
                f"cannot write {str(root)!r}: {exc.strerror or exc}"
            ) from None
        raise
    finally:
        for leftover in (staging, old):
            if leftover is not None:
                shutil.rmtree(leftover, ignore_errors=True)
