"""Rendering in the background pool gives the same documents, in input order, and isolates failures."""

from __future__ import annotations

import io
from dataclasses import replace

import pypdf
import pytest

from telbill.core.errors import TelbillError
from telbill.invoicing.documents import RenderFailed, facturx_xml, render_many
from telbill.invoicing.documents.samples import sample_calls, varied_invoices

pytestmark = pytest.mark.slow


def test_pool_renders_in_order_reports_progress_and_skips_a_bad_document() -> None:
    contents = varied_invoices(9)
    contents[4] = replace(contents[4], language="de")  # no German labels: this one must fail alone
    calls = {contents[2].number: sample_calls(120)}
    progress: list[tuple[int, int | None]] = []
    failures: list[tuple[str, TelbillError]] = []

    rendered = list(
        render_many(
            contents,
            workers=2,
            progress=lambda done, total: progress.append((done, total)),
            call_lists=calls,
            batch_size=2,
            on_error=lambda number, error: failures.append((number, error)),
        )
    )

    expected = [c.number for i, c in enumerate(contents) if i != 4]
    assert [number for number, _ in rendered] == expected
    assert progress[-1] == (9, 9) and [done for done, _ in progress] == list(range(1, 10))
    assert [number for number, _ in failures] == [contents[4].number]
    assert isinstance(failures[0][1], RenderFailed) and "unsupported document language" in str(failures[0][1])
    by_number = dict(rendered)
    for content in (contents[0], contents[2]):
        reader = pypdf.PdfReader(io.BytesIO(by_number[content.number]))
        assert reader.attachments["factur-x.xml"] == [facturx_xml(content)]
    assert len(pypdf.PdfReader(io.BytesIO(by_number[contents[2].number])).pages) > 1


def test_without_an_error_handler_the_failure_is_raised_after_the_good_ones() -> None:
    contents = varied_invoices(3)
    contents[2] = replace(contents[2], language="xx")
    seen: list[str] = []
    with pytest.raises(RenderFailed, match=contents[2].number):
        for number, _ in render_many(iter(contents), workers=1):
            seen.append(number)
    assert seen == [contents[0].number, contents[1].number]
