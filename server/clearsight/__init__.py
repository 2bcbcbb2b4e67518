"""Clearsight: complexity, security and provenance checks for AI-written Python."""

from clearsight.engine import analyze
from clearsight.model import Finding, Fix, Severity, Span, TextEdit

__version__ = "0.1.0"
__all__ = ["Finding", "Fix", "Severity", "Span", "TextEdit", "__version__", "analyze"]
