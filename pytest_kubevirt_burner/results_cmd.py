"""kube-burner's result commands: ``index``, ``check-alerts``, ``import`` and ``tarball``.

Flags follow kube-burner's (``-u/--prometheus-url``, ``-m/--metrics-profile``,
``-a/--alert-profile``, ``--start``/``--end`` in epoch seconds, ``-s/--step``, ``--uuid``,
``--es-server``/``--es-index``, ``--metrics-directory``, ``--tarball-name``, ``--tarball``).
Passwords are read from the environment only ($PROMETHEUS_PASSWORD, $ES_PASSWORD).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid as uuidlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from .durations import parse_duration
from .indexers.base import BulkIndexer, IndexerError, IndexResult
from .indexers.local import is_document_array, repair_if_unterminated
from .indexers.tarball import DEFAULT_NAME, TarballError, create_tarball, import_tarball

__all__ = [
    "add_alert_arguments",
    "add_import_arguments",
    "add_index_arguments",
    "add_tarball_arguments",
    "run_alerts",
    "run_import",
    "run_index",
    "run_tarball",
]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CRITICAL = 0, 1, 2, 3


class UsageError(Exception):
    """Bad arguments detected after parsing (exit code 2)."""


def _es_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--es-server",
        action="append",
        metavar="URL",
        help="Elasticsearch/OpenSearch URL (repeatable); credentials may be embedded"
        " (https://user:pw@host); the server's GET / picks the client",
    )
    parser.add_argument("--es-index", metavar="NAME", help="target index")
    parser.add_argument(
        "--es-insecure", action="store_true", help="do not verify the server's TLS certificate"
    )
    parser.add_argument("--es-ca-cert", metavar="FILE", help="CA bundle for the server")
    parser.add_argument("--chunk-size", type=int, default=500, help="documents per bulk request")


def _prometheus_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-u", "--prometheus-url", metavar="URL", help="Prometheus URL")
    parser.add_argument(
        "-t", "--token", metavar="TOKEN", help="Prometheus bearer token (or $PROMETHEUS_TOKEN)"
    )
    parser.add_argument(
        "--username", metavar="USER", help="Prometheus basic-auth user ($PROMETHEUS_PASSWORD)"
    )
    parser.add_argument(
        "--skip-tls-verify", action="store_true", help="do not verify Prometheus' certificate"
    )
    parser.add_argument("--start", type=float, metavar="EPOCH", help="default: end - 1h")
    parser.add_argument("--end", type=float, metavar="EPOCH", help="default: now")
    parser.add_argument("-s", "--step", default="30s", help="range-query step (default 30s)")
    parser.add_argument("--uuid", help="uuid stamped on the documents (default: a new one)")
    parser.add_argument("-j", "--job-name", help="jobName stamped on the documents")
    parser.add_argument(
        "--user-metadata", type=Path, metavar="FILE", help="YAML mapping stamped as metadata"
    )
    parser.add_argument(
        "--metrics-directory", type=Path, metavar="DIR", help="where documents are written"
    )


def add_index_arguments(parser: argparse.ArgumentParser) -> None:
    """``index``: a Prometheus window with metrics profiles, or re-index a metrics directory."""
    parser.add_argument(
        "directory",
        type=Path,
        nargs="?",
        help="re-index this metrics directory's *.json files (instead of querying Prometheus)",
    )
    _prometheus_arguments(parser)
    parser.add_argument(
        "-m",
        "--metrics-profile",
        metavar="FILES",
        help="comma-separated metrics profiles (default metrics.yml)",
    )
    parser.add_argument(
        "--tarball-name", metavar="FILE", help="also write the metrics directory as a tarball"
    )
    _es_arguments(parser)


def add_alert_arguments(parser: argparse.ArgumentParser) -> None:
    """``check-alerts``: evaluate alert profiles over a window."""
    _prometheus_arguments(parser)
    parser.add_argument(
        "-a", "--alert-profile", metavar="FILES", help="comma-separated alert profiles (required)"
    )
    _es_arguments(parser)


def add_import_arguments(parser: argparse.ArgumentParser) -> None:
    """``import``: a results tarball into a search server."""
    parser.add_argument("--tarball", type=Path, metavar="FILE", required=True)
    parser.add_argument(
        "--metrics-directory", type=Path, metavar="DIR", help="unpack here (default: a temp dir)"
    )
    _es_arguments(parser)


def add_tarball_arguments(parser: argparse.ArgumentParser) -> None:
    """``tarball``: write a metrics directory as kube-burner's gzip tarball."""
    parser.add_argument("directory", type=Path, help="metrics directory")
    parser.add_argument(
        "--tarball-name", default=DEFAULT_NAME, metavar="FILE", help=f"default {DEFAULT_NAME}"
    )


