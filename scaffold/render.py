"""Rendering a kind's templates in memory, in Jinja2's immutable sandbox.

One environment serves built-in and user templates alike: its loader searches the
template roots in order, so a file (a whole kind, one partial, one base template)
in an earlier root replaces the one of the same name in a later root.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import jinja2
import jinja2.bccache
from jinja2.loaders import split_template_path
from jinja2.sandbox import ImmutableSandboxedEnvironment

from scaffold.errors import TemplateError
from scaffold.sources import search_order

BUILTIN_PREFIX = "builtin"


class ConfinedLoader(jinja2.BaseLoader):
    """Finds ``name`` in the first root that has it; refuses files outside their root.

    When rendering a kind, each root's folder of that kind is searched before the
    root itself: a kind can carry its own copy of a shared partial
    (``team/sequential/_common/dense_model.py.j2``), which is what ``templates eject``
    makes. ``builtin/<name>`` always means the bundled template, so a user template
    of the same name can extend it: ``{% extends "builtin/sequential/model.py.j2" %}``.
    """

    def __init__(self, roots: list[Path], builtin: Path, kind: str | None = None):
        self.roots = roots
        self.builtin = builtin
        self.kind = kind
        self.served: set[str] = set()  # file names, to place errors in tracebacks
        # Every file read, with the root it was found in and its text: where each
        # template of a rendering came from (the manifest records it).
        self.read: dict[str, tuple[Path, str]] = {}

    def candidates(self, template: str) -> Iterator[tuple[Path, Path]]:
        """``(root, file)`` pairs for ``template``, in search order."""
        parts = split_template_path(template)  # refuses ".." parts
        if parts[:1] == [BUILTIN_PREFIX]:
            return search_order([self.builtin], self.kind, parts[1:])
        return search_order(self.roots, self.kind, parts)

    def get_source(self, environment: jinja2.Environment, template: str):
        for root, path in self.candidates(template):
            if not path.is_file():
                continue
            if not path.resolve().is_relative_to(root.resolve()):
                raise TemplateError(
                    f"template {template!r}: {path} leads outside {root}"
                )
            mtime = path.stat().st_mtime
            source = path.read_text(encoding="utf-8")
            self.served.add(str(path))
            self.read[str(path)] = (root, source)
            return (
                source,
                str(path),
                lambda p=path, t=mtime: p.is_file() and p.stat().st_mtime == t,
            )
        raise jinja2.TemplateNotFound(template)


class UserBytecodeCache(jinja2.FileSystemBytecodeCache):
    """Compiled templates in ``$XDG_CACHE_HOME/kscaffold`` (``~/.cache/kscaffold``),
    a folder only its user can write; checked each run, or no cache at all.

    Not Jinja's default folder in the shared temporary directory: there another user
    can put a file, a symlink or a folder of theirs first, which makes Jinja fail
    (and a cache someone else can write runs their code). A cache file that cannot
    be read or written is compiled again, never an error.
    """

    pattern = "jinja-%s.cache"

    @classmethod
    def for_user(
        cls, environ: Mapping[str, str] = os.environ
    ) -> UserBytecodeCache | None:
        folder = cls.folder(environ)
        return None if folder is None else cls(str(folder), cls.pattern)

    @staticmethod
    def folder(environ: Mapping[str, str] = os.environ) -> Path | None:
        """The cache folder, made if missing; None unless it is a real folder of
        this user's that no one else can write."""
        try:
            base = Path(environ.get("XDG_CACHE_HOME", ""))
            if not base.is_absolute():  # unset, empty or relative: ignored, per XDG
                base = Path.home() / ".cache"
            folder = base / "kscaffold"
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            found = os.lstat(folder)
        except (OSError, RuntimeError, KeyError, ValueError):  # no home, read-only...
            return None
        if (
            not stat.S_ISDIR(found.st_mode)  # a symlink or a file
            or found.st_uid != getattr(os, "getuid", lambda: found.st_uid)()
            or found.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
        ):
            return None
        return folder

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # noqa: BLE001 (a damaged cache file: compile again)
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:  # a full disk, say: the next run compiles again
            pass


def environment(
    roots: list[Path], builtin: Path, kind: str | None = None
) -> jinja2.Environment:
    """A sandboxed environment whose missing variables are errors, never empty text.

    ``kind``: the kind being rendered, whose own folders are searched first.
    """
    env = ImmutableSandboxedEnvironment(
        loader=ConfinedLoader(roots, builtin, kind),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
        # Compiled templates are cached: compiling costs ~30 ms a run, loading ~1 ms.
        bytecode_cache=UserBytecodeCache.for_user(),
    )
    # `safe` would let a template turn user text back into raw, unquoted output.
    env.filters.pop("safe", None)
    return env


def _location(env: jinja2.Environment, exc: BaseException, fallback: str) -> str:
    """``file:line`` of a template error, from Jinja's own error or the traceback.

    Jinja rewrites traceback frames to point into the template files it rendered.
    """
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return f"{exc.filename or exc.name or fallback}:{exc.lineno}"
    served = getattr(env.loader, "served", set())
    tb = exc.__traceback__
    where = fallback
    while tb is not None:
        if tb.tb_frame.f_code.co_filename in served:
            where = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}"
        tb = tb.tb_next
    return where


def render(env: jinja2.Environment, template: str, context: dict[str, Any]) -> str:
    """Render one template; any failure becomes a TemplateError with file and line."""
    try:
        return env.get_template(template).render(context)
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(f"template {exc.name!r} not found") from None
    except TemplateError:
        raise
    except Exception as exc:  # noqa: BLE001 (whatever a template raises is its fault)
        message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        raise TemplateError(f"{_location(env, exc, template)}: {message}") from None


# An output path made of plain text and ``{{ name }}`` placeholders only: substituted
# directly, as Jinja would (compiling it costs ~2 ms of every `kscaffold new`).
_PLAIN = re.compile(r"(?:[^{}]|\{\{ *[A-Za-z_][A-Za-z0-9_]* *\}\})*\Z")
_PLACEHOLDER = re.compile(r"\{\{ *([A-Za-z_][A-Za-z0-9_]*) *\}\}")


def render_string(env: jinja2.Environment, source: str, context: dict[str, Any]) -> str:
    """Render a short template held in metadata (an output path)."""
    if _PLAIN.match(source):
        missing = [n for n in _PLACEHOLDER.findall(source) if n not in context]
        if missing:
            raise TemplateError(f"in {source!r}: {missing[0]!r} is undefined")
        return _PLACEHOLDER.sub(lambda m: str(context[m.group(1)]), source)
    try:
        return env.from_string(source).render(context)
    except Exception as exc:  # noqa: BLE001 (whatever a template raises is its fault)
        raise TemplateError(f"in {source!r}: {exc}") from None
