"""Template errors: one-line messages naming the file, the line and the construct at fault."""

from __future__ import annotations

import re
from types import TracebackType

__all__ = ["RenderFailure", "TemplateError", "jinja_message", "template_line"]


class TemplateError(Exception):
    """A template could not be parsed, rendered or turned into Kubernetes objects."""

    def __init__(self, file: str, line: int | None, message: str) -> None:
        self.file = file
        self.line = line
        self.message = " ".join(message.split())  # always one line
        super().__init__(str(self))

    def __str__(self) -> str:
        if self.line is None:
            return f"{self.file}: {self.message}"
        return f"{self.file}:{self.line}: {self.message}"

    def __reduce__(self) -> tuple[type[TemplateError], tuple[str, int | None, str]]:
        return (TemplateError, (self.file, self.line, self.message))


class RenderFailure(Exception):
    """Raised by template functions; the renderer adds the file and line."""

    def __init__(self, message: str, line: int | None = None) -> None:
        self.message = message
        self.line = line
        super().__init__(message)


_UNDEFINED = re.compile(r"^'([^']+)' is undefined$")
_NO_ATTR = re.compile(r"^'(.+)' has no attribute '([^']+)'$")


def jinja_message(exc: BaseException) -> str:
    """Translate a Jinja2 runtime error message into our wording."""
    text = str(exc)
    if isinstance(exc, RenderFailure):
        return exc.message
    if m := _UNDEFINED.match(text):
        return f"undefined variable '{m.group(1)}'"
    if "unsafe" in text or type(exc).__name__ == "SecurityError":
        return f"blocked by the template sandbox: {text}"
    if m := _NO_ATTR.match(text):
        return f"undefined attribute '{m.group(2)}' of {m.group(1)}"
    if type(exc).__name__ == "UndefinedError":
        return f"undefined value: {text}"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def template_line(tb: TracebackType | None, filename: str) -> int | None:
    """Return the innermost template line of a traceback rewritten by Jinja2."""
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
