"""Command line tools: ``python -m pytest_kubevirt_burner <subcommand> ...``.

Subcommands register themselves in ``SUBCOMMANDS``: a name, a one-line help, a function that
adds its arguments and a function that runs it and returns the exit code. Exit codes: 0 success,
1 the work failed (e.g. documents not indexed, an error alert), 2 bad usage, 3 a critical
alert (``check-alerts``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NoReturn

from . import cleanup_cmd, results_cmd

__all__ = ["SUBCOMMANDS", "Subcommand", "main"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


@dataclass(frozen=True)
class Subcommand:
    """One ``python -m pytest_kubevirt_burner`` subcommand."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


UsageError = results_cmd.UsageError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """One line on stderr (not argparse's usage block), exit code 2."""
        self.exit(EXIT_USAGE, f"error: {self.prog}: {message} (see --help)\n")


SUBCOMMANDS: list[Subcommand] = [
    *(Subcommand(*command) for command in results_cmd.commands()),
    Subcommand(
        "cleanup",
        "delete every object labelled with one run's uuid (e.g. after an interrupted run)",
        cleanup_cmd.add_arguments,
        cleanup_cmd.run,
    ),
]


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen subcommand; returns the exit code."""
    parser = _Parser(
        prog="python -m pytest_kubevirt_burner",
        description="pytest-kubevirt-burner command line tools",
    )
    subs = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, parser_class=_Parser
    )
    for sub in SUBCOMMANDS:
        sp = subs.add_parser(sub.name, help=sub.help, description=sub.help)
        sub.add_arguments(sp)
        sp.set_defaults(run=sub.run)
    args = parser.parse_args(argv)
    try:
        code: int = args.run(args)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return code


if __name__ == "__main__":
    sys.exit(main())
