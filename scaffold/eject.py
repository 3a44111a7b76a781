"""``kscaffold templates eject``: copy a built-in kind, and every partial it uses, to edit.

The copy stands alone: the shared partials and metadata the kind uses (``_common/``)
are copied into the kind's own folder, where the template loader looks first when it
renders that kind (see :class:`scaffold.render.ConfinedLoader`). Editing any copied
file changes what the kind renders, and no other kind.
"""

from __future__ import annotations

from pathlib import Path

import jinja2
import jinja2.meta

from scaffold.errors import TargetExistsError, TemplateError, UsageError, WriteError
from scaffold.kinds import Catalog, shared_file
from scaffold.render import BUILTIN_PREFIX, environment
from scaffold.sources import BUILTIN, Source, builtin_templates
from scaffold.writer import confine, write_tree


def used_files(kind_name: str, sources: list[Source]) -> dict[str, Path]:
    """Every file ``kind_name`` is rendered from, by its name relative to the kind.

    The kind's folder, the templates its templates extend, include or import (and
    theirs, in turn), and the metadata files its ``kind.toml`` includes.
    """
    kind = Catalog(sources).find(kind_name)
    folder = kind.source.path / kind_name
    used = {
        str(path.relative_to(folder).as_posix()): path
        for path in sorted(folder.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }
    env = environment([s.path for s in sources], builtin_templates(), kind_name)
    pending = [output.template for output in kind.files] + [kind.test]
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        if name in seen or name.startswith(BUILTIN_PREFIX + "/"):
            continue  # builtin/... always means the bundled file: nothing to copy
        seen.add(name)
        source, filename, _ = env.loader.get_source(env, name)
        path = Path(filename)
        if not path.is_relative_to(folder):
            used[name] = path
        try:
            names = jinja2.meta.find_referenced_templates(env.parse(source))
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(f"{filename}:{exc.lineno}: {exc.message}") from None
        for referenced in names:
            if referenced is None:
                raise TemplateError(
                    f"{filename}: a template name computed at render time "
                    "cannot be followed; name it literally"
                )
            pending.append(referenced)
    for include in kind.includes:
        path = shared_file(include, kind_name, sources)
        if path is not None and not path.is_relative_to(folder):
            used[include] = path
    return used


def eject_kind(kind: str, directory: Path, *, force: bool = False) -> Path:
    """Copy the built-in ``kind`` into ``directory/kind``; return the copy's path."""
    builtin = [Source(builtin_templates(), BUILTIN)]
    names = Catalog(builtin).names()
    if kind not in names:
        raise UsageError(f"no built-in kind {kind!r}; choose from: {', '.join(names)}")
    if directory.exists() and not directory.is_dir():
        raise WriteError(f"{str(directory)!r} is not a directory")
    target = confine(directory, kind)  # a kind folder symlinked elsewhere: refused
    if target.exists() and not force:
        raise TargetExistsError(
            f"{str(target)!r} already exists; use --force to replace it"
        )
    files = [
        (relative, path.read_text(encoding="utf-8"))
        for relative, path in sorted(used_files(kind, builtin).items())
    ]
    write_tree(target, files, replace=force)
    return target
