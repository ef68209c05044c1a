"""Crash-safe JSON-array result files (kube-burner's local-indexer format).

Streaming format of a per-object file while the job runs::

    [
    {doc 1},
    {doc 2}

one document per line, each line written and flushed as its object completes (appends only, no
rewrite). ``close()`` adds ``\\n]\\n`` and fsyncs, which makes the file the JSON array kube-burner
writes. A file cut short by a crash or Ctrl-C (no ``]``, possibly a half-written last line) is
read by ``read_json_array``, which keeps every complete line, and ``repair_json_array`` rewrites
it in place as a valid array. Whole-file results (quantiles, jobSummary) are written to a
temporary file, fsynced and renamed over the target, so they are either old or new, never torn.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import orjson

Doc = dict[str, Any]
_OPTS = orjson.OPT_NON_STR_KEYS


def dumps(doc: Doc) -> bytes:
    """One document as compact JSON (NaN becomes null, as JSON has no NaN)."""
    return orjson.dumps(doc, default=str, option=_OPTS)


class ArrayFileWriter:
    """Appends documents to a JSON-array file as they come; thread-safe; close() is idempotent."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self.closed = False
        self._fh: IO[bytes] | None = None
        self._lock = threading.Lock()

    def _open(self) -> IO[bytes]:
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(self.path, "wb")  # noqa: SIM115 - kept open across appends
            self._fh.write(b"[\n")
        return self._fh

    def append(self, doc: Doc) -> None:
        """Write ``doc`` as one line and flush it to the OS."""
        line = dumps(doc)
        with self._lock:
            if self.closed:
                raise ValueError(f"{self.path} is already closed")
            fh = self._open()
            fh.write((b",\n" if self.count else b"") + line)
            fh.flush()
            self.count += 1

    def close(self) -> None:
        """Terminate the array (``[]`` when nothing was written) and fsync."""
        with self._lock:
            if self.closed:
                return
            fh = self._open()
            fh.write(b"\n]\n" if self.count else b"]\n")
            fh.flush()
            with contextlib.suppress(OSError):
                os.fsync(fh.fileno())
            fh.close()
            self.closed = True


def _salvage(data: bytes) -> tuple[list[Doc], int]:
    """Complete documents of a streamed file cut short, and how many lines were unreadable."""
    docs: list[Doc] = []
    dropped = 0
    lines = data.split(b"\n")
    for raw in lines[1:] if lines and lines[0].strip() == b"[" else lines:
        line = raw.strip()
        if line.endswith(b","):
            line = line[:-1]
        if not line or line == b"]":
            continue
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError:
            dropped += 1
            continue
        if isinstance(value, dict):
            docs.append(value)
        else:
            dropped += 1
    return docs, dropped


def read_json_array(path: Path) -> list[Doc]:
    """The documents of a result file, tolerating a file cut short by a crash."""
    data = path.read_bytes()
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        return _salvage(data)[0]
    if isinstance(value, list):
        return [d for d in value if isinstance(d, dict)]
    return [value] if isinstance(value, dict) else []


def repair_json_array(path: Path) -> int:
    """Rewrite a cut-short result file as a valid JSON array; returns the unreadable lines."""
    data = path.read_bytes()
    try:
        orjson.loads(data)
        return 0
    except orjson.JSONDecodeError:
        docs, dropped = _salvage(data)
    write_json_array(path, docs)
    return dropped


def write_json_array(path: Path, docs: Iterable[Doc]) -> None:
    """Atomically replace ``path`` with a JSON array of ``docs`` (one document per line)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(b"[\n" + b",\n".join(dumps(d) for d in docs) + b"\n]\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


_SUMMARY_LOCK = threading.Lock()


def append_job_summary(path: Path, doc: Doc) -> None:
    """Append ``doc`` to the jobSummary array at ``path``.

    Documents of other runs (another ``uuid``) are dropped, so the file holds this session's
    jobs only; a torn or foreign file is salvaged rather than trusted.
    """
    with _SUMMARY_LOCK:
        existing: list[Doc] = []
        if path.exists():
            try:
                existing = read_json_array(path)
            except (OSError, json.JSONDecodeError):
                existing = []
        kept = [d for d in existing if d.get("uuid") == doc.get("uuid")]
        write_json_array(path, [*kept, doc])
