import sys

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from telbill.accounts import BillingAccount, Customer, get_account_by_number
from telbill.cli.main import app, main
from telbill.core.errors import ValidationFailed
from telbill.db.engine import create_db_engine
from telbill.db.models import load_all_models
from telbill.events.model import OutboxEvent

runner = CliRunner()


@pytest.fixture
def db(fresh_db_url):
    engine = create_db_engine(fresh_db_url)
    load_all_models().metadata.create_all(engine)
    yield fresh_db_url, engine
    engine.dispose()


def run(url, *args):
    return runner.invoke(app, ["--database-url", url, "accounts", *args], catch_exceptions=True)


def counts(engine):
    with Session(engine) as s:
        return tuple(
            s.scalar(select(func.count()).select_from(t)) for t in (Customer, BillingAccount, OutboxEvent)
        )


PARENT = [
    "create", "--name", "Acme SAS", "--kind", "company", "--vat", "FR 40 303 265 045", "--country", "FR",
    "--currency", "EUR", "--timezone", "Europe/Paris", "--language", "fr", "--cycle-day", "31",
    "--cycle", "monthly", "--pays-for-children", "--email", "billing@acme.fr", "--phone", "01 23 45 67 89",
]  # fmt: skip


def test_create_show_list_tree_update(db):
    url, engine = db
    result = run(url, *PARENT)
    assert result.exit_code == 0, result.output
    assert "created ACC-000001 for customer CUS-000001" in result.output
    assert (
        run(
            url, "create", "--customer", "CUS-000001", "--account-name", "Lyon", "--parent", "ACC-000001"
        ).exit_code
        == 0
    )

    with Session(engine) as s:
        child = get_account_by_number(s, "ACC-000002")
        assert (child.payment_responsibility, child.bill_cycle_day, child.currency) == ("parent", 31, "EUR")

    shown = run(url, "show", "ACC-000001")
    assert shown.exit_code == 0
    assert "FR40303265045" in shown.output and "+33123456789" in shown.output
    assert "child: ACC-000002 Lyon (paid by parent)" in shown.output
    listed = run(url, "list", "--search", "lyon")
    assert listed.exit_code == 0 and "(1 of 1)" in listed.output
    tree = run(url, "tree", "ACC-000001")
    assert "ACC-000002 Lyon" in tree.output and "on parent's invoice" in tree.output

    updated = run(
        url, "update", "ACC-000001", "--language", "en", "--cycle-day", "15", "--credit-limit", "250"
    )
    assert updated.exit_code == 0, updated.output
    with Session(engine) as s:
        parent, child = get_account_by_number(s, "ACC-000001"), get_account_by_number(s, "ACC-000002")
        assert (parent.language, parent.bill_cycle_day, str(parent.credit_limit_money)) == (
            "en",
            15,
            "250.00 EUR",
        )
        assert child.bill_cycle_day == 15  # invoiced together, so changed together
    assert "cycle change at" in run(url, "show", "ACC-000002").output


def test_bad_input_is_a_validation_error_and_writes_nothing(db):
    url, engine = db
    assert run(url, *PARENT).exit_code == 0
    before = counts(engine)
    bad = run(url, "create", "--name", "Bob", "--kind", "person", "--country", "FR", "--currency", "USD",
              "--parent", "ACC-000001")  # fmt: skip
    assert isinstance(bad.exception, ValidationFailed)
    assert "currency USD differs from the parent's EUR" in str(bad.exception)
    assert counts(engine) == before  # the customer created first was rolled back too
    for args in (
        ["create", "--name", "X", "--vat", "DE136695977", "--country", "DE"],
        ["create", "--name", "X", "--country", "FR", "--cycle-day", "32"],
        ["create", "--name", "X", "--country", "FR", "--timezone", "Europe/Atlantis"],
        ["update", "ACC-000001", "--language", "de"],
        ["update", "ACC-000001", "--communication", "marketing"],
        ["move", "ACC-000001"],
    ):
        result = run(url, *args)
        assert isinstance(result.exception, ValidationFailed), (args, result.output)
    assert counts(engine) == before


def test_main_prints_the_error_without_traceback_and_exits_2(db, monkeypatch, capsys):
    url, _ = db
    argv = [
        "telbill",
        "--database-url",
        url,
        "accounts",
        "create",
        "--name",
        "X",
        "--country",
        "FR",
        "--vat",
        "FR1",
    ]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "vat_number" in err and "Traceback" not in err


def test_move_and_currency_change(db):
    url, engine = db
    assert run(url, *PARENT).exit_code == 0
    assert (
        run(
            url, "create", "--name", "Solo", "--country", "BE", "--vat", "BE0403019261", "--cycle-day", "31"
        ).exit_code
        == 0
    )
    moved = run(url, "move", "ACC-000002", "--parent", "ACC-000001", "--paid-by-parent")
    assert moved.exit_code == 0, moved.output
    assert isinstance(run(url, "update", "ACC-000002", "--cycle-day", "3").exception, ValidationFailed)
    assert run(url, "move", "ACC-000002", "--root").exit_code == 0
    changed = run(url, "update", "ACC-000002", "--currency", "CHF")  # no subscriptions yet
    assert changed.exit_code == 0, changed.output
    with Session(engine) as s:
        assert get_account_by_number(s, "ACC-000002").currency == "CHF"


def test_go_live_date_from_the_command_line(db):
    url, engine = db
    created = run(
        url, "create", "--name", "Ada", "--kind", "person", "--country", "FR", "--billing-start", "2026-03-01"
    )
    assert created.exit_code == 0, created.output
    assert "2026-03-01" in run(url, "show", "ACC-000001").output
    assert run(url, "update", "ACC-000001", "--billing-start", "2026-04-15").exit_code == 0
    bad = run(url, "update", "ACC-000001", "--billing-start", "15/04/2026")
    assert isinstance(bad.exception, ValidationFailed) and "billing_start" in bad.exception.details[0]
    assert run(url, "update", "ACC-000001", "--billing-start", "none").exit_code == 0
    with Session(engine) as s:
        assert get_account_by_number(s, "ACC-000001").billing_start is None