# -- helpers ----------------------------------------------------------------------------------
def _open_es(args: argparse.Namespace) -> BulkIndexer | None:
    if not args.es_server:
        if args.es_index:
            raise UsageError("--es-index needs --es-server")
        return None
    if not args.es_index:
        raise UsageError("--es-server needs --es-index")
    if args.chunk_size < 1:
        raise UsageError("--chunk-size must be at least 1")
    from .indexers.select import open_indexer

    try:
        indexer, info = open_indexer(
            args.es_server,
            args.es_index,
            verify=not args.es_insecure,
            ca_certs=args.es_ca_cert,
            chunk_size=args.chunk_size,
        )
    except ValueError as exc:
        raise UsageError(f"--es-index: {exc}") from None
    print(f"{info} at {info.url}")
    return indexer


def _not_indexed(exc: IndexerError, files: list[Path]) -> int:
    """The server cannot be used: say how many documents stay on disk only; exit code 1."""
    from .indexers.select import count_documents

    count = count_documents(files)
    print(f"error: {count} documents not indexed: {exc.reason} ({exc.url})", file=sys.stderr)
    return EXIT_FAILED


def _index_into(indexer: BulkIndexer, files: list[Path]) -> int:
    """Index ``files``; print the outcome; the exit code."""
    result, warnings = indexer.index_files(files)
    return _report(indexer, result, warnings, len(files))


