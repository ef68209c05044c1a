"""ChunkDecoder: incremental chunked transfer decoding of watch bodies."""

from __future__ import annotations

import fcntl
import socket
import sys
import termios
import threading
import time
from array import array

import pytest
import urllib3

from pytest_kubevirt_burner.cluster.rxstream import ChunkDecoder, StampedBody

BODY = b"5\r\nhello\r\n7;ext=1\r\n world\n\r\n0\r\n\r\n"


def test_whole_body_at_once() -> None:
    dec = ChunkDecoder()
    assert dec.feed(BODY) == b"hello world\n"
    assert dec.done


def test_byte_by_byte_gives_the_same_payload() -> None:
    dec = ChunkDecoder()
    out = b"".join(dec.feed(BODY[i : i + 1]) for i in range(len(BODY)))
    assert out == b"hello world\n" and dec.done


def test_not_done_before_the_last_chunk() -> None:
    dec = ChunkDecoder()
    assert dec.feed(b"3\r\nabc\r\n") == b"abc"
    assert not dec.done


@pytest.mark.parametrize("bad", [b"zz\r\nabc\r\n", b"3\r\nabcXY", b"1" * 5000])
def test_malformed_bodies_raise(bad: bytes) -> None:
    with pytest.raises(ValueError):
        ChunkDecoder().feed(bad)


def _serve_chunked(
    ready: threading.Event, go: threading.Event, finish: threading.Event, sent: list[int]
) -> int:
    """A one-shot HTTP server: headers; two chunked lines when ``go`` is set, then the end."""
    srv = socket.create_server(("127.0.0.1", 0))
    port = int(srv.getsockname()[1])

    def run() -> None:
        conn, _ = srv.accept()
        with conn, srv:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            ready.set()
            go.wait(30)
            before = time.time_ns()
            conn.sendall(b"6\r\nline1\n\r\n6\r\nline2\n\r\n")
            sent.extend([before, time.time_ns()])
            finish.wait(30)  # the client has read the lines
            conn.sendall(b"0\r\n\r\n")

    threading.Thread(target=run, daemon=True).start()
    return port


def test_stamps_are_arrival_times_not_read_times() -> None:
    ready, go, finish = threading.Event(), threading.Event(), threading.Event()
    sent: list[int] = []
    port = _serve_chunked(ready, go, finish, sent)
    with urllib3.PoolManager() as pool:
        resp = pool.request("GET", f"http://127.0.0.1:{port}/", preload_content=False)
        body = StampedBody(resp)
        assert body.kernel_stamps == sys.platform.startswith("linux")
        go.set()
        sock = getattr(resp.connection, "sock", None)
        assert isinstance(sock, socket.socket)
        queued = array("i", [0])
        while len(sent) < 2 or not queued[0]:  # wait until the bytes sit in our socket
            time.sleep(0.01)
            fcntl.ioctl(sock.fileno(), termios.FIONREAD, queued)
        time.sleep(0.01)
        read_at = time.time_ns()
        data, stamp = body.read()
        while not data.endswith(b"line2\n"):
            more, stamp = body.read()
            data += more
        assert data == b"line1\nline2\n"
        finish.set()
        assert body.read()[0] == b""
        if body.kernel_stamps:
            assert stamp < read_at  # a stamp taken by read() itself would come after read_at
        resp.close()
