"""Putting rendered files on disk: confined, never clobbering, all or nothing.

Every file kscaffold writes (``new``, ``--with-test``, ``init``, ``templates eject``)
goes through here, as UTF-8 with LF newlines on every platform.

- A new file is written under a temporary name in its folder, then hard-linked to its
  name: the link fails if a file appeared there since the check, so nothing the user
  made in the meantime is replaced (``O_EXCL`` creation where links are unsupported).
- A replaced file (``--force``) is first linked to a backup name, so a failure puts
  the old bytes back; backups are removed once every file is in place.
- Any failure, Ctrl-C included, undoes what this call did, in reverse: the
  destination ends as it was, or complete, with no temporary file left.
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
from pathlib import Path, PurePosixPath
from typing import NamedTuple

from scaffold.errors import TargetExistsError, UsageError, WriteError

# Errors that mean "this file system has no hard links": fall back to O_EXCL.
_NO_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.ENOSYS}
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)


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
    if "\0" in relative:
        raise UsageError(f"refusing to write {relative!r}: a NUL in a file name")
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
        try:
            targets.append(_check(destination, relative, text, force))
        except OSError as exc:  # a name too long for the file system, say
            raise _failure(exc, destination / relative) from None
    return targets


def _check(destination: Path, relative: str, text: str, force: bool) -> Target:
    """The target of one file, or the refusal of it."""
    path = confine(destination, relative)
    blocked = next((f for f in path.parents if f.exists() and not f.is_dir()), None)
    if blocked is not None:
        raise WriteError(f"cannot write {str(path)!r}: {str(blocked)!r} is a file")
    exists = path.exists()
    if path.is_symlink() or (exists and not path.is_file()):
        raise WriteError(f"refusing to replace {str(path)!r}: not a regular file")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise WriteError(f"cannot write {str(path)!r}: {exc.reason}") from None
    if exists and not force:
        raise TargetExistsError(
            f"{str(path)!r} already exists; use --force to overwrite it"
        )
    return Target(path, text, exists)


def _write_text(path: Path, text: str) -> None:
    """The one place a file's bytes are written: UTF-8, LF newlines, umask applied.

    ``path`` must not exist (``O_EXCL``); a failed write removes the part written.
    """
    data = text.encode("utf-8")
    fd = os.open(path, _CREATE, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    except BaseException:
        os.close(fd)
        _remove(path)
        raise
    os.close(fd)


def _remove(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _spare_name(folder: Path, suffix: str) -> Path:
    """A short unused name in ``folder`` (short: a 250-character module name fits)."""
    return folder / f".kscaffold-{secrets.token_hex(6)}{suffix}"


def _temporary(folder: Path, text: str) -> Path:
    while True:
        spare = _spare_name(folder, ".tmp")
        try:
            _write_text(spare, text)
            return spare
        except FileExistsError:
            continue


class _Journal:
    """What one call changed, to undo in reverse or to finish (drop the backups)."""

    def __init__(self) -> None:
        self.steps: list[tuple[str, Path, Path | None]] = []

    def mkdir(self, folder: Path) -> None:
        try:
            os.mkdir(folder, 0o777)
        except FileExistsError:
            if not folder.is_dir():
                raise
            return  # made by someone else meanwhile: not ours to remove
        self.steps.append(("dir", folder, None))

    def create(self, path: Path, text: str) -> None:
        """Put a new file at ``path``; fail if anything is there."""
        temporary = _temporary(path.parent, text)
        try:
            os.link(temporary, path)
        except FileExistsError:
            raise TargetExistsError(
                f"{str(path)!r} appeared while writing; use --force to overwrite it"
            ) from None
        except OSError as exc:
            if exc.errno not in _NO_LINKS:
                raise
            try:
                _write_text(path, text)
            except FileExistsError:
                raise TargetExistsError(
                    f"{str(path)!r} appeared while writing; use --force to overwrite it"
                ) from None
        finally:
            _remove(temporary)
        self.steps.append(("file", path, None))

    def replace(self, path: Path, text: str) -> None:
        """Put ``text`` at ``path`` (``--force``), keeping the old file until the end."""
        if not os.path.lexists(path):
            return self.create(path, text)
        temporary = _temporary(path.parent, text)
        try:
            backup = _spare_name(path.parent, ".old")
            try:
                os.link(path, backup)
            except OSError as exc:
                if exc.errno not in _NO_LINKS:
                    raise
                os.rename(path, backup)  # no links: a moment without the file
            self.steps.append(("replaced", path, backup))
            os.replace(temporary, path)
        finally:
            _remove(temporary)

    def undo(self) -> None:
        """Put everything back as it was, newest step first; never raises."""
        for step, path, backup in reversed(self.steps):
            try:
                if step == "dir":
                    os.rmdir(path)
                elif step == "file":
                    os.unlink(path)
                elif os.path.lexists(path) and os.path.samefile(backup, path):
                    os.unlink(backup)  # not replaced yet (renaming a link onto
                    # its own file would do nothing and leave the backup)
                else:
                    os.replace(backup, path)
            except OSError:
                pass  # a folder someone else filled meanwhile stays
        self.steps = []

    def finish(self) -> None:
        """Drop the backups of replaced files."""
        for step, _, backup in self.steps:
            if step == "replaced":
                _remove(backup)
        self.steps = []


def _failure(exc: OSError, fallback: Path) -> WriteError:
    """The error to report: it names the user's file, never one of our spare names."""
    where = exc.filename
    if not where or ".kscaffold-" in os.fsdecode(where):
        where = fallback
    return WriteError(f"cannot write {str(where)!r}: {exc.strerror or exc}")


