"""kube-burner's metrics tarball: a gzip tar of the metrics directory, and importing one."""

from __future__ import annotations

import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

from .base import IndexResult
from .local import is_document_array

__all__ = ["DEFAULT_NAME", "TarballError", "create_tarball", "import_tarball"]

DEFAULT_NAME = "kube-burner-metrics.tgz"
"""kube-burner's default ``tarballName``."""


class TarballError(Exception):
    """A tarball cannot be written or read; the message is one line naming the file."""


def create_tarball(directory: Path, tarball: Path) -> int:
    """Write every file under ``directory`` (paths relative to it) to ``tarball``; the count."""
    if not directory.is_dir():
        raise TarballError(f"{directory}: not a directory")
    files = sorted(p for p in directory.rglob("*") if p.is_file())
    target = tarball.resolve()
    files = [p for p in files if p.resolve() != target]
    if not files:
        raise TarballError(f"{directory}: no files to put in a tarball")
    partial = tarball.with_name(f".{tarball.name}.partial")
    try:
        tarball.parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(partial, "w:gz") as tar:
            for path in files:
                tar.add(path, arcname=str(path.relative_to(directory)), recursive=False)
        partial.replace(tarball)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise TarballError(f"{tarball}: cannot write: {exc.strerror or exc}") from None
    return len(files)


def import_tarball(
    tarball: Path,
    index_files: Callable[[list[Path]], tuple[IndexResult, list[str]]],
    into: Path | None = None,
) -> tuple[IndexResult, list[str], int]:
    """Unpack ``tarball`` (into ``into`` or a temporary directory) and index its ``*.json`` files.

    Returns the indexing result, warnings and how many JSON files were indexed.
    """
    try:
        tar = tarfile.open(tarball, "r:*")  # noqa: SIM115 - closed by the with below
    except (OSError, tarfile.TarError) as exc:
        raise TarballError(f"{tarball}: not a readable tarball: {exc}") from None
    with tar, tempfile.TemporaryDirectory(prefix="kb-import-") as tmp:
        target = into if into is not None else Path(tmp)
        target.mkdir(parents=True, exist_ok=True)
        members = [m for m in tar.getmembers() if m.isfile()]
        try:
            tar.extractall(target, members=members, filter="data")
        except (OSError, tarfile.TarError) as exc:
            raise TarballError(f"{tarball}: cannot unpack: {exc}") from None
        files = sorted(
            target / m.name
            for m in members
            if m.name.endswith(".json") and is_document_array(target / m.name)
        )
        skipped = len(members) - len(files)
        result, warnings = index_files(files)
        if skipped:
            warnings.append(
                f"{tarball}: {skipped} files that are not JSON arrays of documents were not indexed"
            )
        return result, warnings, len(files)
