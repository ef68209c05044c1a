"""Calls of the extension hooks (hookspecs.py): one helper per hook for the places firing it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from .measurements.recorder import REGISTRY
from .results import JobResult

_SNAPSHOT_KEY = pytest.StashKey[dict[str, Any]]()


def register_measurements(config: pytest.Config) -> None:
    """Let plugins register custom measurements (historic: later plugins are called too).

    A registration refused by the registry is a one-line UsageError.
    """
    config.stash[_SNAPSHOT_KEY] = REGISTRY.snapshot()
    try:
        config.hook.pytest_burner_register_measurements.call_historic(kwargs={"registry": REGISTRY})
    except ValueError as exc:  # a duplicate name or a factory that is not a Recorder
        raise pytest.UsageError(f"pytest_burner_register_measurements: {exc}") from None


def forget_measurements(config: pytest.Config) -> None:
    """Drop the measurements plugins registered in this session (the registry is global)."""
    snapshot = config.stash.get(_SNAPSHOT_KEY, None)
    if snapshot is not None:
        REGISTRY.restore(snapshot)


def job_finished(config: pytest.Config, result: JobResult) -> None:
    """Tell plugins that a job finished with ``result``."""
    config.hook.pytest_burner_job_finished(config=config, result=result)


def index_documents(config: pytest.Config, documents: list[dict[str, Any]]) -> None:
    """Let plugins change ``documents`` (in place) before they are indexed."""
    config.hook.pytest_burner_index_documents(config=config, documents=documents)


def document_preparer(config: pytest.Config) -> Callable[[list[dict[str, Any]]], None]:
    """``index_documents`` bound to ``config``, for indexers that take a batch callback."""

    def prepare(documents: list[dict[str, Any]]) -> None:
        index_documents(config, documents)

    return prepare
