"""Reports of a run: terminal table and progress, pytest-html, junit properties, summary.json,
baseline comparison.

The plugin calls ``register(config)`` once in ``pytest_configure`` (after the session is in
``config.stash``); the ``burner`` fixture sets ``item.stash[RESULTS_KEY] = burner.results``.
"""

from __future__ import annotations

import pytest

from .compare import CompareHooks
from .junit import JunitHooks
from .model import RESULTS_KEY, STATE_KEY, ReportState
from .sections import ReportSection
from .summary import SummaryHooks
from .terminal import Progress, TerminalHooks

__all__ = [
    "RESULTS_KEY",
    "STATE_KEY",
    "Progress",
    "ReportSection",
    "progress_for",
    "register",
]

PLUGIN_NAMES = {
    "compare": "kubevirt-burner-compare",
    "junit": "kubevirt-burner-junit",
    "summary": "kubevirt-burner-summary",
    "terminal": "kubevirt-burner-terminal",
    "html": "kubevirt-burner-html",
}


def html_active(config: pytest.Config) -> bool:
    """Whether pytest-html is loaded and writes a report (``--html``)."""
    return config.pluginmanager.hasplugin("html") and bool(config.getoption("htmlpath", None))


def register(config: pytest.Config) -> None:
    """Register every report hook class (idempotent); pytest.UsageError on bad options."""
    pm = config.pluginmanager
    if pm.get_plugin(PLUGIN_NAMES["terminal"]) is not None:
        return
    compare = CompareHooks(config)  # parses --burner-regression first: fail before anything
    state = ReportState()
    config.stash[STATE_KEY] = state
    pm.register(compare, PLUGIN_NAMES["compare"])
    pm.register(JunitHooks(), PLUGIN_NAMES["junit"])
    pm.register(SummaryHooks(config, state), PLUGIN_NAMES["summary"])
    pm.register(TerminalHooks(config, state), PLUGIN_NAMES["terminal"])
    if html_active(config):
        from .html import HtmlHooks  # numpy and matplotlib load only for an HTML report

        pm.register(HtmlHooks(config, state), PLUGIN_NAMES["html"])


def progress_for(config: pytest.Config, job: str) -> Progress:
    """A live progress line for ``job`` (quiet when not on a terminal, under -q, or unwired)."""
    hooks = config.pluginmanager.get_plugin(PLUGIN_NAMES["terminal"])
    if isinstance(hooks, TerminalHooks):
        return hooks.progress(job)
    return Progress(job, None)
