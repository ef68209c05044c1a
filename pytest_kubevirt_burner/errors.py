"""The exceptions every layer shares (a leaf module: it imports nothing of the package)."""

from __future__ import annotations


class JobSpecError(ValueError):
    """A marker or config value is wrong; the message is one line naming what and where."""


class JobFailed(Exception):
    """The job ran but did not meet its goal; the message is what the test shows."""