def write(targets: list[Target]) -> None:
    """Write every target, or (on any failure) nothing: the files are as before.

    A target planned as new is never put over a file that appeared since; one
    planned as existing (``--force``) replaces the file, which comes back on failure.
    """
    journal = _Journal()
    current = targets[0].path if targets else Path(".")
    try:
        for target in targets:
            current = target.path
            for folder in reversed(target.path.parents):
                if not folder.is_dir():
                    journal.mkdir(folder)
            if target.exists:
                journal.replace(target.path, target.text)
            else:
                journal.create(target.path, target.text)
    except BaseException as exc:
        journal.undo()
        if isinstance(exc, OSError):
            raise _failure(exc, current) from None
        raise
    journal.finish()


def write_tree(
    root: Path, files: list[tuple[str, str]], *, replace: bool = False
) -> None:
    """Make the folder ``root`` hold ``files`` (``[(relative path, text)]``), all or nothing.

    A missing or empty ``root`` is filled file by file (:func:`write`): a file that
    appears meanwhile stops it, and a failure removes what it wrote (a folder that
    was there stays). A non-empty ``root`` is refused unless ``replace``: then the
    new folder is made beside it and swapped in, and the old one is deleted only
    once the new one is in place.
    """
    if not (root.is_dir() and any(root.iterdir())):
        write(plan(root, files, force=False))
        return
    if not replace:
        raise TargetExistsError(
            f"{str(root)!r} already exists; use --force to replace it"
        )
    parent = root.parent
    staging: Path | None = _spare_name(parent, ".new")
    old: Path | None = None
    try:
        write(plan(staging, files, force=False))
        old = _spare_name(parent, ".old")
        os.rename(root, old)
        try:
            os.rename(staging, root)
            staging = None
        except BaseException:
            try:
                os.rename(old, root)
            except OSError:
                pass  # the user's folder stays at the spare name, never deleted
            old = None
            raise
    except OSError as exc:
        raise _failure(exc, root) from None
    finally:
        for leftover in (staging, old):
            if leftover is None or not os.path.lexists(leftover):
                continue
            if os.path.islink(leftover):  # a symlinked folder was replaced: the link
                os.unlink(leftover)
            else:
                shutil.rmtree(leftover, ignore_errors=True)
