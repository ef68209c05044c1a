"""The exceptions every layer shares (a leaf module: it imports nothing of the package)."""

from __future__ import annotations


class JobSpecError(ValueError):
    """A marker or config value is wrong; the message is one line naming what and where."""


class JobFailed(Exception):
    """The job ran but did not meet its goal; the message is what the test shows."""


class DryRunDone(BaseException):
    """``burner.run()`` in a dry run: the job was rendered, validated and resolved; the test
    body stops here and the test passes (a BaseException so that ``except Exception`` in a
    test body does not swallow it)."""
