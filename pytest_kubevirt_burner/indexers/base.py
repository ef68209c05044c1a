"""What the Elasticsearch and OpenSearch indexers share: ids, mapping, credentials, streaming."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import orjson

from ..measurements.writer import Doc
from .local import ReadStats, iter_documents

__all__ = [
    "INDEX_BODY",
    "BulkIndexer",
    "IndexResult",
    "IndexerError",
    "Preparer",
    "check_index_name",
    "document_id",
    "prepared",
    "split_credentials",
]

# Only the two fields whose dynamic mapping can go wrong are mapped; every string keeps the
# default text + .keyword multi-field the kube-burner dashboards query.
INDEX_BODY: dict[str, Any] = {
    "mappings": {
        "properties": {"timestamp": {"type": "date"}, "value": {"type": "double"}},
    }
}
_CANONICAL = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS
_BAD_INDEX_CHARS = re.compile(r'[\\/*?"<>| ,#:]')


Preparer = Callable[[list[Doc]], None]
"""Changes a batch of documents in place before it is indexed (the index_documents hook)."""


def prepared(docs: Iterable[Doc], prepare: Preparer, batch: int = 500) -> Iterator[Doc]:
    """``docs`` in batches of ``batch``, each passed through ``prepare`` before it is yielded."""
    chunk: list[Doc] = []
    for doc in docs:
        chunk.append(doc)
        if len(chunk) >= batch:
            prepare(chunk)
            yield from chunk
            chunk = []
    if chunk:
        prepare(chunk)
        yield from chunk


class IndexerError(Exception):
    """A search server cannot be used; the message is one line naming the server and why."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = " ".join(reason.split())
        self.message = f"{url}: {self.reason}"
        super().__init__(self.message)


def document_id(doc: Mapping[str, Any]) -> str:
    """Hex sha256 of the document's canonical JSON (sorted keys): re-indexing is idempotent."""
    return hashlib.sha256(orjson.dumps(doc, option=_CANONICAL, default=str)).hexdigest()


def check_index_name(name: str) -> str:
    """The lowercased index name, or ValueError saying what Elasticsearch/OpenSearch refuse."""
    index = name.strip().lower()
    if not index:
        raise ValueError("no index name given")
    bad = _BAD_INDEX_CHARS.search(index)
    if bad:
        raise ValueError(f"index name {index!r} must not contain {bad.group(0)!r}")
    if index[0] in "-_+":
        raise ValueError(f"index name {index!r} must not start with {index[0]!r}")
    if index in (".", ".."):
        raise ValueError(f"index name {index!r} is not allowed")
    if len(index.encode()) > 255:
        raise ValueError(f"index name {index[:20]!r}... is longer than 255 bytes")
    return index


@dataclass(frozen=True, slots=True)
class IndexResult:
    """Outcome of one indexing call: counts and, when something failed, a one-line reason."""

    indexed: int
    failed: int
    reason: str = ""

    def __add__(self, other: IndexResult) -> IndexResult:
        return IndexResult(
            self.indexed + other.indexed, self.failed + other.failed, self.reason or other.reason
        )

    def summary(self) -> str:
        """``N documents not indexed: <reason>`` or ``N documents indexed``."""
        if self.failed:
            return f"{self.failed} documents not indexed: {self.reason}"
        return f"{self.indexed} documents indexed"


def split_credentials(url: str) -> tuple[str, str | None, str | None]:
    """Remove ``user:pass@`` from a URL (kube-burner's way of passing credentials)."""
    parts = urlsplit(url)
    if parts.username is None:
        return url, None, None
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    clean = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return clean, unquote(parts.username), unquote(parts.password or "")


def resolve_auth(
    urls: Sequence[str],
    username: str | None,
    password: str | None,
    env: Mapping[str, str],
) -> tuple[list[str], tuple[str, str] | None]:
    """Clean URLs and basic credentials: explicit, then $ES_USERNAME/$ES_PASSWORD, then URL."""
    clean: list[str] = []
    url_user: tuple[str, str] | None = None
    for url in urls:
        plain, user, secret = split_credentials(url)
        clean.append(plain)
        if user is not None and url_user is None:
            url_user = (user, secret or "")
    if username is None and env.get("ES_USERNAME"):
        username, password = env["ES_USERNAME"], env.get("ES_PASSWORD", "")
    basic = (username, password or "") if username is not None else url_user
    return clean, basic


def one_line(text: str, limit: int = 300) -> str:
    """``text`` on a single line, at most ``limit`` characters."""
    return " ".join(text.split())[:limit]


