"""The `factcheck` command.

Each module of this package holds one command group and adds it with ``register(app)``;
each command is a thin shell over a plain function. Prefect is imported only inside the
commands that run flows: importing it costs ~2 s (PREFECT_NOTES.md).

Expected errors print one sentence on stderr and exit with the error's code (2 for bad
input, with nothing written); a traceback is a bug.

``-v``/``--verbose`` (before the command) shows Prefect's log lines on the terminal; without
it they go to ``<data_dir>/logs/prefect.log`` (``flows.cli.engine``).
"""

from __future__ import annotations

import sys

import typer

from evidence.errors import FactcheckError
from flows.cli import audit, claims, engine, extract, fetch, review, verify
from flows.cli.support import err_console

app = typer.Typer(
    name="factcheck",
    help="Fact-check claim verification: evidence discovery, review queue, audit trail.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    add_completion=False,
)


@app.callback()
def _options(
    verbose: bool = typer.Option(
        False, "-v", "--verbose", help="show the workflow engine's (Prefect's) log lines"
    ),
) -> None:
    """Fact-check claim verification: evidence discovery, review queue, audit trail."""
    engine.configure(verbose)  # before any command imports Prefect


# One module per command group; each adds its commands to the app. A new group joins here.
COMMAND_GROUPS = (claims, fetch, extract, verify, review, audit)
for _group in COMMAND_GROUPS:
    _group.register(app)


def _exception_classes() -> tuple[tuple[type[BaseException], ...], ...]:
    exits: list[type[BaseException]] = [typer.Exit]
    aborts: list[type[BaseException]] = [typer.Abort]
    usage: list[type[BaseException]] = [typer.exceptions.TyperException]
    try:
        import click  # noqa: PLC0415 - newer typer vendors click: older versions raise click's own exceptions

        exits.append(click.exceptions.Exit)
        aborts.append(click.exceptions.Abort)
        usage.append(click.ClickException)
    except ImportError:  # pragma: no cover
        pass
    return tuple(exits), tuple(aborts), tuple(usage)


_EXIT, _ABORT, _USAGE = _exception_classes()


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns (and, as a console script, exits with) the exit code."""
    command = typer.main.get_command(app)
    try:
        result = command.main(args=argv, prog_name="factcheck", standalone_mode=False)
    except _EXIT as exc:
        code = int(getattr(exc, "exit_code", 0) or 0)
    except _ABORT:
        err_console.print("Aborted.")
        code = 1
    except _USAGE as exc:
        # typer >= 0.24 vendors click; older versions raise click's own exceptions
        err_console.print(f"Error: {exc.format_message()}")  # type: ignore[attr-defined]
        code = int(getattr(exc, "exit_code", 2))
    except FactcheckError as exc:
        err_console.print(str(exc))
        code = exc.exit_code
    else:
        code = result if isinstance(result, int) else 0
    finally:
        if argv is not None:  # in-process (tests, the demo): leave the environment as found
            engine.restore_environment()
    if argv is None:
        sys.exit(code)
    return code
