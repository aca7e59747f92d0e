"""Rendering many documents in a background process pool, one long-lived Typst compiler per worker.

Documents go to the workers in small batches (fewer round trips), at most a few batches per worker
in flight (bounded memory however long the run), and come back in input order.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import islice

from telbill.core.errors import TelbillError
from telbill.invoicing.content import InvoiceContent
from telbill.invoicing.documents.calls import CallRecord
from telbill.invoicing.documents.pdf import render_invoice_pdf
from telbill.invoicing.documents.typst_render import RenderFailed, TypstRenderer

Progress = Callable[[int, int | None], None]  # (documents done, total if known)
OnError = Callable[[str, TelbillError], None]
_Job = tuple[InvoiceContent, Sequence[CallRecord] | None]
_Outcome = tuple[str, bytes | None, TelbillError | None]

_worker_renderer: TypstRenderer | None = None


def render_many(
    contents: Iterable[InvoiceContent],
    workers: int = 2,
    progress: Progress | None = None,
    *,
    call_lists: Mapping[str, Sequence[CallRecord]] | None = None,
    batch_size: int = 8,
    on_error: OnError | None = None,
) -> Iterator[tuple[str, bytes]]:
    """Yields `(number, pdf)` for each content, in input order.

    `call_lists` maps an invoice number to its detailed call list. A document that fails to render
    is passed to `on_error` and skipped; without `on_error` the failure is raised.
    """
    total = len(contents) if isinstance(contents, Sequence) else None
    lists = call_lists or {}
    jobs: Iterator[_Job] = ((content, lists.get(content.number)) for content in contents)
    for done, (number, pdf, error) in enumerate(_run(jobs, workers, batch_size), start=1):
        if error is not None:
            if on_error is None:
                raise error
            on_error(number, error)
        elif pdf is not None:
            yield number, pdf
        if progress is not None:
            progress(done, total)


def _run(jobs: Iterator[_Job], workers: int, batch_size: int) -> Iterator[_Outcome]:
    """Keeps two batches per worker in flight; spawn, so workers never inherit the parent's threads."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker) as pool:
        pending: deque[Future[list[_Outcome]]] = deque()
        batches = iter(lambda: list(islice(jobs, batch_size)), [])
        for batch in islice(batches, 2 * workers):
            pending.append(pool.submit(_render_batch, batch))
        while pending:
            outcomes = pending.popleft().result()
            next_batch = next(batches, None)
            if next_batch is not None:
                pending.append(pool.submit(_render_batch, next_batch))
            yield from outcomes


def _init_worker() -> None:
    global _worker_renderer
    _worker_renderer = TypstRenderer()


def _render_batch(batch: list[_Job]) -> list[_Outcome]:
    """Runs in a worker; expected failures come back as values so one bad document stops nothing."""
    outcomes: list[_Outcome] = []
    for content, calls in batch:
        try:
            outcomes.append(
                (content.number, render_invoice_pdf(content, calls, renderer=_worker_renderer), None)
            )
        except TelbillError as exc:
            failure = RenderFailed(f"{content.number}: {exc.message}", details=exc.details)
            outcomes.append((content.number, None, failure))
        except Exception as exc:  # a library bug on one document must not lose the batch
            outcomes.append((content.number, None, RenderFailed(f"{content.number}: {exc}")))
    return outcomes
