"""The command line: parse options, call the core, turn errors into one line and an exit code.

Nothing outside this module knows about Click. Each kind's options are made from its
metadata, so built-in and user kinds get their command lines the same way.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Any

import click

from scaffold import generate
from scaffold.errors import CheckFailedError, ConflictError, ScaffoldError
from scaffold.kinds import InputSpec, Kind, Reserved
from scaffold.variables import Variable
from scaffold.workspace import Workspace, resolve


class OneLineErrors(click.Group):
    """A group whose failures print a single ``Error: ...`` line, no usage, no traceback."""

    def main(self, args=None, prog_name=None, standalone_mode=True, **extra):
        _print_paths_as_given()
        try:
            code = super().main(args, prog_name, standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as exc:
            click.echo(exc.ctx.get_help())  # `kscaffold` alone: the help, not an error
            sys.exit(exc.exit_code)
        except click.exceptions.UsageError as exc:
            hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
            self._fail(exc.format_message() + hint, exc.exit_code)
        except click.ClickException as exc:
            self._fail(exc.format_message(), exc.exit_code)
        except ScaffoldError as exc:
            if isinstance(exc, CheckFailedError) and exc.details:
                click.echo(exc.details, nl=False, err=True)  # the check's table
            self._fail(str(exc), exc.exit_code)
        except click.exceptions.Abort:
            self._fail("aborted", 1)
        except BrokenPipeError:  # `kscaffold new ... --stdout | head`
            sys.exit(1)
        except OSError as exc:  # printing to a full disk, say
            self._fail(f"cannot write output: {exc.strerror or exc}", 1)
        if standalone_mode:
            sys.exit(code or 0)
        return code

    @staticmethod
    def _fail(message: str, code: int) -> None:
        # One line, always: a multi-line message (a library's) keeps its first line.
        first = (message.strip().splitlines() or ["failed"])[0]
        click.echo(f"Error: {first}", err=True)
        sys.exit(code)


def _print_paths_as_given() -> None:
    """A path given as bytes that are not UTF-8 (``-o $'\\xff'``) is printed back as
    those bytes: a strict stream would fail on it after the files were written."""
    for stream in (sys.stdout, sys.stderr):
        if getattr(stream, "errors", None) == "strict" and hasattr(
            stream, "reconfigure"
        ):
            stream.reconfigure(errors="surrogateescape")


@click.group(
    cls=OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.version_option(package_name="kscaffold", prog_name="kscaffold")
def cli() -> None:
    """Generate correct, ready-to-edit Keras 3 model files."""


def _option(variable: Variable) -> click.Option:
    """The command-line option for one template variable, as its type describes it."""
    if variable.type.flag:
        return click.Option(
            [f"{variable.option}/--no-{variable.option[2:]}", variable.name],
            default=None,
            help=f"{variable.help} [default: {variable.default_text()}]",
        )
    shown = (
        f"; default: {variable.default_text()}" if variable.default is not None else ""
    )
    return click.Option(
        [variable.option, variable.name],
        type=str,
        default=None,  # None: not given, so --set may give it
        metavar=variable.type.metavar,
        help=f"{variable.help} [{variable.expected()}{shown}]",
    )


BACKEND_HELP = (
    "The Keras backend the code is for: tensorflow, jax or torch "
    "[default: [tool.kscaffold] backend, else KERAS_BACKEND, else keras.json's, "
    "else tensorflow]."
)


def backend_option() -> click.Option:
    """``--backend``: checked by the core, so a bad value is one line naming it."""
    return click.Option(["--backend"], default=None, metavar="NAME", help=BACKEND_HELP)


def _new_options() -> list[click.Parameter]:
    """The options every ``kscaffold new KIND`` has besides the kind's variables."""
    return [
        backend_option(),
        click.Option(
            ["--set", "assignments"],
            multiple=True,
            metavar="NAME=VALUE",
            help="Set any variable of the kind (repeatable).",
        ),
        OUTPUT_OPTION,
        TEMPLATES_OPTION,
        click.Option(["--force"], is_flag=True, help="Overwrite existing files."),
        click.Option(
            ["--dry-run"],
            is_flag=True,
            help="Say what would be written; write nothing.",
        ),
        click.Option(
            ["--stdout"], is_flag=True, help="Print the code instead of writing it."
        ),
        click.Option(
            ["--with-test"],
            is_flag=True,
            help="Also write test_<module>.py (into tests/ when the folder has one).",
        ),
        click.Option(
            ["--verify"],
            is_flag=True,
            help="Import, build, train and save/load the new model before writing it.",
        ),
    ]


