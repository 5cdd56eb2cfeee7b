"""The ``tqcheck`` command line: a thin layer over the library.

Each command lives in its own module and is imported only when it is run (``LazyGroup``), so that
``tqcheck --help`` stays fast and imports no pandas, torch or streamlit. A ``TqcheckError`` becomes one
line on stderr and exit code 2.

Exit codes: 0 ok; 1 flags at or above ``--fail-on``; 2 bad usage or input; 3 an internal error (a
bug: one line on stderr, the traceback with ``--debug``).
"""

from __future__ import annotations

import importlib
import sys

import click

#: command name -> ("module:attr", one-line help shown by ``tqcheck --help``)
COMMANDS: dict[str, tuple[str, str]] = {
    "check": ("tqcheck.cli.check:check", "Check machine translations and write a report."),
    "eval": ("tqcheck.cli.evaluate:eval_command", "Measure tqcheck against human labels."),
    "calibrate": ("tqcheck.cli.calibrate:calibrate", "Fit the fusion on labels or reviewer decisions."),
    "review": ("tqcheck.cli.review:review", "Open the reviewer UI on a review store."),
    "import": ("tqcheck.cli.store:import_command", "Load a JSONL report into the review store."),
    "export": ("tqcheck.cli.store:export_command", "Export reviewed segments from the store."),
    "engines": ("tqcheck.cli.engines:engines", "List engines and what is installed."),
    "train-qe": ("tqcheck.cli.train_qe:train_qe", "Train the learned quality-estimation model."),
    "serve": ("tqcheck.cli.serve:serve", "Serve the checker over HTTP (POST /v1/check)."),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        path, _ = COMMANDS[cmd_name]
        module_name, _, attr = path.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            return _unavailable(cmd_name)
        return getattr(module, attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Short help from the table, without importing every command module.
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _unavailable(name: str) -> click.Command:
    @click.command(name, help=COMMANDS[name][1] + " (not available in this build)")
    def command() -> None:
        raise click.UsageError(f"'{name}' is not available in this build of tqcheck")

    return command


#: Exit code of an internal error (a bug), distinct from bad input (2) so that a pipeline can tell them apart.
EXIT_INTERNAL = 3


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tqcheck")
@click.option("--debug", is_flag=True, help="Print the traceback of an internal error.")
def cli(debug: bool) -> None:
    """tqcheck: machine-translation quality checks that explain themselves.

    \b
    Exit codes: 0 ok; 1 flags at or above --fail-on; 2 bad usage or input; 3 an internal error.
    """


def main(argv: list[str] | None = None) -> None:
    from tqcheck.errors import TqcheckError
    from tqcheck.pipeline import bound_thread_spinning

    bound_thread_spinning()  # before any command imports torch (train-qe and eval too)
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args[: args.index("--")] if "--" in args else "--debug" in args

    try:
        cli.main(args=args, prog_name="tqcheck", standalone_mode=False)
    except TqcheckError as exc:
        click.echo(f"tqcheck: error: {exc}", err=True)
        sys.exit(2)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2 if exc.exit_code == 2 or isinstance(exc, click.UsageError) else exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:  # a bug: one line, the traceback only when asked for
        if debug:
            import traceback

            traceback.print_exc()
        click.echo(f"tqcheck: internal error: {type(exc).__name__}: {exc}"
                   + ("" if debug else " (run with --debug for the traceback)"), err=True)
        sys.exit(EXIT_INTERNAL)
