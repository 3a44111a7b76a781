"""Placing user values into rendered files according to where a template put them.

While a template renders (:func:`placing`), each value a user gave (a string, a
number) and each value passed through the ``docstring`` or ``comment`` filter
prints as a sentinel: an identifier unique to that render. :func:`resolve` then reads
the rendered text and replaces each sentinel by the value written for the place it
landed in. In a Python file (read with :mod:`tokenize`):

- a whole name in code: the value's Python literal (a negative number in brackets);
- inside a string literal: the text escaped for that literal's quote and prefix
  (raw, bytes, f-string braces); the string's value is the user's text;
- inside a comment: the text on one line, control characters escaped;
- glued into a longer name, inside an f-string's ``{...}``, or a filter's value
  outside its place: a TemplateError naming the template and the variable.

A TOML file gets a TOML string (or the escaped text inside a ``"`` string); any
other file the text on one line. So no user value can leave the place a template
gave it, whatever the template forgot.
"""

from __future__ import annotations

import io
import re
import secrets
import tokenize
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, NamedTuple

from scaffold.errors import TemplateError

# Where a filter's value must land: "" for a plain value (anywhere).
DOCSTRING, COMMENT = "docstring", "comment"
# A magic comment on one of the first two lines sets the file's encoding (PEP 263).
_CODING = re.compile(r"coding[:=]")


class Value(NamedTuple):
    """One value printed during a render."""

    text: str  # what the user gave, for text contexts
    code: str  # its Python literal, for code
    name: str  # the variable, for messages
    wants: str = ""  # DOCSTRING or COMMENT when a filter placed it


_SENTINEL = re.compile(r"__ks([0-9a-f]{16})_(\d+)__")


class _Sentinels:
    """This render's sentinels in a text (one compiled pattern serves every render)."""

    def __init__(self, nonce: str) -> None:
        self.nonce = nonce

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        return (m for m in _SENTINEL.finditer(text) if m.group(1) == self.nonce)

    def findall(self, text: str) -> list[re.Match[str]]:
        return list(self.finditer(text))

    def sub(self, replace: Any, text: str) -> str:
        return _SENTINEL.sub(
            lambda m: replace(m) if m.group(1) == self.nonce else m.group(0), text
        )


class Placement:
    """The values printed during one render, each behind its sentinel."""

    def __init__(self, template: str) -> None:
        self.template = template
        self.nonce = secrets.token_hex(8)
        self.values: list[Value] = []
        self.pattern = _Sentinels(self.nonce)

    def sentinel(self, value: Value) -> str:
        self.values.append(value)
        return f"__ks{self.nonce}_{len(self.values) - 1}__"

    def value(self, match: re.Match[str]) -> Value:
        return self.values[int(match.group(2))]

    def fail(self, value: Value, problem: str) -> TemplateError:
        return TemplateError(f"{self.template}: {_named(value)} {problem}")


def _named(value: Value) -> str:
    what = f"variable {value.name!r}" if value.name else "a value"
    return f"{what} (|{value.wants})" if value.wants else what


_ACTIVE: ContextVar[Placement | None] = ContextVar("placement", default=None)


@contextmanager
def placing(template: str) -> Iterator[Placement]:
    """Values printed inside this block print as sentinels of one :class:`Placement`."""
    placement = Placement(template)
    token = _ACTIVE.set(placement)
    try:
        yield placement
    finally:
        _ACTIVE.reset(token)


def printed(text: str, code: str, name: str = "", wants: str = "") -> str:
    """What a value prints as: its sentinel while placing, else ``code`` (or the
    text escaped for ``wants``)."""
    placement = _ACTIVE.get()
    if placement is not None and (wants or text != code):
        # (A value that reads the same everywhere, as 64 does, prints as itself:
        # {% filter wordwrap %} then measures it as it is.)
        if wants:  # ("Model " ~ note)|docstring: the whole text, note's as typed
            text = placement.pattern.sub(lambda m: placement.value(m).text, text)
        return placement.sentinel(Value(text, code, name, wants))
    if wants == DOCSTRING:
        return string_body(text, '"', "")
    if wants == COMMENT:
        return one_line(text)
    return code


# --- escaping ---------------------------------------------------------------------

_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(char: str) -> str:
    return _NAMED_ESCAPES.get(char) or repr(char)[1:-1]  # \x00, \x85, \u2028, \ud800


def one_line(text: str) -> str:
    """``text`` on one line: every line break and control character escaped."""
    return "".join(c if c.isprintable() else _escape(c) for c in text)


