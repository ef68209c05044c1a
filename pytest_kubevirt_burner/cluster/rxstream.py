"""Read a streaming response body with the time its bytes reached this host, not this thread.

A watch event's client-clock time is the time its line arrived. Stamping it with ``time.time_ns()``
after the reading thread gets the bytes measures when that thread ran again: after the GIL was
handed back, after the previous lines were decoded and dispatched, after the OS scheduled the
process on a busy machine. For a plain-HTTP stream this module takes the body over from urllib3
once the headers are parsed, enables ``SO_TIMESTAMPNS`` on the socket and reads it with
``recvmsg``: the kernel stamps every received segment when it arrives (``CLOCK_REALTIME``, the
clock of ``time.time_ns()``), so the stamp does not depend on when the thread runs. A read takes
up to one write of a busy stream (``READ_SIZE``); its stamp is that of its last segment, an upper
bound for every byte in it, and exact as long as the reading thread keeps up.

TLS streams (``ssl.SSLSocket`` has no ``recvmsg``), compressed bodies, non-chunked bodies and
other platforms keep urllib3's reader and are stamped when the read returns.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import queue
import socket
import struct
import sys
import threading
import time

import urllib3

READ_SIZE = 65536
"""Bytes per ``recvmsg``: one write of a busy watch stream (the kernel merges segments that wait
in the receive queue, keeping the newest stamp, so smaller reads would not be more exact)."""
QUEUE_CHUNKS = 16
"""Pieces a BodyPump holds for a slow consumer (at most ``QUEUE_CHUNKS * READ_SIZE`` bytes);
beyond that it stops reading and TCP flow control holds the rest back in the kernel and server."""

_SO_TIMESTAMPNS = 35  # Linux: SO_TIMESTAMPNS == SCM_TIMESTAMPNS (not exported by Python)
_TIMESPEC = struct.Struct("@qq")
_ANC_SIZE = socket.CMSG_SPACE(_TIMESPEC.size) if hasattr(socket, "CMSG_SPACE") else 0
_MAX_SIZE_LINE = 4096


class ChunkDecoder:
    """Incremental HTTP/1.1 chunked transfer decoding (chunk extensions and trailers ignored)."""

    __slots__ = ("_buf", "_crlf", "_left", "done")

    def __init__(self) -> None:
        self._buf = b""
        self._left = 0
        self._crlf = False
        self.done = False
        """True once the last (zero-size) chunk was read."""

    def feed(self, data: bytes) -> bytes:
        """The payload bytes contained in ``data`` (possibly empty); raises ValueError if bad."""
        buf = self._buf + data if self._buf else data
        out: list[bytes] = []
        pos, end = 0, len(buf)
        while pos < end and not self.done:
            if self._left:
                take = min(self._left, end - pos)
                out.append(buf if take == end else buf[pos : pos + take])
                pos += take
                self._left -= take
                self._crlf = not self._left
            elif self._crlf:
                if end - pos < 2:
                    break
                if buf[pos : pos + 2] != b"\r\n":
                    raise ValueError("malformed chunked body: no CRLF after a chunk")
                pos += 2
                self._crlf = False
            else:
                eol = buf.find(b"\r\n", pos)
                if eol < 0:
                    if end - pos > _MAX_SIZE_LINE:
                        raise ValueError("malformed chunked body: chunk size line too long")
                    break
                size = int(buf[pos:eol].split(b";", 1)[0].strip() or b"x", 16)
                pos = eol + 2
                if size == 0:
                    self.done = True
                else:
                    self._left = size
        self._buf = buf[pos:] if pos < end and not self.done else b""
        return out[0] if len(out) == 1 else b"".join(out)


def _unwrap_timespec(ancdata: list[tuple[int, int, bytes]]) -> int | None:
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS and len(data) >= _TIMESPEC.size:
            sec, nsec = _TIMESPEC.unpack_from(data)
            return int(sec) * 1_000_000_000 + int(nsec)
    return None


class StampedBody:
    """The body of an open streaming response, read in pieces stamped with their arrival time."""

    def __init__(self, resp: urllib3.BaseHTTPResponse, read_size: int = READ_SIZE) -> None:
        self._resp = resp
        self._read_size = read_size
        self._sock: socket.socket | None = None
        self._chunks = ChunkDecoder()
        self._early = b""  # body bytes urllib3 had already buffered with the headers
        self._last = 0  # stamps never go backwards: see read()
        self._take_over()
        self._early_at = time.time_ns()  # the early bytes arrived before this

    @property
    def reusable(self) -> bool:
        """Whether the connection may go back to the pool after a clean end of the body."""
        return self._sock is None

    @property
    def kernel_stamps(self) -> bool:
        """True when reads come straight from the socket with kernel receive timestamps."""
        return self._sock is not None

    def _take_over(self) -> None:
        resp = self._resp
        if not sys.platform.startswith("linux") or not _ANC_SIZE:
            return
        fp = getattr(resp, "_fp", None)
        conn = getattr(resp, "connection", None)
        sock = getattr(conn, "sock", None)
        if not isinstance(fp, http.client.HTTPResponse) or type(sock) is not socket.socket:
            return  # TLS (ssl.SSLSocket) or an unexpected urllib3 internals layout
        if not fp.chunked or fp.chunk_left is not None or resp.headers.get("Content-Encoding"):
            return
        buffered = fp.fp
        if not isinstance(buffered, io.BufferedReader):
            return
        timeout = sock.gettimeout()
        try:
            sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
            sock.settimeout(0.0)
            early = buffered.peek()  # never blocks: non-blocking socket, buffered bytes only
            self._early = buffered.read1(len(early)) if early else b""
        except OSError:
            return
        finally:
            sock.settimeout(timeout)
        self._sock = sock

    def read(self) -> tuple[bytes, int]:
        """Next payload bytes and the wall-clock ns they arrived; ``b""`` at the end of the body."""
        sock = self._sock
        if sock is None:
            data = self._resp.read1(65536)
            return data, time.time_ns()
        if self._early:
            early, self._early = self._early, b""
            payload = self._chunks.feed(early)
            if payload:
                return payload, self._monotonic(self._early_at)
        while not self._chunks.done:
            raw, ancdata, _flags, _addr = sock.recvmsg(self._read_size, _ANC_SIZE)
            if not raw:
                if self._chunks.done:
                    break
                raise http.client.IncompleteRead(b"")
            stamp = _unwrap_timespec(ancdata)
            payload = self._chunks.feed(raw)
            if payload:
                return payload, self._monotonic(stamp if stamp is not None else time.time_ns())
        return b"", time.time_ns()

    def _monotonic(self, stamp: int) -> int:
        # Bytes that urllib3 buffered with the headers are stamped when the body was taken over,
        # an upper bound; bytes that arrived just before that moment must not come out earlier.
        self._last = max(self._last, stamp)
        return self._last


class BodyPump:
    """Reads a StampedBody on a thread of its own, so reading never waits for the consumer.

    Without it the thread that decodes and dispatches events also reads the socket: while it
    works through a burst, the kernel's receive queue grows, TCP merges queued segments (a merged
    segment keeps the newest stamp) and finally closes its window, which holds the server's
    writes back. The pump keeps the socket drained; the consumer's backlog waits in memory with
    its arrival stamps, up to ``QUEUE_CHUNKS`` pieces (a bounded memory cost per watch).
    """

    def __init__(self, body: StampedBody, name: str) -> None:
        self._body = body
        self._queue: queue.Queue[tuple[bytes, int] | BaseException] = queue.Queue(QUEUE_CHUNKS)
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while True:
                chunk, wall = self._body.read()
                self._queue.put((chunk, wall))
                if not chunk or self._closed:
                    return
        except BaseException as exc:  # handed to the consumer, which decides what it means
            self._queue.put(exc)

    def read(self) -> tuple[bytes, int]:
        """Like ``StampedBody.read``; re-raises what the reading thread met."""
        item = self._queue.get()
        if isinstance(item, BaseException):
            raise item
        return item

    @property
    def running(self) -> bool:
        """Whether the reading thread is still reading."""
        return self._thread.is_alive()

    def close(self, timeout: float = 5.0) -> None:
        """Drop what is queued and wait for the reading thread (after the stream was shut down)."""
        self._closed = True
        while self._thread.is_alive():
            with contextlib.suppress(queue.Empty):
                while True:
                    self._queue.get_nowait()  # a reader blocked on a full queue moves on
            self._thread.join(min(timeout, 0.05))
            timeout -= 0.05
            if timeout <= 0:
                return
