"""Compatibility with kube-burner: running its config files as pytest items."""

from __future__ import annotations

import pytest


def register(config: pytest.Config) -> None:
    """Register the kube-burner config collector when --kube-burner-config is given."""
    if config.getoption("kube_burner_config", None):
        from .kb_items import KubeBurnerPlugin

        config.pluginmanager.register(KubeBurnerPlugin(config), "kube-burner-config")
