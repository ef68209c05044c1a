"""Shared test configuration."""

from kubernetes import client

# matplotlib (and numpy under it) cannot be imported twice in one process: import the HTML
# report module once here, before in-process pytester runs with --html import it again.
import pytest_kubevirt_burner.report.html  # noqa: F401

# pytester's in-process runs drop the modules they imported first, and the kubernetes client
# imports its pydantic models lazily: two generations of a model class would make CoreV1Api
# refuse a V1Pod made from the other. Import every model once, before any inner run.
for _module in (client, client.models):
    for _name in getattr(_module, "__all__", ()):
        getattr(_module, _name)
