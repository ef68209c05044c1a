"""The signal handler itself, in this process: deferral while results are written, the second
signal, and restoring the previous handlers."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from pytest_kubevirt_burner.interrupt import InterruptHandler, cleanup_command, critical


def test_first_signal_is_deferred_while_results_are_written_then_raised_once() -> None:
    handler = InterruptHandler()
    assert handler.install()
    before = signal.getsignal(signal.SIGTERM)
    stop = threading.Event()
    handler.track(stop)
    reached = False
    try:
        with pytest.raises(KeyboardInterrupt, match="SIGTERM received"), critical():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.05)  # the handler runs here and must not raise yet
            reached = True
        assert reached and stop.is_set() and handler.interrupted
        os.kill(os.getpid(), signal.SIGINT)  # second signal, not during a cleanup: no raise
        time.sleep(0.05)
        assert handler.skip_cleanup and handler.cleanup_stop.is_set()
        assert signal.getsignal(signal.SIGTERM) != before  # previous handlers are back
    finally:
        handler.uninstall()


def test_second_signal_during_cleanup_aborts_it() -> None:
    handler = InterruptHandler()
    assert handler.install()
    try:
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
        with pytest.raises(KeyboardInterrupt, match="again"), handler.cleaning():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
    finally:
        handler.uninstall()


def test_cleanup_command_names_uuid_kubeconfig_and_context() -> None:
    assert cleanup_command("u-1", "/k/config", "ctx") == (
        "python -m pytest_kubevirt_burner cleanup --uuid u-1 --kube-config /k/config "
        "--kube-context ctx"
    )
    assert (
        cleanup_command("u-1", None, None) == "python -m pytest_kubevirt_burner cleanup --uuid u-1"
    )
