"""Exchange rates: files parsed, rates recorded once, the rate in force on a date, conversions
worked by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from telbill import fx
from telbill.cli.main import app
from telbill.core.clock import TestClock
from telbill.core.errors import Conflict, ValidationFailed
from telbill.db.engine import create_db_engine
from telbill.db.models import load_all_models
from telbill.fx import MissingExchangeRate, Rate, checked_rate, convert, parse_rates

D = Decimal
ECB_DAILY = """Date, USD, JPY, BGN, GBP, CHF, \n27 January 2027, 1.0830, 163.30, 1.9558, 0.8412, N/A, \n"""
ECB_HISTORY = """Date,USD,JPY,CYP,
2027-01-29,1.0850,164.1,N/A,
2027-01-28,1.0841,163.9,N/A,
"""
SIMPLE = """date,base,quote,rate,source
2027-01-15,USD,EUR,0.9234,Treasury desk
2027-02-01,USD,EUR,0.9301,
2027-01-15,GBP,EUR,1.1888,Treasury desk
"""


@pytest.fixture
def clock() -> TestClock:
    return TestClock(datetime(2027, 2, 1, 9, 0, tzinfo=UTC))


def test_conversion_worked_by_hand():
    usd_eur = Rate("USD", "EUR", D("0.9234"), date(2027, 1, 15), "manual")
    assert convert(D("20.00"), usd_eur, "USD", "EUR") == D("18.47")  # 18.468 → 18.47
    assert convert(D("0.05"), usd_eur, "USD", "EUR") == D("0.05")  # 0.04617 → 0.05
    eur_usd = Rate("EUR", "USD", D("1.0830"), date(2027, 1, 27), "ECB")  # as the ECB quotes it
    assert convert(D("20.00"), eur_usd, "USD", "EUR") == D("18.47")  # 20 / 1.083 = 18.4672…
    assert convert(D("1.0830"), eur_usd, "USD", "EUR") == D("1.00")  # exact division, no drift
    eur_jpy = Rate("EUR", "JPY", D("163.30"), date(2027, 1, 27), "ECB")
    assert convert(D("100.00"), eur_jpy, "EUR", "JPY") == D("16330")  # JPY has no minor unit
    assert convert(D("10.00"), eur_jpy, "EUR", "JPY") == D("1633")
    half = Rate("USD", "EUR", D("0.5"), date(2027, 1, 1), "manual")
    assert convert(D("0.01"), half, "USD", "EUR") == D("0.01")  # 0.005 rounds half up
    with pytest.raises(ValidationFailed, match="does not convert GBP"):
        convert(D("1"), usd_eur, "GBP", "EUR")


def test_rates_are_checked():
    with pytest.raises(ValidationFailed, match="positive"):
        checked_rate("USD", "EUR", "0", date(2027, 1, 1), "x")
    with pytest.raises(ValidationFailed, match="unknown currency"):
        checked_rate("USD", "EURO", "1", date(2027, 1, 1), "x")
    with pytest.raises(ValidationFailed, match="two currencies"):
        checked_rate("EUR", "eur", "1", date(2027, 1, 1), "x")
    with pytest.raises(ValidationFailed, match="float"):
        checked_rate("USD", "EUR", 0.9, date(2027, 1, 1), "x")  # type: ignore[arg-type]


def test_ecb_daily_and_historical_files():
    rates, rejects = parse_rates(ECB_DAILY)
    assert rejects == []
    assert [(r.base, r.quote, r.rate, r.effective_date, r.source) for r in rates] == [
        ("EUR", "USD", D("1.0830"), date(2027, 1, 27), "ECB"),
        ("EUR", "JPY", D("163.30"), date(2027, 1, 27), "ECB"),
        ("EUR", "BGN", D("1.9558"), date(2027, 1, 27), "ECB"),
        ("EUR", "GBP", D("0.8412"), date(2027, 1, 27), "ECB"),
    ]  # CHF N/A skipped; digits kept as quoted (1.0830, 163.30)
    rates, rejects = parse_rates(ECB_HISTORY, "ECB hist")
    assert rejects == [] and len(rates) == 4 and {r.source for r in rates} == {"ECB hist"}


def test_simple_file_and_rejects():
    rates, rejects = parse_rates(SIMPLE)
    assert rejects == []
    assert [(r.pair, r.rate, r.source) for r in rates] == [
        ("USD/EUR", D("0.9234"), "Treasury desk"),
        ("USD/EUR", D("0.9301"), "manual"),
        ("GBP/EUR", D("1.1888"), "Treasury desk"),
    ]
    _, rejects = parse_rates("date,base,quote,rate\n2027-13-01,USD,EUR,1\n2027-01-01,USD,EUR,-2\n")
    assert [str(r) for r in rejects] == [
        "line 2: not a date: '2027-13-01' (expected 2025-01-24 or 24 January 2025)",
        "line 3: a rate is a positive number, got '-2'",
    ]
    assert parse_rates("when,from,to\n")[1][0].reason.startswith("unknown header")


def test_rate_in_force_is_the_latest_on_or_before_the_date(session, clock):
    rates, _ = parse_rates(SIMPLE)
    assert fx.record_rates(session, clock, rates) == fx.ImportSummary(added=3)
    on = fx.rate_in_force
    assert on(session, "USD", "EUR", date(2027, 1, 15)).rate == D("0.9234")  # effective that day
    assert on(session, "USD", "EUR", date(2027, 1, 31)).rate == D("0.9234")
    assert on(session, "USD", "EUR", date(2027, 2, 1)).rate == D("0.9301")
    assert on(session, "USD", "EUR", date(2031, 1, 1)).rate == D("0.9301")
    with pytest.raises(MissingExchangeRate) as caught:
        on(session, "USD", "EUR", date(2027, 1, 14))
    assert "USD/EUR on 2027-01-14" in str(caught.value)
    with pytest.raises(MissingExchangeRate, match="JPY/EUR on 2027-02-01"):
        on(session, "JPY", "EUR", date(2027, 2, 1))
    # the ECB quotes the other way round: found too, and a later date wins over orientation
    fx.record_rates(session, clock, parse_rates(ECB_DAILY)[0])
    assert on(session, "JPY", "EUR", date(2027, 2, 1)) == Rate(
        "EUR", "JPY", D("163.30"), date(2027, 1, 27), "ECB"
    )
    assert on(session, "USD", "EUR", date(2027, 1, 28)).pair == "EUR/USD"
    # same date both ways: the rate quoted invoice currency → accounting currency wins
    fx.record_rates(session, clock, [checked_rate("USD", "EUR", "0.9250", date(2027, 1, 27), "desk")])
    assert on(session, "USD", "EUR", date(2027, 1, 28)).rate == D("0.9250")
    found, missing = fx.rates_in_force(
        session, {("USD", "EUR", date(2027, 2, 3)), ("CHF", "EUR", date(2027, 2, 3))}
    )
    assert missing == [("CHF", "EUR", date(2027, 2, 3))]
    assert found[("USD", "EUR", date(2027, 2, 3))].rate == D("0.9301")


def test_recording_twice_changes_nothing_and_a_different_rate_needs_replace(session, clock):
    rates, _ = parse_rates(SIMPLE)
    fx.record_rates(session, clock, rates)
    assert fx.record_rates(session, clock, rates) == fx.ImportSummary(unchanged=3)
    corrected = [checked_rate("USD", "EUR", "0.9240", date(2027, 1, 15), "desk")]
    with pytest.raises(Conflict, match="nothing imported") as caught:
        fx.record_rates(session, clock, corrected)
    assert caught.value.details == ["USD/EUR on 2027-01-15: recorded 0.9234 (Treasury desk), given 0.9240"]
    assert fx.record_rates(session, clock, corrected, replace=True) == fx.ImportSummary(replaced=1)
    assert fx.rate_in_force(session, "USD", "EUR", date(2027, 1, 20)).rate == D("0.9240")
    listed = fx.list_rates(session, currency="GBP")
    assert [(r.pair, r.rate) for r in listed] == [("GBP/EUR", D("1.1888"))]
    assert [r.effective_date for r in fx.list_rates(session)] == [
        date(2027, 2, 1),
        date(2027, 1, 15),
        date(2027, 1, 15),
    ]


def test_cli_import_list_and_rate(fresh_db_url, tmp_path):
    engine = create_db_engine(fresh_db_url)
    load_all_models().metadata.create_all(engine)
    engine.dispose()
    ecb, bad = tmp_path / "eurofxref.csv", tmp_path / "bad.csv"
    ecb.write_text(ECB_DAILY, encoding="utf-8")
    bad.write_text("date,base,quote,rate\n2027-01-01,USD,EUR,abc\n", encoding="utf-8")
    runner = CliRunner()

    def run(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(app, ["--database-url", fresh_db_url, "fx", *args], catch_exceptions=False)

    result = run("import", str(ecb))
    assert result.exit_code == 0 and "4 rate(s) added" in result.output
    assert "0 rate(s) added, 4 already recorded" in run("import", str(ecb)).output
    listed = run("list", "--currency", "USD").output
    assert "2027-01-27" in listed and "1.0830 USD" in listed and "ECB" in listed
    shown = run("rate", "USD", "--on", "2027-02-01").output
    assert "1 EUR = 1.0830 USD (effective 2027-01-27, ECB)" in shown
    from telbill.cli import main

    refused = runner.invoke(main.app, ["--database-url", fresh_db_url, "fx", "import", str(bad)])
    assert refused.exit_code != 0 and isinstance(refused.exception, ValidationFailed)
    assert "line 2: not a number: 'abc'" in str(refused.exception)


def test_cli_records_one_rate_and_refuses_another_value_without_replace(fresh_db_url):
    engine = create_db_engine(fresh_db_url)
    load_all_models().metadata.create_all(engine)
    engine.dispose()
    from telbill.cli import main
    from telbill.core.errors import Conflict

    runner = CliRunner()

    def run(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(main.app, ["--database-url", fresh_db_url, "fx", *args])

    added = run("record", "usd", "eur", "0.9234", "--on", "2027-01-15", "--source", "Treasury desk")
    assert added.exit_code == 0, added.output
    assert "1 USD = 0.9234 EUR from 2027-01-15 (Treasury desk): added" in added.output
    assert "already recorded" in run("record", "USD", "EUR", "0.9234", "--on", "2027-01-15").output
    refused = run("record", "USD", "EUR", "0.9300", "--on", "2027-01-15")
    assert refused.exit_code != 0 and isinstance(refused.exception, Conflict)
    replaced = run("record", "USD", "EUR", "0.9300", "--on", "2027-01-15", "--replace")
    assert replaced.exit_code == 0 and ": replaced" in replaced.output
    shown = run("rate", "USD", "--on", "2027-01-20").output
    assert "1 USD = 0.9300 EUR (effective 2027-01-15, manual)" in shown
    wrong = run("record", "USD", "USD", "1", "--on", "2027-01-15")
    assert wrong.exit_code != 0 and isinstance(wrong.exception, ValidationFailed)
    bad_date = run("record", "USD", "EUR", "1", "--on", "15/01/2027")
    assert bad_date.exit_code != 0 and "not a date" in str(bad_date.exception)