def _report(indexer: BulkIndexer, result: IndexResult, warnings: list[str], files: int) -> int:
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(
        f"{result.indexed} documents from {files} files indexed into {indexer.index}"
        f" at {', '.join(indexer.servers)}"
    )
    if result.failed:
        print(f"error: {indexer.where}: {result.summary()}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _profiles(raw: str | None, default: str | None, flag: str) -> list[Path]:
    if not raw and default is None:
        raise UsageError(f"{flag} is required")
    paths = [Path(p.strip()) for p in (raw or str(default)).split(",") if p.strip()]
    for path in paths:
        if not path.is_file():
            raise UsageError(f"{flag}: {path}: no such file")
    return paths


def _window(args: argparse.Namespace, job: str) -> Any:
    from .metrics.collect import JobWindow

    end = args.end if args.end is not None else time.time()
    start = args.start if args.start is not None else end - 3600
    if start >= end:
        raise UsageError(f"--start {start:g} must be before --end {end:g}")
    metadata: dict[str, Any] = {}
    if args.user_metadata is not None:
        try:
            loaded = yaml.safe_load(args.user_metadata.read_text())
        except (OSError, yaml.YAMLError) as exc:
            raise UsageError(f"--user-metadata: {args.user_metadata}: {exc}") from None
        if not isinstance(loaded, dict):
            raise UsageError(f"--user-metadata: {args.user_metadata}: not a YAML mapping")
        metadata = loaded
    uuid = args.uuid or str(uuidlib.uuid4())
    return JobWindow(args.job_name or job, start, end, uuid, metadata)


def _prometheus(args: argparse.Namespace) -> Any:
    from .metrics.prometheus import PrometheusClient

    if not args.prometheus_url:
        raise UsageError("-u/--prometheus-url is required")
    client = PrometheusClient(
        args.prometheus_url,
        token=args.token or os.environ.get("PROMETHEUS_TOKEN"),
        username=args.username,
        password=os.environ.get("PROMETHEUS_PASSWORD"),
        verify=not args.skip_tls_verify,
    )
    client.check()
    return client


def _step(args: argparse.Namespace) -> float:
    try:
        step = parse_duration(args.step)
    except ValueError as exc:
        raise UsageError(f"--step: {exc}") from None
    if step <= 0:
        raise UsageError("--step must be positive")
    return step


# -- commands ---------------------------------------------------------------------------------
def run_index(args: argparse.Namespace) -> int:
    """Re-index a directory, or index a Prometheus window (kube-burner's ``index``)."""
    if args.directory is not None:
        return _reindex(args)
    from .metrics.profiles import ProfileError
    from .metrics.prometheus import PrometheusError
    from .metrics.window import INDEX_JOB, index_window

    profiles = _profiles(args.metrics_profile, "metrics.yml", "-m/--metrics-profile")
    window = _window(args, INDEX_JOB)
    step = _step(args)
    directory: Path = args.metrics_directory or Path(f"collected-metrics-{window.uuid}")
    unusable: IndexerError | None = None
    try:
        indexer = _open_es(args)
    except IndexerError as exc:
        indexer, unusable = None, exc
    try:
        try:
            with _prometheus(args) as client:
                result = index_window(client, profiles, window, directory, step=step)
        except ProfileError as exc:
            raise UsageError(str(exc)) from None
        except PrometheusError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_FAILED
        for warning in result.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        print(
            f"{result.documents} documents of {len(result.written)} metrics"
            f" (uuid {window.uuid}) written to {directory}"
        )
        code = EXIT_OK
        files = [directory / name for name in sorted(result.written)]
        if unusable is not None:
            code = _not_indexed(unusable, files)
        elif indexer is not None and files:
            code = _index_into(indexer, files)
        if args.tarball_name:
            code = max(code, _tarball(directory, Path(args.tarball_name)))
        return code
    finally:
        if indexer is not None:
            indexer.close()


def _reindex(args: argparse.Namespace) -> int:
    directory: Path = args.directory
    if not args.es_server:
        raise UsageError("--es-server is required to re-index a directory")
    if not directory.is_dir():
        raise UsageError(f"{directory} is not a directory")
    files = sorted(p for p in directory.glob("*.json") if p.is_file() and is_document_array(p))
    if not files:
        raise UsageError(f"{directory} holds no *.json result files")
    for path in files:
        dropped = repair_if_unterminated(path)
        if dropped is not None:
            print(f"{path}: repaired an unterminated array ({dropped} unreadable lines dropped)")
    try:
        indexer = _open_es(args)
    except IndexerError as exc:
        return _not_indexed(exc, files)
    assert indexer is not None
    try:
        return _index_into(indexer, files)
    finally:
        indexer.close()


def run_alerts(args: argparse.Namespace) -> int:
    """kube-burner's ``check-alerts``: 1 when an error alert fired, 3 for a critical one."""
    from .metrics.profiles import ProfileError
    from .metrics.prometheus import PrometheusError
    from .metrics.window import ALERT_JOB, check_alerts_window

    profiles = _profiles(args.alert_profile, None, "-a/--alert-profile")
    window = _window(args, ALERT_JOB)
    step = _step(args)
    directory: Path | None = args.metrics_directory
    if args.es_server and directory is None:
        directory = Path(f"collected-metrics-{window.uuid}")
    unusable: IndexerError | None = None
    try:
        indexer = _open_es(args)
    except IndexerError as exc:
        indexer, unusable = None, exc
    try:
        try:
            with _prometheus(args) as client:
                result = check_alerts_window(client, profiles, window, directory, step=step)
        except ProfileError as exc:
            raise UsageError(str(exc)) from None
        except PrometheusError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_FAILED
        for warning in result.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        for alert in result.verdict.fired:
            print(f"{alert.severity}: {alert.description}")
        counts = result.verdict.by_severity()
        print(
            f"{len(result.verdict.fired)} alerts fired ("
            + ", ".join(f"{n} {s}" for s, n in counts.items())
            + ")"
        )
        code = EXIT_OK
        files = [directory / name for name in sorted(result.written)] if directory else []
        if unusable is not None and files:
            code = _not_indexed(unusable, files)
        elif unusable is not None:
            print(f"error: {unusable}", file=sys.stderr)
            code = EXIT_FAILED
        elif indexer is not None and files:
            code = _index_into(indexer, files)
        if counts["critical"]:
            return EXIT_CRITICAL
        if counts["error"]:
            return EXIT_FAILED
        return code
    finally:
        if indexer is not None:
            indexer.close()


def run_import(args: argparse.Namespace) -> int:
    """kube-burner's ``import``: every JSON array of a tarball into a search server."""
    if not args.es_server:
        raise UsageError("--es-server is required")
    if not args.tarball.is_file():
        raise UsageError(f"--tarball: {args.tarball}: no such file")
    try:
        indexer = _open_es(args)
    except IndexerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    assert indexer is not None
    try:
        result, warnings, files = import_tarball(
            args.tarball, indexer.index_files, args.metrics_directory
        )
    except TarballError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        indexer.close()
    return _report(indexer, result, warnings, files)


def _tarball(directory: Path, tarball: Path) -> int:
    try:
        count = create_tarball(directory, tarball)
    except TarballError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"{count} files of {directory} written to {tarball}")
    return EXIT_OK


def run_tarball(args: argparse.Namespace) -> int:
    """Write a metrics directory as a gzip tarball (kube-burner's ``createTarball``)."""
    if not args.directory.is_dir():
        raise UsageError(f"{args.directory} is not a directory")
    return _tarball(args.directory, Path(args.tarball_name))


def commands() -> Sequence[tuple[str, str, Any, Any]]:
    """(name, help, add_arguments, run) of each result command."""
    return (
        (
            "index",
            "index a Prometheus window with metrics profiles (kube-burner's index), or re-index"
            " a metrics directory's result files, into local files and a search server",
            add_index_arguments,
            run_index,
        ),
        (
            "check-alerts",
            "evaluate alert profiles over a Prometheus window (exit 1 on error, 3 on critical)",
            add_alert_arguments,
            run_alerts,
        ),
        (
            "import",
            "index a results tarball into Elasticsearch/OpenSearch",
            add_import_arguments,
            run_import,
        ),
        (
            "tarball",
            "write a metrics directory as a gzip tarball (kube-burner-metrics.tgz)",
            add_tarball_arguments,
            run_tarball,
        ),
    )