class BulkIndexer:
    """Streams documents into one index with a client's ``streaming_bulk`` helper.

    Subclasses set ``client``, ``family`` and implement the four client-specific hooks.
    """

    family = "search server"
    client: Any
    retry_backoff = 1.0
    """Seconds before the first retry of documents the server rejected with 429."""

    def __init__(self, servers: Sequence[str], index: str, chunk_size: int) -> None:
        if not servers:
            raise ValueError(f"no {self.family} server given")
        self.servers = list(servers)
        self.index = check_index_name(index)
        self.chunk_size = chunk_size
        self.auth_kind = "none"
        self._index_ready = False

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(servers={self.servers!r}, index={self.index!r},"
            f" auth={self.auth_kind!r})"
        )

    @property
    def where(self) -> str:
        """``<family> <servers> (index <name>)`` for messages (never credentials)."""
        return f"{self.family} {', '.join(self.servers)} (index {self.index})"

    # -- client-specific hooks -----------------------------------------------------------------
    errors: tuple[type[BaseException], ...] = ()
    """Exceptions of the client that mean the request failed."""

    def _exists(self) -> bool:
        raise NotImplementedError

    def _create(self) -> None:
        """Create the index; must tolerate another writer creating it first."""
        raise NotImplementedError

    def _bulk(self) -> Callable[..., Iterable[tuple[bool, Any]]]:
        raise NotImplementedError

    def _source(self, doc: Doc) -> bytes | str:
        return orjson.dumps(doc, option=orjson.OPT_NON_STR_KEYS, default=str)

    def reason(self, exc: BaseException) -> str:
        """One-line reason for a client exception."""
        raise NotImplementedError

    # -- shared logic --------------------------------------------------------------------------
    def close(self) -> None:
        """Close the client's connections."""
        self.client.close()

    def ensure_index(self) -> None:
        """Create the index with its mapping when it does not exist (raises on failure)."""
        if self._index_ready:
            return
        if not self._exists():
            self._create()
        self._index_ready = True

    def _expand(self, doc: bytes | str | Doc) -> tuple[dict[str, Any], bytes | str | None]:
        assert isinstance(doc, dict)
        return {"index": {"_index": self.index, "_id": document_id(doc)}}, self._source(doc)

    def index_documents(self, docs: Iterable[Doc]) -> IndexResult:
        """Stream ``docs`` into the index; never raises for server or network failures.

        Documents refused with 429 are retried with exponential backoff. A request that
        fails as a whole, or a chunk whose every document is refused, stops the stream: the
        remaining documents are counted as not indexed (they stay in the result files).
        """
        source = iter(docs)
        try:
            self.ensure_index()
        except self.errors as exc:
            return IndexResult(0, sum(1 for _ in source), self.reason(exc))
        pulled = [0]

        def counted() -> Iterator[Doc]:
            for doc in source:
                pulled[0] += 1
                yield doc

        indexed = 0
        refused_in_a_row = 0
        reason = ""
        try:
            for ok, item in self._bulk()(
                self.client,
                counted(),
                chunk_size=self.chunk_size,
                expand_action_callback=self._expand,
                raise_on_error=False,
                raise_on_exception=False,
                max_retries=3,
                initial_backoff=self.retry_backoff,
                yield_ok=True,
            ):
                if ok:
                    indexed += 1
                    refused_in_a_row = 0
                    continue
                info: dict[str, Any] = next(iter(item.values()), {})
                if not reason:
                    reason = self._item_reason(info)
                if "exception" in info:
                    break  # the whole request failed: keep the rest for a later re-index
                refused_in_a_row += 1
                if refused_in_a_row >= self.chunk_size:
                    break  # e.g. a read-only index: every document is refused
        except self.errors as exc:
            reason = reason or self.reason(exc)
        remaining = sum(1 for _ in source)
        return IndexResult(indexed, pulled[0] - indexed + remaining, reason)

    def _item_reason(self, info: Mapping[str, Any]) -> str:
        exc = info.get("exception")
        if isinstance(exc, BaseException):
            return self.reason(exc)
        error = info.get("error")
        if isinstance(error, Mapping):
            text = f"{error.get('type', 'error')}: {error.get('reason', '')}"
        else:
            text = str(error)
        return one_line(f"HTTP {info.get('status', '?')} {text}")

    def index_files(
        self, paths: Iterable[Path], prepare: Preparer | None = None
    ) -> tuple[IndexResult, list[str]]:
        """Index every file (streamed); returns the total and one warning per damaged file."""
        return index_files(self.index_documents, paths, prepare, self.chunk_size)


def index_files(
    index_documents: Callable[[Iterable[Doc]], IndexResult],
    paths: Iterable[Path],
    prepare: Preparer | None = None,
    batch: int = 500,
) -> tuple[IndexResult, list[str]]:
    """Feed each result file to ``index_documents``; the total and one warning per bad file.

    ``prepare`` (when given) sees every batch of documents before it is indexed.
    """
    total = IndexResult(0, 0)
    warnings: list[str] = []
    for path in paths:
        stats = ReadStats()
        docs: Iterable[Doc] = iter_documents(path, stats)
        if prepare is not None:
            docs = prepared(docs, prepare, batch)
        try:
            total += index_documents(docs)
        except OSError as exc:
            warnings.append(f"{path}: cannot read: {exc.strerror or exc}")
            continue
        if stats.unterminated or stats.dropped_lines:
            warnings.append(
                f"{path}: file was cut short ({stats.dropped_lines} unreadable lines skipped)"
            )
    return total, warnings
