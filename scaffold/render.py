"""Rendering a kind's templates in memory, in Jinja2's immutable sandbox.

One environment serves built-in and user templates alike: its loader searches the
template roots in order, so a file (a whole kind, one partial, one base template)
in an earlier root replaces the one of the same name in a later root.

Every file renders within a budget: :data:`TIME_BUDGET` seconds and
:data:`MAX_OUTPUT` characters, and no operator, call or filter may take a number
(a repeat count, a width) above :data:`MAX_OUTPUT`. User values are placed by
:mod:`scaffold.placement`.
"""

from __future__ import annotations

import functools
import os
import re
import signal
import stat
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import jinja2
import jinja2.bccache
from jinja2.loaders import split_template_path
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from jinja2.utils import _PassArg

from scaffold.errors import TemplateError
from scaffold.placement import COMMENT, DOCSTRING, placing, printed, resolve
from scaffold.sources import search_order
from scaffold.types import PyFloat, PyInt, PyLiteral, text_of

BUILTIN_PREFIX = "builtin"
# Seconds one template file may take to render (the built-in ones take milliseconds).
TIME_BUDGET = 10.0
# Characters one rendered file may have (the largest built-in file has ~15,000); also
# the largest repeat count, width or size any operator, call or filter may be given.
MAX_OUTPUT = 4 * 2**20


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


class OverBudget(TemplateError):
    """A template ran past :data:`TIME_BUDGET` or :data:`MAX_OUTPUT`."""


# When the current render must end (time.monotonic()), for the checks that work in
# any thread; the main thread also gets a timer signal that stops any loop.
_DEADLINE: ContextVar[float] = ContextVar("deadline", default=float("inf"))


def _check_deadline() -> None:
    if time.monotonic() > _DEADLINE.get():
        raise OverBudget(f"ran past its time budget of {TIME_BUDGET:g} s")


def _check_size(*numbers: Any) -> None:
    for number in numbers:
        if isinstance(number, (int, float)) and abs(number) > MAX_OUTPUT:
            raise SecurityError(f"{number!r} is above the limit of {MAX_OUTPUT}")


# Widths and precisions: of %-formats, and of str.format's fields ({:>80}, {0:.3f}).
_PERCENT_WIDTH = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\d*)(?:\.(\d*))?[a-zA-Z%]")
_FIELD_SPEC = re.compile(r"\{[^{}]*?:([^{}]*)\}")


def _check_format(text: Any) -> None:
    """Refuse format widths and precisions above :data:`MAX_OUTPUT`."""
    if not isinstance(text, str):
        return
    numbers = [n for pair in _PERCENT_WIDTH.findall(text) for n in pair if n]
    numbers += [
        n for spec in _FIELD_SPEC.findall(text) for n in re.findall(r"\d+", spec)
    ]
    _check_size(*(int(n) for n in numbers))


class _BudgetedRange:
    """``range`` for templates: the sandbox's size limit, and the time budget checked
    as it is iterated (the timer signal stops loops only in the main thread)."""

    def __init__(self, *args: int) -> None:
        self._range = _safe_range(*args)

    def __iter__(self) -> Iterator[int]:
        for index, item in enumerate(self._range):
            if not index % 1024:
                _check_deadline()
            yield item

    def __len__(self) -> int:
        return len(self._range)

    def __getitem__(self, index: Any) -> Any:
        return self._range[index]


def _safe_range(*args: int) -> range:
    from jinja2.sandbox import safe_range

    return safe_range(*args)


class BudgetedSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, with the time budget checked at every call and
    attribute, and numbers above :data:`MAX_OUTPUT` refused where they size output."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            for count, other in ((left, right), (right, left)):
                if isinstance(count, int) and hasattr(other, "__len__"):
                    _check_size(count * max(len(other), 1))
        elif operator == "**":
            if isinstance(left, int) and isinstance(right, int) and abs(left) > 1:
                _check_size(left.bit_length() * right // 3)  # about its digits
        elif isinstance(left, str):  # %
            _check_format(left)
        return super().call_binop(context, operator, left, right)

    def call(self, context: Any, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        _check_deadline()
        owner = getattr(obj, "__self__", None)
        if isinstance(owner, (str, bytes)) or getattr(obj, "__name__", "") in (
            "generate_lorem_ipsum",
        ):
            _check_size(*args, *kwargs.values())  # "x".ljust(10**9), lipsum(10**9)
        return super().call(context, obj, *args, **kwargs)

    def getattr(self, obj: Any, attribute: str) -> Any:
        _check_deadline()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        _check_deadline()
        return super().getitem(obj, argument)

    def wrap_str_format(self, value: Any) -> Any:
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:
            _check_format(getattr(value, "__self__", None))
        return wrapped


# Filters from text to text: given a user string, they work on its text, and what
# they return is placed as the user's text is (``{{ note|upper }}`` is still safe).
TEXT_FILTERS = frozenset(
    {"capitalize", "center", "indent", "lower", "replace", "title", "trim",
     "truncate", "upper", "wordwrap"}
)  # fmt: skip


# Filters whose parameters size what they make: x|center(10**9), [1]|slice(10**9).
SIZING_FILTERS = frozenset({"center", "indent", "slice", "wordwrap"})


def _bounded_filter(name: str, function: Any) -> Any:
    """``function`` with the time budget checked; a sizing filter refusing parameters
    above :data:`MAX_OUTPUT`, ``format`` refusing such widths; a text filter given a
    user string working on its text."""
    skip = 1 if _PassArg.from_obj(function) is None else 2
    text_filter = name in TEXT_FILTERS
    sizing = name in SIZING_FILTERS

    @functools.wraps(function)  # keeps Jinja's pass_context marks
    def bounded(*args: Any, **kwargs: Any) -> Any:
        _check_deadline()
        if sizing:
            _check_size(*args[skip:], *kwargs.values())
        if name == "format" and len(args) >= skip:
            _check_format(args[skip - 1])
        value = args[skip - 1] if len(args) >= skip else None
        if text_filter and isinstance(value, (PyLiteral, PyInt, PyFloat)):
            args = (*args[: skip - 1], text_of(value), *args[skip:])
            result = function(*args, **kwargs)
            if isinstance(value, PyLiteral) and isinstance(result, str):
                return PyLiteral(result, _name(value))
            return result  # a number's text holds nothing to escape
        return function(*args, **kwargs)

    return bounded


@jinja2.pass_context
def docstring_filter(context: Any, value: Any) -> str:
    """``{{ note|docstring }}``: the text, escaped for the string literal around it."""
    return printed(text_of(value), "", _name(value), DOCSTRING)


@jinja2.pass_context
def comment_filter(context: Any, value: Any) -> str:
    """``# {{ note|comment }}``: the text on one line, for a comment."""
    return printed(text_of(value), "", _name(value), COMMENT)


def _name(value: Any) -> str:
    return getattr(value, "_name", "") if isinstance(value, PyLiteral) else ""


class UserBytecodeCache(jinja2.FileSystemBytecodeCache):
    """Compiled templates in ``$XDG_CACHE_HOME/kscaffold`` (``~/.cache/kscaffold``),
    a folder only its user can write; checked each run, or no cache at all.

    Not Jinja's default folder in the shared temporary directory: there another user
    can put a file, a symlink or a folder of theirs first, which makes Jinja fail
    (and a cache someone else can write runs their code). A cache file that cannot
    be read or written is compiled again, never an error.
    """

    # The name carries the sandbox's version: code compiled for an earlier sandbox
    # (without the operator checks of BudgetedSandbox) is never loaded.
    pattern = "jinja-sandbox2-%s.cache"

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
    env = BudgetedSandbox(
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
    env.filters = {name: _bounded_filter(name, f) for name, f in env.filters.items()}
    env.filters.update(docstring=docstring_filter, comment=comment_filter)
    env.globals["range"] = _BudgetedRange
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


@contextmanager
def _budget() -> Iterator[None]:
    """Time the block: past :data:`TIME_BUDGET`, stop it with :class:`OverBudget`."""
    token = _DEADLINE.set(time.monotonic() + TIME_BUDGET)
    timer = threading.current_thread() is threading.main_thread() and signal.getitimer(
        signal.ITIMER_REAL
    ) == (0.0, 0.0)
    if timer:

        def stop(signum: int, frame: Any) -> None:
            raise OverBudget(f"ran past its time budget of {TIME_BUDGET:g} s")

        previous = signal.signal(signal.SIGALRM, stop)
        signal.setitimer(signal.ITIMER_REAL, TIME_BUDGET)
    try:
        yield
    finally:
        if timer:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        _DEADLINE.reset(token)


def _render_text(env: jinja2.Environment, template: str, context: dict) -> str:
    chunks, size = [], 0
    for chunk in env.get_template(template).generate(context):
        size += len(chunk)
        if size > MAX_OUTPUT:
            raise OverBudget(f"renders more than {MAX_OUTPUT} characters")
        chunks.append(chunk)
    return "".join(chunks)


def render(
    env: jinja2.Environment,
    template: str,
    context: dict[str, Any],
    target: str | None = None,
) -> str:
    """Render one template; any failure becomes a TemplateError with file and line.

    ``target`` (the output's file name; by default the template's, less ``.j2``)
    says how user values are placed: as Python, TOML or plain text.
    """
    target = target or template.removesuffix(".j2")
    try:
        with _budget(), placing(template) as placement:
            text = _render_text(env, template, context)
        return resolve(text, placement, target)
    except OverBudget as exc:
        raise OverBudget(f"{template}: {exc}") from None
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
