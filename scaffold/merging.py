"""Three-way merge of a recorded file: the user's edits and kscaffold's new rendering.

base = the text kscaffold wrote, ours = the file on disk, theirs = today's rendering.
The merge itself is merge3's (Breezy's diff3 merge, GPL-2.0-or-later, a separate
dependency imported only here): kscaffold does not carry a diff3 of its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from scaffold.formatting import black_mode

CONFLICT_START, CONFLICT_END = "<<<<<<< ", ">>>>>>> "


def has_conflicts(text: str) -> bool:
    lines = text.splitlines()
    return any(line.startswith(CONFLICT_START) for line in lines) and any(
        line.startswith(CONFLICT_END) for line in lines
    )


def lines(text: str) -> list[str]:
    """Lines for the merge: LF newlines, the last line ended too."""
    text = text.replace("\r\n", "\n")
    if text and not text.endswith("\n"):
        text += "\n"
    return text.splitlines(keepends=True)


class Merged(NamedTuple):
    text: str
    conflicts: int


def merge(base: str, ours: str, theirs: str, label: str) -> Merged:
    """Three-way merge: the user's changes (base -> ours) and kscaffold's (base ->
    theirs). Where both changed the same lines, diff3-style markers hold ours, the
    base and theirs, so no line is lost."""
    if ours == base or ours == theirs:
        return Merged(theirs, 0)
    if theirs == base:
        return Merged(ours, 0)
    import merge3  # GPL-2.0-or-later (Breezy's merge), a separate dependency

    merger = merge3.Merge3(lines(base), lines(ours), lines(theirs))
    conflicts = sum(group[0] == "conflict" for group in merger.merge_groups())
    text = "".join(
        merger.merge_lines(
            name_a=f"yours ({label})",
            name_b="kscaffold (updated)",
            name_base="kscaffold (as written before)",
            base_marker="|||||||",
        )
    )
    return Merged(text, conflicts)


def _black_clean(text: str, mode) -> bool:
    import black

    try:
        return black.format_str(text, mode=mode) == text
    except black.InvalidInput:
        return False


def formatted(merged: str, ours: str, theirs: str, path: Path):
    """Black-format a merge that parses when the user's file was Black-clean."""
    if merged in (ours, theirs) or path.suffix != ".py":
        return merged
    import black

    mode = black_mode(path.parent)
    if not _black_clean(ours, mode):
        return merged
    try:
        return black.format_str(merged, mode=mode)
    except black.InvalidInput:
        return merged
