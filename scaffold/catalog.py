"""Text for ``kscaffold list`` and ``kscaffold show``: what kinds exist and what they take."""

from __future__ import annotations

import textwrap

from scaffold.kinds import Catalog, Kind, Rule


def listing(catalog: Catalog) -> str:
    """One paragraph per kind: name, where it comes from (and what it overrides),
    description, options."""
    sources = catalog.sources
    lines = []
    for name, layers in catalog.layers().items():
        kind = catalog.find(name)
        origin = layers[0].label
        if len(layers) > 1:
            origin += "; overrides " + ", ".join(s.label for s in layers[1:])
        lines.append(f"{name}  [{origin}]")
        for output in kind.files:
            # A template file alone (no kind.toml) can replace the kind's own file.
            owner = next(s for s in sources if (s.path / output.template).is_file())
            if owner.path != kind.source.path:
                lines.append(f"    {output.template} from {owner.label}")
        lines.append(f"    {kind.description}")
        options = ", ".join(
            f"{v.option} {v.type.metavar}={v.default_text()}" for v in kind.variables
        )
        lines.append(f"    options: {options}")
    return "\n".join(lines) + "\n"


def _condition(kind: Kind, rule: Rule) -> str:
    return " and ".join(
        f"{kind.variable(name).option} is "
        + " or ".join(kind.variable(name).shown(v) for v in allowed)
        for name, allowed in rule.when.items()
    )


def details(kind: Kind) -> str:
    """A kind's description, origin, files, and each variable with its type and default."""
    lines = [
        f"{kind.name}: {kind.description}",
        f"from {kind.source.origin}: {kind.source.path}",
        "files:",
        *(f"  {f.path}  <-  {f.template}" for f in kind.files),
        f"  test_<module>.py  <-  {kind.test}  (with --with-test)",
        "variables (each is an option, or --set NAME=VALUE):",
    ]
    for v in kind.variables:
        lines.append(f"  {v.option} {v.type.metavar}  (default: {v.default_text()})")
        text = (
            f"{v.help} Accepts {v.expected()}."
            if v.help
            else f"Accepts {v.expected()}."
        )
        lines += textwrap.wrap(
            text, width=88, initial_indent=" " * 6, subsequent_indent=" " * 6
        )
        if v.implies:
            lines.append(f"      Turns on {kind.variable(v.implies).option}.")
        if v.requires:
            lines.append(f"      Needs {kind.variable(v.requires).option}.")
    if kind.rules:
        lines.append("rules:")
    for rule in kind.rules:
        if rule.refuse is not None:
            text = f"when {_condition(kind, rule)}: refused ({rule.refuse})"
        else:
            defaults = ", ".join(
                f"{kind.variable(k).option} {kind.variable(k).shown(v)}"
                for k, v in rule.default.items()
            )
            text = f"when {_condition(kind, rule)}: default {defaults}"
        lines += textwrap.wrap(
            text, width=88, initial_indent="  ", subsequent_indent=" " * 4
        )
    return "\n".join(lines) + "\n"
