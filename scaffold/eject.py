"""``kscaffold templates eject``: copy a built-in kind into a template directory to edit."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from scaffold.errors import TargetExistsError, UsageError, WriteError
from scaffold.kinds import kind_names
from scaffold.sources import BUILTIN, Source, builtin_templates


def eject_kind(kind: str, directory: Path, *, force: bool = False) -> Path:
    """Copy the built-in ``kind`` folder to ``directory/kind``; return the copy's path.

    Only the kind's own folder is copied: the shared partials it uses (``_common/``)
    still come from the built-ins unless a file of the same name is put beside it.
    """
    builtin = [Source(builtin_templates(), BUILTIN)]
    names = kind_names(builtin)
    if kind not in names:
        raise UsageError(f"no built-in kind {kind!r}; choose from: {', '.join(names)}")
    target = directory / kind
    if directory.exists() and not directory.is_dir():
        raise WriteError(f"{str(directory)!r} is not a directory")
    if target.exists() and not force:
        raise TargetExistsError(
            f"{str(target)!r} already exists; use --force to replace it"
        )
    try:
        directory.mkdir(parents=True, exist_ok=True)
        # Copy beside the target, then swap it in: never a half-copied kind.
        staging = Path(tempfile.mkdtemp(dir=directory, prefix=f".{kind}."))
        shutil.copytree(builtin[0].path / kind, staging / kind)
        if target.exists():
            shutil.rmtree(target)
        (staging / kind).rename(target)
        staging.rmdir()
    except OSError as exc:
        raise WriteError(
            f"cannot copy to {str(target)!r}: {exc.strerror or exc}"
        ) from None
    return target
