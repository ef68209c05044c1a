"""The Jinja2 environment of the HTML report: package templates, autoescaping, filters."""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

import jinja2
from markupsafe import Markup

from ..measurements.slo import format_seconds
from .model import fmt_table_s


def _seconds(value: float | None) -> str:
    return "-" if value is None else format_seconds(value)


@cache
def environment() -> jinja2.Environment:
    """The report's template environment (autoescape on for every template)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("pytest_kubevirt_burner.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
        lstrip_blocks=False,
    )
    env.filters["seconds"] = _seconds
    env.filters["table_s"] = fmt_table_s
    return env


@cache
def css() -> str:
    """The report's style sheet."""
    return (files("pytest_kubevirt_burner.report") / "templates" / "style.css").read_text()


def render(name: str, **context: Any) -> str:
    """Render template ``name`` with ``context`` (and the style sheet as ``css``)."""
    return environment().get_template(name).render(css=Markup(css()), **context)
