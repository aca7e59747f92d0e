"""Document test fixtures: one Typst compiler per session (the schematron is cached per process)."""

from __future__ import annotations

import pytest

from telbill.invoicing.documents import TypstRenderer


@pytest.fixture(scope="session")
def renderer() -> TypstRenderer:
    return TypstRenderer()