def _kind_command(kind: Kind) -> click.Command:
    """A Click command for ``kscaffold new KIND`` built from the kind's metadata."""

    def run(
        name: str,
        force: bool,
        dry_run: bool,
        stdout: bool,
        assignments: tuple[str, ...],
        with_test: bool,
        verify: bool,
        output: str | None,
        templates: tuple[str, ...],
        backend: str | None,
        **values: Any,
    ):
        # The kind was found from an early reading of -o and --templates; reused
        # unless Click's own parse differs (a value that looked like -o, say).
        workspace = resolve(
            templates=templates,
            output=output,
            find_project=True,
            previous=_workspace(click.get_current_context()),
        )
        plan = generate.new(
            kind.name,
            name,
            values,
            workspace=workspace,
            assignments=assignments,
            force=force,
            dry_run=dry_run,
            stdout=stdout,
            with_test=with_test,
            verify=verify,
            backend=backend,
        )
        if plan.report:
            click.echo(plan.report, nl=False, err=True)
        for target in plan:
            if stdout:
                click.echo(target.text, nl=False)
            elif dry_run and target.exists:
                needs = "" if force else " (it exists: needs --force)"
                click.echo(f"would overwrite {target.path}{needs}")
            elif dry_run:
                click.echo(f"would write {target.path}")
            else:
                click.echo(f"{'overwrote' if target.exists else 'wrote'} {target.path}")

    params = [
        click.Argument(["name"], metavar="NAME"),
        *(_option(v) for v in kind.variables),
        *_new_options(),
    ]
    return KindCommand(
        kind.name,
        callback=run,
        params=params,
        help=f"{kind.description}\n\nFrom {kind.source.origin}: {kind.source.path}",
        short_help=kind.description,
    )


class KindCommand(click.Command):
    """``kscaffold new KIND``: an option of another kind is refused by name."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.NoSuchOption as exc:
            owners = _workspace(ctx).catalog.owners(exc.option_name)
            if not owners:
                raise
            raise click.UsageError(
                f"{exc.option_name} does not apply to kind {self.name!r}; "
                f"it is an option of {', '.join(owners)}",
                ctx,
            ) from None


def not_empty(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Refuse "" where a path belongs: it would silently mean the current folder."""
    values = value if isinstance(value, tuple) else (value,)
    if any(v is not None and str(v) == "" for v in values):
        raise click.BadParameter("must not be empty")
    return value


_TEMPLATES = {
    "multiple": True,
    "metavar": "DIR",
    "callback": not_empty,
    "help": "A template directory searched before the others (repeatable).",
}
TEMPLATES_OPTION = click.Option(["--templates"], **_TEMPLATES)  # for built commands
templates_option = click.option("--templates", **_TEMPLATES)  # for decorated ones
OUTPUT_OPTION = click.Option(
    ["-o", "--output"],
    type=click.Path(file_okay=False),
    default=None,
    callback=not_empty,
    help="Folder to write into, created if missing [default: the current "
    "folder; inside a project made by `kscaffold init`, its models package, "
    "with a test in its tests folder].",
)


def _preparse(args: list[str], *params: click.Parameter) -> dict[str, Any]:
    """The values of ``params`` in ``args``, parsed by Click before the other options
    (which depend on them) are known. Unknown options are passed over."""
    command = click.Command(
        None,
        params=list(params),
        add_help_option=False,
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    )
    with command.make_context("kscaffold", list(args), resilient_parsing=True) as ctx:
        return ctx.params


@functools.cache
def reserved() -> Reserved:
    """Every name and option the command line uses itself: kind variables may not."""
    params = [
        *_new_options(),
        *ModelOptionsCommand.own(init),
        *ModelOptionsCommand.own(update),
        click.Argument(["name"]),
    ]
    options = {"-h", "--help", "--version"}
    for param in params:
        options.update(getattr(param, "opts", ()), getattr(param, "secondary_opts", ()))
    return Reserved(frozenset(p.name for p in params if p.name), frozenset(options))


