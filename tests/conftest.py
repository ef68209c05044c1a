"""Shared test configuration."""

# matplotlib (and numpy under it) cannot be imported twice in one process: import the HTML
# report module once here, before in-process pytester runs with --html import it again.
import pytest_kubevirt_burner.report.html  # noqa: F401
