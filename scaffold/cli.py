"""The command line: parse options, call the core, turn errors into one line and an exit code.

Nothing outside this module knows about Click. Each kind's options are made from its
metadata, so built-in and user kinds get their command lines the same way.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from scaffold.errors import ScaffoldError
from scaffold.generate import new as generate_new
from scaffold.generate import template_roots
from scaffold.kinds import Kind, find_kind, kind_names
from scaffold.variables import Variable

# Options every kind's command has; a kind's variables may not reuse these names.
COMMON = ("name", "output", "force", "dry_run", "stdout")


class OneLineErrors(click.Group):
    """A group whose failures print a single ``Error: ...`` line, no usage, no traceback."""

    def main(self, args=None, prog_name=None, standalone_mode=True, **extra):
        try:
            code = super().main(args, prog_name, standalone_mode=False, **extra)
        except click.exceptions.UsageError as exc:
            hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
            self._fail(exc.format_message() + hint, exc.exit_code)
        except click.ClickException as exc:
            self._fail(exc.format_message(), exc.exit_code)
        except ScaffoldError as exc:
            self._fail(str(exc), exc.exit_code)
        except click.exceptions.Abort:
            self._fail("aborted", 1)
        except BrokenPipeError:  # `kscaffold new ... --stdout | head`
            sys.exit(1)
        if standalone_mode:
            sys.exit(code or 0)
        return code

    @staticmethod
    def _fail(message: str, code: int) -> None:
        click.echo(f"Error: {message}", err=True)
        sys.exit(code)


@click.group(
    cls=OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.version_option(package_name="kscaffold", prog_name="kscaffold")
def cli() -> None:
    """Generate correct, ready-to-edit Keras 3 model files."""


def _option(variable: Variable) -> click.Option:
    """The command-line option for one template variable."""
    if variable.type == "bool":
        return click.Option(
            [f"{variable.option}/--no-{variable.option[2:]}", variable.name],
            default=None,
            help=variable.help,
            show_default=str(variable.default).lower(),
        )
    default = variable.default
    if variable.type == "int_list" and default is not None:
        default = ",".join(map(str, default))
    return click.Option(
        [variable.option, variable.name],
        type=str,
        default=None,
        metavar=variable.type.upper(),
        help=f"{variable.help} [{variable.expected()}]",
        show_default=str(default) if default is not None else False,
    )


def _kind_command(kind: Kind) -> click.Command:
    """A Click command for ``kscaffold new KIND`` built from the kind's metadata."""
    taken = set(COMMON) & {v.name for v in kind.variables}
    if taken:
        raise ScaffoldError(
            f"kind {kind.name!r}: variable {taken.pop()!r} clashes with an option"
        )

    def run(
        name: str, output: Path, force: bool, dry_run: bool, stdout: bool, **values: Any
    ):
        targets = generate_new(
            kind.name,
            name,
            values,
            destination=output,
            force=force or stdout,
            dry_run=dry_run or stdout,
        )
        for target in targets:
            if stdout:
                click.echo(target.text, nl=False)
            elif dry_run:
                verb = "overwrite" if target.exists else "write"
                click.echo(f"would {verb} {target.path}")
            else:
                click.echo(f"{'overwrote' if target.exists else 'wrote'} {target.path}")

    params = [
        click.Argument(["name"], metavar="NAME"),
        *(_option(v) for v in kind.variables),
        click.Option(
            ["-o", "--output"],
            type=click.Path(file_okay=False, path_type=Path),
            default=Path("."),
            show_default=True,
            help="Folder to write into (created if missing).",
        ),
        click.Option(["--force"], is_flag=True, help="Overwrite existing files."),
        click.Option(
            ["--dry-run"],
            is_flag=True,
            help="Say what would be written; write nothing.",
        ),
        click.Option(
            ["--stdout"], is_flag=True, help="Print the code instead of writing it."
        ),
    ]
    return click.Command(
        kind.name,
        callback=run,
        params=params,
        help=kind.description,
        short_help=kind.description,
    )


class KindGroup(click.Group):
    """``kscaffold new``: one subcommand per kind found on the template search path."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return kind_names(template_roots())

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return _kind_command(find_kind(name, template_roots()))


@cli.group(cls=KindGroup)
def new() -> None:
    """Write a new model file: kscaffold new KIND NAME [OPTIONS]."""


def main(prog_name: str = "kscaffold") -> None:
    """Console-script entry point."""
    cli.main(prog_name=prog_name)
