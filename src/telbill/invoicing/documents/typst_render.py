"""The Typst side: one compiler per process, the shipped template and fonts, PDF/A-3b output.

A `typst.Compiler` keeps its font book and its memoised template between compilations, so loading
fonts and parsing happen once: make one `TypstRenderer` and reuse it (the pool keeps one per worker).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import typst

from telbill.core.errors import TelbillError
from telbill.invoicing.content import InvoiceContent
from telbill.invoicing.documents.calls import CallRecord
from telbill.invoicing.documents.view import document_view

PACKAGE_DIR = Path(__file__).parent
TEMPLATE = PACKAGE_DIR / "templates" / "invoice.typ"
FONT_DIR = PACKAGE_DIR / "fonts"
PDF_STANDARD = "a-3b"


class RenderFailed(TelbillError):
    """Typst refused the document (a template bug or a glyph problem); the message says where."""

    code = "render_failed"
    http_status = 500

    def __reduce__(self) -> tuple[Any, ...]:
        """Keeps `details` when the error crosses a process boundary (pool workers)."""
        return (_rebuild_failure, (self.message, tuple(self.details)))


def _rebuild_failure(message: str, details: tuple[str, ...]) -> RenderFailed:
    return RenderFailed(message, details=details)


class TypstRenderer:
    """Compiles invoice views to PDF/A-3b with a single long-lived compiler.

    Only the fonts shipped in the package are used (system fonts are ignored), so a document renders
    the same on every machine.
    """

    def __init__(self, template: Path = TEMPLATE, font_dir: Path = FONT_DIR, *, tagged: bool = False) -> None:
        self._source = template.read_bytes()
        self._compiler = typst.Compiler(font_paths=[str(font_dir)], ignore_system_fonts=True)
        # Tags (the accessibility structure tree) are optional in PDF/A-3b and multiply the PDF's
        # object count, which makes embedding the XML four times slower; on when asked for.
        self._tagged = tagged
        self._lock = threading.Lock()  # one compilation at a time per compiler (API threads share it)

    def render_view(self, view: dict[str, Any], timestamp: datetime | None = None) -> bytes:
        data = json.dumps(view, ensure_ascii=False, separators=(",", ":"))
        try:
            with self._lock:
                pdf = self._compiler.compile(
                    self._source,
                    sys_inputs={"data": data},
                    pdf_standards=[PDF_STANDARD],
                    timestamp=timestamp,
                    pdf_tags=self._tagged,
                )
        except typst.TypstError as exc:
            raise RenderFailed(
                f"typst could not render the document: {exc.message}", details=exc.hints
            ) from exc
        assert isinstance(pdf, bytes)
        return pdf

    def render(self, content: InvoiceContent, call_list: Sequence[CallRecord] | None = None) -> bytes:
        """The visual PDF/A-3b (no XML yet), dated at the issue date so the bytes are reproducible."""
        issued = datetime.combine(content.issue_date, time(), tzinfo=UTC)
        return self.render_view(document_view(content, call_list), timestamp=issued)