def _workspace(ctx: click.Context) -> Workspace:
    """The workspace resolved for this command (see :class:`KindGroup`)."""
    root = ctx.find_root()
    if "kscaffold.workspace" not in root.meta:
        root.meta["kscaffold.workspace"] = resolve(
            reserved=reserved(), find_project=True
        )
    return root.meta["kscaffold.workspace"]


class KindGroup(click.Group):
    """``kscaffold new``: one subcommand per kind found on the template search path."""

    def resolve_command(self, ctx: click.Context, args: list[str]):
        given = _preparse(args[1:], OUTPUT_OPTION, TEMPLATES_OPTION)
        ctx.find_root().meta["kscaffold.workspace"] = resolve(
            templates=given.get("templates") or (),
            output=given.get("output"),
            reserved=reserved(),
            find_project=True,
        )
        return super().resolve_command(ctx, args)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return _workspace(ctx).catalog.names()

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return _kind_command(_workspace(ctx).catalog.find(name))


@cli.group(cls=KindGroup)
def new() -> None:
    """Write a new model file: kscaffold new KIND NAME [OPTIONS]."""


@cli.command("list")
@templates_option
def list_kinds(templates: tuple[str, ...]) -> None:
    """List every kind: where it comes from, what it is, its options."""
    from scaffold.catalog import listing

    workspace = resolve(templates=templates, reserved=reserved())
    click.echo(listing(workspace.catalog), nl=False)


@cli.command()
@click.argument("kind")
@templates_option
def show(kind: str, templates: tuple[str, ...]) -> None:
    """Show a kind's variables: option, type, default, accepted values."""
    from scaffold.catalog import details

    workspace = resolve(templates=templates, reserved=reserved())
    click.echo(details(workspace.catalog.find(kind)), nl=False)


@cli.group()
def templates() -> None:
    """Work with template directories."""


@templates.command()
@click.argument("kind")
@click.argument(
    "directory", default="kscaffold_templates", required=False, callback=not_empty
)
@click.option("--force", is_flag=True, help="Replace an earlier copy of the kind.")
def eject(kind: str, directory: str, force: bool) -> None:
    """Copy a built-in KIND, and the shared partials it uses, into DIRECTORY
    (default: ./kscaffold_templates) to edit."""
    from scaffold.eject import eject_kind

    copied = eject_kind(kind, Path(directory), force=force)
    click.echo(f"copied the built-in {kind!r} kind to {copied}")
    click.echo("use it with any of:")
    click.echo(f"  kscaffold new {kind} NAME --templates {directory}")
    click.echo(f"  export KSCAFFOLD_TEMPLATES={directory}")
    click.echo(f'  [tool.kscaffold] templates = ["{directory}"]   (in pyproject.toml)')


