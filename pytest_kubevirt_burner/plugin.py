"""pytest11 entry point: hook wiring only; the logic lives in sibling modules."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from . import collection, compat, hooks, hookspecs, markers, options, report
from .errors import DryRunDone
from .fixtures import burner, kube_client, kube_sim, latency_recorder, template_renderer
from .jobrun import dry_run_line
from .session import SESSION_KEY, BurnerSession

__all__ = ["burner", "kube_client", "kube_sim", "latency_recorder", "template_renderer"]


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    options.add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    markers.register(config)
    hooks.register_measurements(config)
    burner_session = BurnerSession(config, options.resolve(config))
    config.stash[SESSION_KEY] = burner_session
    report.register(config)
    compat.register(config)  # --kube-burner-config: the config's jobs become test items
    if config.pluginmanager.hasplugin("xdist") and not hasattr(config, "workerinput"):
        config.pluginmanager.register(XdistHooks(), "kubevirt-burner-xdist")
    burner_session.interrupts.install()


class XdistHooks:
    """On the pytest-xdist controller: every worker gets the controller's run uuid."""

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """Hand the run uuid to a starting worker."""
        node.workerinput[options.WORKER_UUID_KEY] = node.config.stash[SESSION_KEY].run.uuid


@pytest.hookimpl(trylast=True)  # after -k/-m/--deselect: only selected items are validated
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    collection.prepare(config.stash[SESSION_KEY], items)


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Generator[None, object, object]:
    """A dry run's ``burner.run()`` ends the test body: the test passes without its asserts."""
    try:
        return (yield)
    except DryRunDone:
        return True


def pytest_report_collectionfinish(config: pytest.Config) -> list[str]:
    return config.stash[SESSION_KEY].header_lines()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """In a dry run: what each job would create."""
    burner_session = terminalreporter.config.stash.get(SESSION_KEY, None)
    dry = [r for r in getattr(burner_session, "results", ()) if r.dry_run]
    if dry:
        terminalreporter.write_sep("-", "kubevirt-burner: dry run (nothing was created)")
        for result in dry:
            terminalreporter.write_line(dry_run_line(result))


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Index the session's results; after an interrupt, delete what this run created."""
    burner_session = session.config.stash.get(SESSION_KEY, None)
    if burner_session is None:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    write = reporter.write_line if reporter is not None else print
    for line in burner_session.finish_observability():
        write(f"kubevirt-burner: {line}")
    if burner_session.indexing_failed() and session.exitstatus == pytest.ExitCode.OK:
        write("kubevirt-burner: session failed: documents not indexed (--es-allow-failures)")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if exitstatus == pytest.ExitCode.INTERRUPTED or burner_session.interrupts.interrupted:
        burner_session.cleanup_after_interrupt(write)


def pytest_unconfigure(config: pytest.Config) -> None:
    hooks.forget_measurements(config)
    burner_session = config.stash.get(SESSION_KEY, None)
    if burner_session is not None:
        burner_session.interrupts.uninstall()
        burner_session.close()