def string_body(text: str, quote: str, prefix: str) -> str:
    """``text`` escaped to sit between ``quote``s of a (not raw) literal with ``prefix``.

    Backslashes, the quote character, line breaks and every unprintable character
    are escaped (so one line, whatever the quotes); an f-string doubles braces; a
    bytes literal holds the UTF-8 bytes, ASCII only.
    """
    mark = quote[0]
    if "b" in prefix.lower():
        data = text.encode("utf-8", "surrogatepass")
        return "".join(
            (
                "\\" + chr(b)
                if chr(b) in ("\\", mark)
                else chr(b) if 32 <= b < 127 else f"\\x{b:02x}"
            )
            for b in data
        )
    fstring = _braced(prefix)
    out = []
    for char in text:
        if char in ("\\", mark):
            out.append("\\" + char)
        elif fstring and char in "{}":
            out.append(char * 2)
        elif char.isprintable():
            out.append(char)
        else:
            out.append(_escape(char))
    return "".join(out)


def _braced(prefix: str) -> bool:
    """Whether a literal with ``prefix`` reads ``{...}`` as code (f- and t-strings)."""
    return "f" in prefix.lower() or "t" in prefix.lower()


def _raw_fits(text: str, mark: str) -> bool:
    """Whether ``text`` can sit in a raw literal as it is (it would read back the same)."""
    return "\\" not in text and mark not in text and text.isprintable()


def in_string(text: str, prefix: str, quote: str) -> str:
    """``text`` as it goes inside a literal written ``prefix quote ... quote``.

    A raw literal cannot escape: text it cannot hold is closed off and given as an
    adjacent literal (``r"a" "\\n" r"b"``), which Python joins into one constant.
    """
    lowered = prefix.lower()
    if "r" not in lowered:
        return string_body(text, quote, prefix)
    text_fits = (
        _raw_fits(text, quote[0])
        and not (_braced(prefix) and ("{" in text or "}" in text))
        and not ("b" in lowered and not text.isascii())
    )
    if text_fits:
        return text
    plain = lowered.replace("r", "")
    # Spaced, as r'' '' would read as the start of a triple quote.
    body = string_body(text, quote, plain)
    return f"{quote} {plain}{quote}{body}{quote} {prefix}{quote}"


# --- Python -----------------------------------------------------------------------


class _Span(NamedTuple):
    start: int
    end: int
    kind: str  # "name", "string", "comment"


_OPENING = {n for n, name in tokenize.tok_name.items() if name.endswith("STRING_START")}
_CLOSING = {n for n, name in tokenize.tok_name.items() if name.endswith("STRING_END")}


def _spans(text: str) -> list[_Span]:
    """Where names, string literals (f-strings whole) and comments are in ``text``."""
    starts, total = [], 0
    for line in text.split("\n"):
        starts.append(total)
        total += len(line) + 1

    def offset(position: tuple[int, int]) -> int:
        return starts[position[0] - 1] + position[1]

    spans, opened = [], []
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type in _OPENING:  # f-strings (and t-strings), Python 3.12+
            opened.append(offset(token.start))
        elif token.type in _CLOSING:
            start = opened.pop()
            if not opened:
                spans.append(_Span(start, offset(token.end), "string"))
        elif opened:
            continue  # a name inside an f-string's {...}: the string's span covers it
        elif token.type in (tokenize.NAME, tokenize.STRING, tokenize.COMMENT):
            kind = {tokenize.NAME: "name", tokenize.STRING: "string"}.get(
                token.type, "comment"
            )
            spans.append(_Span(offset(token.start), offset(token.end), kind))
    return spans


def _in_replacement_field(body: str) -> bool:
    """Whether the end of ``body`` (an f-string's text so far) is inside ``{...}``."""
    depth, i = 0, 0
    while i < len(body):
        char = body[i]
        if depth == 0 and char in "{}" and body[i : i + 2] == char * 2:
            i += 2
            continue
        if char == "{":
            depth += 1
        elif char == "}" and depth:
            depth -= 1
        i += 1
    return depth > 0


def _literal_parts(literal: str) -> tuple[str, str]:
    """``(prefix, quote)`` of a string literal's source."""
    prefix = literal[: len(literal) - len(literal.lstrip("bBrRuUfFtT"))]
    rest = literal[len(prefix) :]
    quote = rest[:3] if rest[:3] in ('"""', "'''") else rest[:1]
    return prefix, quote


