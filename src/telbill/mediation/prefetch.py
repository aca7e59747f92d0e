"""Run a generator one step ahead in a thread, so that batch N+1 is read and processed while
batch N is being written. Polars and Arrow release the GIL, so the two overlap on two cores."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")
_DONE = object()


def prefetch(items: Iterator[T], depth: int = 1) -> Iterator[T]:
    """The same items in the same order; at most `depth` computed ahead. An exception raised by
    `items` is raised here, at the item where it happened. Leaving early stops the producer."""
    slots: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(value: object) -> bool:
        while not stop.is_set():
            try:
                slots.put(value, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
            put(_DONE)
        except BaseException as exc:  # handed to the consumer, raised there
            put(_Failure(exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name="mediation-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            value = slots.get()
            if value is _DONE:
                return
            if isinstance(value, _Failure):
                raise value.exc
            yield value  # type: ignore[misc]
    finally:
        stop.set()
        worker.join()


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc
