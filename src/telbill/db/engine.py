"""Engines and sessions. The edge (CLI command, API request, worker job) owns the transaction."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


def create_db_engine(url: str, *, echo: bool = False) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo)
        _sqlite_pragmas(engine)
        return engine
    engine = create_engine(url, echo=echo, pool_pre_ping=True)
    if url.startswith("postgresql+psycopg"):
        _array_parameters(engine)
        _json_loading(engine)
    return engine


_DECODE = json.JSONDecoder().decode


def json_loads(data: bytes) -> Any:
    """`json.loads` of the server's UTF-8 without its encoding detection, and `{}` (the payload
    of most subscription changes) without a parse: a bill-run batch loads thousands."""
    if data == b"{}":
        return {}
    return _DECODE(data.decode())


def _json_loading(engine: Engine) -> None:
    from psycopg.types.json import set_json_loads

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        set_json_loads(json_loads, dbapi_connection)


def _array_parameters(engine: Engine) -> None:
    """`filters.IdArray` and `TextArray` values go as `bigint[]` / `text[]` parameters in their
    text form."""
    from psycopg.adapt import Dumper
    from psycopg.postgres import types

    from telbill.db.filters import IdArray, TextArray

    class IdArrayDumper(Dumper):
        oid = types["int8"].array_oid

        def dump(self, obj: str) -> bytes:
            return obj.encode()

    class TextArrayDumper(IdArrayDumper):
        oid = types["text"].array_oid

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.adapters.register_dumper(IdArray, IdArrayDumper)
        dbapi_connection.adapters.register_dumper(TextArray, TextArrayDumper)


def _sqlite_pragmas(engine: Engine) -> None:
    """Foreign keys on, WAL, and real transactions (pysqlite otherwise defers BEGIN and breaks SAVEPOINT)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # type: ignore[no-untyped-def]
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("immediate") else "BEGIN")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
