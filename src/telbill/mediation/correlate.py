"""Correlation of partial records (long calls, data sessions) into one usage event.

Partials share a charging id; each carries a sequence number from 1, and the last one closes
with a final cause (normalRelease, abnormalRelease, ...) rather than a partial one (timeLimit,
volumeLimit, ...). A session is complete when the final record and every sequence number up to
it have arrived: then the event takes the earliest start, the summed duration and volumes, and
the first record's identity. An incomplete session waits; after the source's timeout (counted
from the first partial's arrival) its partials are suspended as MISSING_PARTIAL. A partial of a
session already closed (merged or expired) is LATE_PARTIAL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import polars as pl

from telbill.mediation.schema import UTC_US, Reason, reject

KEY = ("source", "charging_id")
PARTIAL_CAUSES = (
    "partialRecord",
    "partialRecordCallReestablishment",
    "timeLimit",
    "volumeLimit",
    "servingNodeChange",
    "maxChangeCond",
    "rATChange",
    "mSTimeZoneChange",
    "sGWChange",
    "aPNAMBRChange",
)
SUMMED = ("duration_s", "volume_up", "volume_down")


@dataclass(frozen=True)
class Correlation:
    events: pl.DataFrame  # complete sessions, one usage row each
    held: pl.DataFrame  # incoming partials that wait (stored as held)
    merged: pl.DataFrame  # incoming partials absorbed into an event now (stored as merged)
    merged_keys: pl.DataFrame  # (source, charging_id) closed by an event
    expired_keys: pl.DataFrame  # (source, charging_id) given up on
    rejects: pl.DataFrame  # LATE_PARTIAL, DUPLICATE (a sequence number twice), MISSING_PARTIAL


def correlate(
    incoming: pl.DataFrame, held: pl.DataFrame, closed: pl.DataFrame, now: datetime, timeout_s: int
) -> Correlation:
    """`held` are earlier partials still waiting (with received_at); `closed` lists closed keys."""
    late = incoming.join(closed.select(KEY), on=KEY, how="semi")
    incoming = incoming.join(closed.select(KEY), on=KEY, how="anti")
    both = pl.concat(
        [
            held.with_columns(_held=pl.lit(True), received_at=pl.col("received_at").cast(UTC_US)),
            incoming.with_columns(_held=pl.lit(False), received_at=pl.lit(now).cast(UTC_US)),
        ],
        how="diagonal_relaxed",
    ).sort("_held", "line_no", descending=[True, False])
    first_seq = pl.struct(*KEY, "record_sequence").is_first_distinct()
    repeated = both.filter(~first_seq)
    both = both.filter(first_seq)
    groups = _groups(both, now, timeout_s)
    complete = groups.filter(pl.col("_complete")).select(KEY)
    expired = groups.filter(pl.col("_expired")).select(KEY)
    parts = both.join(complete, on=KEY, how="semi")
    gone = both.join(expired, on=KEY, how="semi")
    waiting = both.join(pl.concat([complete, expired]), on=KEY, how="anti")
    rejects = pl.concat(
        [
            reject(
                late,
                Reason.LATE_PARTIAL,
                pl.format("partial of session {} that is already closed", pl.col("charging_id")),
            ),
            reject(
                repeated,
                Reason.DUPLICATE,
                pl.format(
                    "sequence number {} of session {} received twice",
                    pl.col("record_sequence"),
                    pl.col("charging_id"),
                ),
            ),
            reject(
                gone,
                Reason.MISSING_PARTIAL,
                pl.format(
                    "session {} still misses partials after {} s", pl.col("charging_id"), pl.lit(timeout_s)
                ),
            ),
        ]
    )
    return Correlation(
        events=_events(parts, incoming.columns),
        held=waiting.filter(~pl.col("_held")).select(incoming.columns),
        merged=parts.filter(~pl.col("_held")).select(incoming.columns),
        merged_keys=complete,
        expired_keys=expired,
        rejects=rejects,
    )


def _groups(both: pl.DataFrame, now: datetime, timeout_s: int) -> pl.DataFrame:
    is_final = pl.col("cause_for_closing").is_not_null() & ~pl.col("cause_for_closing").is_in(PARTIAL_CAUSES)
    groups = both.group_by(KEY).agg(
        final_seq=pl.col("record_sequence").filter(is_final).min(),
        n=pl.col("record_sequence").n_unique(),
        lo=pl.col("record_sequence").min(),
        hi=pl.col("record_sequence").max(),
        since=pl.col("received_at").min(),
    )
    complete = (
        pl.col("final_seq").is_not_null()
        & (pl.col("lo") == 1)
        & (pl.col("hi") == pl.col("final_seq"))
        & (pl.col("n") == pl.col("final_seq"))
    )
    overdue = pl.col("since") + timedelta(seconds=timeout_s) <= pl.lit(now).cast(UTC_US)
    return groups.with_columns(_complete=complete, _expired=~complete & overdue)


def _events(parts: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    if parts.is_empty():
        return parts.select(columns)
    ordered = parts.sort("record_sequence")
    firsts = [
        pl.col(c).first()
        for c in columns
        if c not in (*KEY, *SUMMED, "start_time", "record_sequence", "cause_for_closing", "partial")
    ]
    events = ordered.group_by(KEY).agg(
        *firsts,
        pl.col("start_time").min(),
        *[pl.col(c).sum() for c in SUMMED],
        pl.col("record_sequence").max(),
        pl.col("cause_for_closing").last(),
        pl.lit(True).alias("partial"),
    )
    return events.select(columns).sort("line_no")
