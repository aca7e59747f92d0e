from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from telbill.core.clock import TestClock, ensure_utc, parse_instant, zone
from telbill.core.errors import ValidationFailed
from telbill.core.settings import DEFAULT_DATABASE_URL, load_settings


def test_test_clock_moves_forward_only():
    clock = TestClock(datetime(2026, 1, 1, tzinfo=UTC))
    clock.advance(timedelta(days=1))
    assert clock.now() == datetime(2026, 1, 2, tzinfo=UTC)
    with pytest.raises(ValidationFailed, match="cannot go back"):
        clock.advance_to(datetime(2025, 12, 31, tzinfo=UTC))
    assert clock.now() == datetime(2026, 1, 2, tzinfo=UTC)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValidationFailed, match="no timezone"):
        ensure_utc(datetime(2026, 1, 1))
    with pytest.raises(ValidationFailed, match="no timezone"):
        TestClock(datetime(2026, 1, 1))


def test_parse_instant_reads_dates_in_the_given_zone():
    assert parse_instant("2026-03-01", "Europe/Paris") == datetime(2026, 2, 28, 23, 0, tzinfo=UTC)
    assert parse_instant("2026-03-01T10:00:00+02:00") == datetime(2026, 3, 1, 8, tzinfo=UTC)
    with pytest.raises(ValidationFailed, match="not an ISO date"):
        parse_instant("31/01/2026")
    with pytest.raises(ValidationFailed, match="unknown IANA timezone"):
        zone("Mars/Olympus")


def test_settings_layering(tmp_path: Path):
    assert load_settings({}).database_url == DEFAULT_DATABASE_URL
    cfg = tmp_path / "telbill.toml"
    cfg.write_text('database_url = "sqlite:///x.db"\nbackdate_limit_days = 30\n[seller]\nname = "ACME"\n')
    s = load_settings({"TELBILL_BACKDATE_LIMIT_DAYS": "7"}, cfg)
    assert s.database_url == "sqlite:///x.db"
    assert s.backdate_limit_days == 7
    assert s.seller.name == "ACME"
    cfg.write_text("colour = 'blue'\n")
    with pytest.raises(ValidationFailed, match="unknown settings"):
        load_settings({}, cfg)
    with pytest.raises(ValidationFailed, match="must be an integer"):
        load_settings({"TELBILL_BACKDATE_LIMIT_DAYS": "soon"})


def test_the_sellers_accounting_currency_is_eur_unless_configured(tmp_path: Path):
    assert load_settings(env={}, config_path=None).seller.accounting_currency == "EUR"
    cfg = tmp_path / "telbill.toml"
    cfg.write_text('[seller]\naccounting_currency = "CHF"\n')
    assert load_settings(env={}, config_path=cfg).seller.accounting_currency == "CHF"
    cfg.write_text('[seller]\naccounting_currency = "euro"\n')
    with pytest.raises(ValidationFailed, match="unknown currency code 'euro'"):
        load_settings(env={}, config_path=cfg)