class ModelOptionsCommand(click.Command):
    """``kscaffold init`` and ``update``: besides its own options, every variable of the
    kinds found on the template search path is an option, passed to each model whose
    kind has it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.own_params = list(self.params)

    @staticmethod
    def own(command: click.Command) -> list[click.Parameter]:
        return list(getattr(command, "own_params", command.params))

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # The kinds' options come from the search path of the current folder; the
        # project's own folder (PATH) reuses it unless it has another pyproject.toml.
        given = _preparse(args, TEMPLATES_OPTION)
        workspace = resolve(templates=given.get("templates") or (), reserved=reserved())
        ctx.meta["kscaffold.workspace"] = workspace
        own = [param.name for param in self.own_params if param.name]
        variables = workspace.catalog.variables(leave_out=own)
        self.params = [*self.own_params, *map(_option, variables)]
        return super().parse_args(ctx, args)


@cli.command(cls=ModelOptionsCommand)
@click.argument("path", type=click.Path(), callback=not_empty)
@click.option("--name", help="The import package [default: from PATH].")
@click.option(
    "--model",
    "models",
    multiple=True,
    metavar="KIND:ClassName",
    help="A model to create (repeatable) [default: sequential:Classifier].",
)
@click.option(
    "--set",
    "assignments",
    multiple=True,
    metavar="NAME=VALUE",
    help="A model option, for every model whose kind has it (repeatable).",
)
@templates_option
@click.option("--backend", metavar="NAME", help=BACKEND_HELP)
@click.option("--force", is_flag=True, help="Write into a folder that is not empty.")
def init(
    path: str,
    name: str | None,
    models: tuple[str, ...],
    assignments: tuple[str, ...],
    templates: tuple[str, ...],
    backend: str | None,
    force: bool,
    **values: Any,
) -> None:
    """Create a Keras project at PATH: package, models, train.py, tests.

    Model options (--units, --accumulate ...) apply to every model whose kind has them.
    """
    from scaffold.bootstrap import init as init_project

    written = init_project(
        Path(path),
        name=name,
        models=models,
        values=values,
        assignments=assignments,
        force=force,
        template_dirs=templates,
        previous=click.get_current_context().meta["kscaffold.workspace"],
        backend=backend,
    )
    for target in written:
        if target.exists:
            click.echo(f"overwrote {target.path}")
    click.echo(f"created {path} ({len(written)} files)")
    click.echo(
        f"next: cd {path} && python3 -m venv .venv && .venv/bin/pip install -e ."
    )
    click.echo("      .venv/bin/python -m pytest")


@templates.command("check")
@click.argument("directory", type=click.Path(), callback=not_empty)
@click.option("--backend", metavar="NAME", help=BACKEND_HELP)
def check_templates(directory: str, backend: str | None) -> None:
    """Render every kind in DIRECTORY with its defaults; import, build, train, save/load it.

    The models are written for --backend and checked on it (in a child process when
    it is not this process's)."""
    from scaffold.template_check import check_directory, report, warnings

    for line in warnings(Path(directory)):
        click.echo(line, err=True)
    results = check_directory(Path(directory), reserved(), backend)  # imports keras
    click.echo(report(results), nl=False)
    failed = sum(not outcome.ok for _, outcome in results)
    if failed:
        raise click.exceptions.Exit(1)


def _shape(ctx: click.Context, param: click.Parameter, value: str | None):
    """``--input-shape 16,3``: one example's shape, positive integers."""
    if value is None:
        return None
    try:
        sizes = tuple(int(part) for part in value.split(","))
    except ValueError:
        sizes = ()
    if not sizes or min(sizes) < 1:
        raise click.BadParameter(
            f"{value!r} is not comma-separated positive integers, e.g. 8 or 16,3"
        )
    return sizes


@cli.command("check")
@click.argument("paths", nargs=-1, required=True, type=click.Path(), callback=not_empty)
@click.option(
    "--input-shape",
    callback=_shape,
    metavar="N[,N...]",
    help="One example's shape, e.g. 8 or 16,3 [default: read from each class].",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    help="Batch size (a stateful model's fixed one) [default: its batch_size, or 32].",
)
def check_models(
    paths: tuple[str, ...], input_shape: tuple[int, ...] | None, batch_size: int | None
) -> None:
    """Import each file, then build, train, save and load every model and layer in it.

    This executes the files: importing runs their top-level code, and training runs
    their models' code, as `python FILE` would. Check only code you trust.

    One row per class: the stage it reached (import, build, train, save/load) and the
    reason it stopped; exit 1 if any failed, an exit or signal at import included. A folder means the .py files in it that
    define a model or layer (test files, test_*.py and conftest.py, are left out).
    """
    from scaffold.verify import check_paths, report  # imports keras

    spec = InputSpec(shape=input_shape, batch_size=batch_size)
    outcomes = check_paths([Path(p) for p in paths], spec)
    click.echo(report(outcomes), nl=False)
    if not all(outcome.ok for outcome in outcomes):
        raise click.exceptions.Exit(1)


def _shown(path: Path) -> str:
    """A path as messages print it: relative to the current folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


@cli.command()
@click.argument("path", default=".", type=click.Path(), callback=not_empty)
def status(path: str) -> None:
    """One row per recorded file at or under PATH [default: .]: unchanged, edited or
    missing, and whether today's templates and values would render it differently."""
    from scaffold.update import status as file_status
    from scaffold.update import table

    click.echo(table(file_status(Path(path))), nl=False)


@cli.command(cls=ModelOptionsCommand)
@click.argument("files", nargs=-1, type=click.Path(), callback=not_empty)
@click.option("--all", "all_files", is_flag=True, help="Every recorded file.")
@click.option(
    "--set",
    "assignments",
    multiple=True,
    metavar="NAME=VALUE",
    help="Change a value, for every file whose kind has it (repeatable).",
)
@click.option("--dry-run", is_flag=True, help="Print the unified diff; write nothing.")
@click.option(
    "--kind",
    help="Record FILE, made before the manifest, as this kind (with the options given).",
)
@click.option("--name", "class_name", help="With --kind: the class [default: FILE's].")
@click.option(
    "--from",
    "moved_from",
    type=click.Path(),
    metavar="OLD_PATH",
    callback=not_empty,
    help="FILE is the recorded OLD_PATH, moved or renamed.",
)
@templates_option
def update(
    files: tuple[str, ...],
    all_files: bool,
    assignments: tuple[str, ...],
    dry_run: bool,
    kind: str | None,
    class_name: str | None,
    moved_from: str | None,
    templates: tuple[str, ...],
    **values: Any,
) -> None:
    """Bring recorded files up to today's templates, keeping your edits: FILE... or --all.

    Each file is rendered again with its recorded values (changed by the options
    given) and merged three ways with what you wrote. Conflicts are marked inline
    (yours, as written before, updated); the files are listed and the exit status is 1.
    """
    from scaffold.update import update as update_files

    result = update_files(
        [Path(f) for f in files],
        all_files=all_files,
        values=values,
        assignments=assignments,
        templates=templates or None,
        kind=kind,
        name=class_name,
        moved_from=Path(moved_from) if moved_from else None,
        dry_run=dry_run,
    )
    root = result.root
    for entry in result.adopted:
        verb = "would record" if dry_run else "recorded"
        click.echo(f"{verb} {_shown(root / entry.path)} as {entry.kind} {entry.name}")
    changed = [f for f in result.files if f.changed]
    for f in changed:
        if dry_run:
            click.echo(f.diff(root), nl=False)
            if f.conflicts:
                click.echo(f"would conflict: {_shown(f.path)} ({f.conflicts} regions)")
            elif f.text == f.ours:
                click.echo(f"would record {_shown(f.path)} (the file stays as it is)")
        elif f.conflicts:
            click.echo(f"conflict {_shown(f.path)}: {f.conflicts} regions marked")
        elif f.text != f.ours:
            kept = " (your edits kept)" if f.ours != f.old_base else ""
            click.echo(f"updated {_shown(f.path)}{kept}")
        else:
            click.echo(f"recorded {_shown(f.path)} (the file stays as it is)")
    for entry in result.missing:
        gone = _shown(root / entry.path)
        click.echo(
            f"missing {gone}: if it moved, kscaffold update NEW_PATH --from {gone}; "
            f"if it is gone, kscaffold destroy {gone}",
            err=True,
        )
    if not changed and not result.adopted and not result.missing:
        click.echo("up to date")
    problems = []
    if result.conflicted and not dry_run:
        problems.append(
            f"{len(result.conflicted)} file(s) with conflicts: "
            "edit the regions between <<<<<<< and >>>>>>>"
        )
    if result.missing:
        problems.append(f"{len(result.missing)} recorded file(s) missing")
    if problems:
        raise ConflictError("; ".join(problems))


@cli.command()
@click.argument("targets", nargs=-1, required=True, metavar="FILE...|NAME")
@click.option("--force", is_flag=True, help="Remove edited files too.")
@click.option("--dry-run", is_flag=True, help="Say what would go; remove nothing.")
def destroy(targets: tuple[str, ...], force: bool, dry_run: bool) -> None:
    """Remove generated files unchanged since kscaffold wrote them, and their records.

    FILE: a recorded file (a model brings its test); NAME: a model's class or module
    name (the model and its test). Edited files are listed and kept unless --force.
    """
    from scaffold.destroy import destroy as destroy_files

    result = destroy_files(targets, force=force, dry_run=dry_run)
    for path in result.removed:
        click.echo(
            f"{'would remove' if dry_run else 'removed'} {_shown(result.root / path)}"
        )
    for path in result.kept:
        click.echo(
            f"{'would keep' if dry_run else 'kept'} {_shown(result.root / path)}: "
            "edited since written (--force removes it)"
        )
    if result.kept and not dry_run:
        raise ConflictError(f"{len(result.kept)} edited file(s) kept")


def main(prog_name: str = "kscaffold") -> None:
    """Console-script entry point."""
    cli.main(prog_name=prog_name)
