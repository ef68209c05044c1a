"""Object templates in Jinja2 or kube-burner's Go-template syntax, rendered in a sandbox."""

from .errors import TemplateError
from .renderer import Dialect, TemplateRenderer, detect_dialect, parse_documents

__all__ = ["Dialect", "TemplateError", "TemplateRenderer", "detect_dialect", "parse_documents"]
