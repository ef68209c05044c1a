"""Local indexer: one kube-burner JSON-array file per metricName, appended across jobs.

Files use the line-per-document layout of ``measurements.writer`` (``[``, one document per
line, ``]``). Appending to a finished file moves back over its closing ``]`` and writes only the
new documents, so many jobs cost linear I/O. A file cut short by a crash is repaired on the next
append (and tolerated by ``iter_documents``).
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import orjson

from ..measurements.writer import Doc, dumps, read_json_array, repair_json_array, write_json_array

__all__ = [
    "LocalIndexer",
    "ReadStats",
    "append_documents",
    "file_name",
    "is_document_array",
    "iter_documents",
    "repair_if_unterminated",
]

_WS = b" \t\r\n"
_BACK = 4096


def file_name(metric_name: str) -> str:
    """kube-burner's local file name for a metricName (path separators made safe)."""
    safe = metric_name.replace(os.sep, "_").replace("\0", "_")
    return f"{safe}.json"


def _last_non_ws(fh: IO[bytes], end: int) -> tuple[int, bytes]:
    """Offset and value of the last non-whitespace byte before ``end`` (-1 when none)."""
    pos = end
    while pos > 0:
        start = max(0, pos - _BACK)
        fh.seek(start)
        chunk = fh.read(pos - start)
        stripped = chunk.rstrip(_WS)
        if stripped:
            return start + len(stripped) - 1, stripped[-1:]
        pos = start
    return -1, b""


def _open_for_append(path: Path) -> tuple[IO[bytes], bool]:
    """Open ``path`` positioned where the next document goes; True when it holds documents."""
    if not path.exists() or path.stat().st_size == 0:
        path.parent.mkdir(parents=True, exist_ok=True)
        new = open(path, "wb")  # noqa: SIM115 - returned to the caller
        new.write(b"[\n")
        return new, False
    with open(path, "rb") as probe:
        line_layout = probe.read(2) == b"[\n"
    if not line_layout:
        # Someone else's compact array (or garbage): rewrite it once in the line layout.
        write_json_array(path, read_json_array(path))
    fh = open(path, "r+b")  # noqa: SIM115 - returned to the caller
    size = fh.seek(0, os.SEEK_END)
    pos, last = _last_non_ws(fh, size)
    if last != b"]":
        fh.close()
        repair_json_array(path)
        return _open_for_append(path)
    prev, before = _last_non_ws(fh, pos)
    if before not in (b"[", b"}"):
        fh.close()
        write_json_array(path, read_json_array(path))
        return _open_for_append(path)
    fh.seek(prev + 1)
    fh.truncate()
    if before == b"[":
        fh.write(b"\n")
        return fh, False
    return fh, True


def append_documents(path: Path, docs: Iterable[Doc]) -> int:
    """Append ``docs`` to the JSON array at ``path`` (created if missing); returns how many."""
    fh, has_docs = _open_for_append(path)
    count = 0
    try:
        for doc in docs:
            fh.write((b",\n" if has_docs or count else b"") + dumps(doc))
            count += 1
            if count % 1000 == 0:
                fh.flush()
    finally:
        fh.write(b"\n]\n" if (has_docs or count) else b"]\n")
        fh.flush()
        fh.close()
    return count


def repair_if_unterminated(path: Path) -> int | None:
    """Repair ``path`` in place when its array is not closed; unreadable lines, or None if fine."""
    with open(path, "rb") as fh:
        size = fh.seek(0, os.SEEK_END)
        _, last = _last_non_ws(fh, size)
    if last == b"]":
        return None
    return repair_json_array(path)


def is_document_array(path: Path) -> bool:
    """True for a result file (a JSON array); False for e.g. the report's ``summary.json``."""
    try:
        with open(path, "rb") as fh:
            return fh.read(64).lstrip()[:1] in (b"[", b"")
    except OSError:
        return True  # let the reader report the error


@dataclass(slots=True)
class ReadStats:
    """What ``iter_documents`` could not read."""

    dropped_lines: int = 0
    unterminated: bool = False


def iter_documents(path: Path, stats: ReadStats | None = None) -> Iterator[Doc]:
    """Stream the documents of a result file, tolerating a file cut short by a crash."""
    stats = stats if stats is not None else ReadStats()
    with open(path, "rb") as fh:
        first = fh.readline()
        second = fh.readline()
        line_layout = first.strip() == b"[" and (
            second.strip() in (b"]", b"") or second.lstrip().startswith(b"{")
        )
        if line_layout:
            try:
                orjson.loads(second.strip().rstrip(b","))
            except orjson.JSONDecodeError:
                line_layout = second.strip() in (b"]", b"")
        if not line_layout:
            fh.close()
            data = path.read_bytes()
            try:
                orjson.loads(data)
            except orjson.JSONDecodeError:
                stats.unterminated = True
            yield from read_json_array(path)
            return
        terminated = second.strip() == b"]"
        for raw in itertools.chain((second,), fh) if not terminated else ():
            line = raw.strip()
            if line == b"]":
                terminated = True
                continue
            if line.endswith(b","):
                line = line[:-1]
            if not line:
                continue
            try:
                value = orjson.loads(line)
            except orjson.JSONDecodeError:
                stats.dropped_lines += 1
                continue
            if isinstance(value, dict):
                yield value
            else:
                stats.dropped_lines += 1
        stats.unterminated = not terminated


class LocalIndexer:
    """Writes documents to ``<directory>/<metricName>.json``; thread-safe; tracks its files."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.written: dict[str, int] = {}
        """Documents written this session, by file name."""
        self._lock = threading.Lock()

    def path_for(self, metric_name: str) -> Path:
        """The file that holds ``metric_name``'s documents."""
        return self.directory / file_name(metric_name)

    def append(self, metric_name: str, docs: Iterable[Doc]) -> int:
        """Append ``docs`` (streamed) to the metricName's file; returns how many were written."""
        path = self.path_for(metric_name)
        with self._lock:
            count = append_documents(path, docs)
            self.written[path.name] = self.written.get(path.name, 0) + count
        return count

    def files(self) -> list[Path]:
        """Every ``*.json`` result file in the directory, sorted by name."""
        if not self.directory.is_dir():
            return []
        return sorted(p for p in self.directory.glob("*.json") if p.is_file())
