"""Command line tools: ``python -m pytest_kubevirt_burner <subcommand> ...``.

Subcommands register themselves in ``SUBCOMMANDS``: a name, a one-line help, a function that
adds its arguments and a function that runs it and returns the exit code. Exit codes: 0 success,
1 the work failed (e.g. documents not indexed), 2 bad usage.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from . import cleanup_cmd

__all__ = ["SUBCOMMANDS", "Subcommand", "main"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


@dataclass(frozen=True)
class Subcommand:
    """One ``python -m pytest_kubevirt_burner`` subcommand."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


class UsageError(Exception):
    """Bad arguments detected after parsing (exit code 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """One line on stderr (not argparse's usage block), exit code 2."""
        self.exit(EXIT_USAGE, f"error: {self.prog}: {message} (see --help)\n")


def _index_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("directory", type=Path, help="metrics directory holding *.json files")
    parser.add_argument(
        "--es-server",
        action="append",
        required=True,
        metavar="URL",
        help="Elasticsearch URL (repeatable); credentials may be embedded (https://user:pw@host)",
    )
    parser.add_argument("--es-index", required=True, metavar="NAME", help="target index")
    parser.add_argument(
        "--es-insecure", action="store_true", help="do not verify the server's TLS certificate"
    )
    parser.add_argument("--es-ca-cert", metavar="FILE", help="CA bundle for the server")
    parser.add_argument("--chunk-size", type=int, default=500, help="documents per bulk request")


def _run_index(args: argparse.Namespace) -> int:
    from .indexers.elasticsearch import ElasticIndexer
    from .indexers.local import repair_if_unterminated

    directory: Path = args.directory
    if not directory.is_dir():
        raise UsageError(f"{directory} is not a directory")
    files = sorted(p for p in directory.glob("*.json") if p.is_file())
    if not files:
        raise UsageError(f"{directory} holds no *.json result files")
    if args.chunk_size < 1:
        raise UsageError("--chunk-size must be at least 1")
    for path in files:
        dropped = repair_if_unterminated(path)
        if dropped is not None:
            print(f"{path}: repaired an unterminated array ({dropped} unreadable lines dropped)")
    try:
        indexer = ElasticIndexer(
            args.es_server,
            args.es_index,
            verify=not args.es_insecure,
            ca_certs=args.es_ca_cert,
            chunk_size=args.chunk_size,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    try:
        result, warnings = indexer.index_files(files)
    finally:
        indexer.close()
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(
        f"{result.indexed} documents from {len(files)} files indexed into {indexer.index}"
        f" at {', '.join(indexer.servers)}"
    )
    if result.failed:
        print(f"error: {result.summary()}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


SUBCOMMANDS: list[Subcommand] = [
    Subcommand(
        "index",
        "index a metrics directory's result files into Elasticsearch (idempotent)",
        _index_arguments,
        _run_index,
    ),
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