def _python(text: str, placement: Placement) -> str:
    found = list(placement.pattern.finditer(text))
    if not found:
        return text
    try:
        spans = _spans(text)
    except (tokenize.TokenError, SyntaxError) as exc:
        message = exc.args[0] if exc.args else type(exc).__name__
        raise TemplateError(
            f"{placement.template} rendered code that does not parse: {message}"
        ) from None
    out, done, index = [], 0, 0
    for match in found:
        value = placement.value(match)
        while index < len(spans) and spans[index].end <= match.start():
            index += 1
        span = spans[index] if index < len(spans) else None
        if span is None or span.start > match.start() or span.end < match.end():
            raise placement.fail(value, "is not a whole name, string or comment")
        out.append(text[done : match.start()])
        done = match.end()
        if span.kind == "name":
            if (span.start, span.end) != match.span():
                raise placement.fail(
                    value, "is glued to other text in code; put spaces around it"
                )
            if value.wants:
                raise placement.fail(value, "is printed in code, not in its place")
            out.append(value.code)
        elif span.kind == "comment":
            if value.wants == DOCSTRING:
                raise placement.fail(value, "is printed in a comment")
            line = text.count("\n", 0, match.start()) + 1
            comment = one_line(value.text)
            if line <= 2 and _CODING.search(text[span.start : match.start()] + comment):
                comment = comment.replace(":", "\\x3a").replace("=", "\\x3d")
            out.append(comment)
        else:
            if value.wants == COMMENT:
                raise placement.fail(value, "is printed in a string, not a comment")
            literal = text[span.start : span.end]
            prefix, quote = _literal_parts(literal)
            body_start = span.start + len(prefix) + len(quote)
            if _braced(prefix) and _in_replacement_field(
                text[body_start : match.start()]
            ):
                raise placement.fail(
                    value, "is inside an f-string's {...}; place it in the text part"
                )
            out.append(in_string(value.text, prefix, quote))
    out.append(text[done:])
    return "".join(out)


# --- TOML and plain text ----------------------------------------------------------


def toml_string(text: str) -> str:
    """``text`` escaped for a TOML basic string (lone surrogates, which TOML cannot
    hold, become U+FFFD)."""
    out = []
    for char in text:
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif "\ud800" <= char <= "\udfff":
            out.append("\\uFFFD")
        elif char.isprintable():
            out.append(char)
        elif ord(char) > 0xFFFF:
            out.append(f"\\U{ord(char):08X}")
        else:
            out.append(_NAMED_ESCAPES.get(char) or f"\\u{ord(char):04X}")
    return "".join(out)


def _toml_states(text: str, positions: list[int]) -> list[str]:
    """The lexical state of TOML ``text`` at each of the sorted ``positions``."""
    states, state, i, next_index = [], "value", 0, 0
    quotes = {'"""': "ml-basic", "'''": "ml-literal", '"': "basic", "'": "literal"}
    closing = {v: k for k, v in quotes.items()}
    while next_index < len(positions):
        if i >= positions[next_index] or i >= len(text):
            states.append(state)
            next_index += 1
            continue
        char = text[i]
        if state == "value":
            if char == "#":
                state = "comment"
            elif char in "\"'":
                quote = text[i : i + 3] if text[i : i + 3] in quotes else char
                state = quotes[quote]
                i += len(quote)
                continue
        elif state == "comment":
            if char == "\n":
                state = "value"
        elif state in ("basic", "ml-basic") and char == "\\":
            i += 2
            continue
        elif text.startswith(closing[state], i):
            i += len(closing[state])
            state = "value"
            continue
        i += 1
    return states


def _toml(text: str, placement: Placement) -> str:
    found = list(placement.pattern.finditer(text))
    states = _toml_states(text, [m.start() for m in found])
    out, done = [], 0
    for match, state in zip(found, states):
        value = placement.value(match)
        out.append(text[done : match.start()])
        done = match.end()
        if state == "comment":
            out.append(one_line(value.text))
        elif state in ("basic", "ml-basic"):
            out.append(toml_string(value.text))
        elif state == "value" and not value.wants:
            out.append(f'"{toml_string(value.text)}"')
        else:
            raise placement.fail(
                value, f'cannot be placed in TOML here ({state}); use a "..." string'
            )
    out.append(text[done:])
    return "".join(out)


def _plain(text: str, placement: Placement) -> str:
    return placement.pattern.sub(lambda m: one_line(placement.value(m).text), text)


def resolve(text: str, placement: Placement, target: str) -> str:
    """``text`` with each sentinel replaced by its value written for its place.

    ``target`` is the output's file name: ``.py`` files are read as Python, ``.toml``
    as TOML, anything else as plain text.
    """
    suffix = target.rsplit(".", 1)[-1].lower() if "." in target else ""
    resolver = {"py": _python, "pyi": _python, "toml": _toml}.get(suffix, _plain)
    resolved = resolver(text, placement)
    # A sentinel changed by a filter (``|reverse``, a slice) holds no user text, but
    # what it prints is not the value either: say so, where its pieces show.
    lowered, whole = text.lower(), len(placement.pattern.findall(text))
    pieces = (placement.nonce[:6], placement.nonce[-6:][::-1])
    if any(lowered.count(piece) > whole for piece in pieces):
        raise TemplateError(
            f"{placement.template}: a filter or expression changed the text of a "
            "value before printing it; print values as {{ name }}, or through "
            "|docstring or |comment"
        )
    return resolved


def code_literal(value: Any) -> str:
    """A number's Python literal for code: a negative one in brackets (``(-5) ** 2``)."""
    text = repr(value)
    return f"({text})" if text.startswith("-") else text
