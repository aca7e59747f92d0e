from typer.testing import CliRunner

from telbill.cli.main import app
from telbill.db.engine import create_db_engine
from telbill.db.models import load_all_models

runner = CliRunner()


def test_key_create_list_revoke(fresh_db_url):
    engine = create_db_engine(fresh_db_url)
    load_all_models().metadata.create_all(engine)
    engine.dispose()
    made = runner.invoke(
        app, ["--database-url", fresh_db_url, "api", "key-create", "crm", "--scope", "write"]
    )
    assert made.exit_code == 0, made.output
    token = next(w for w in made.output.split() if w.startswith("tb_"))
    prefix = token.split("_")[1]
    listed = runner.invoke(app, ["--database-url", fresh_db_url, "api", "key-list"])
    assert prefix in listed.output and "crm" in listed.output
    assert token.split("_", 2)[2] not in listed.output
    bad = runner.invoke(app, ["--database-url", fresh_db_url, "api", "key-create", "x", "--scope", "root"])
    assert bad.exit_code != 0
    revoked = runner.invoke(app, ["--database-url", fresh_db_url, "api", "key-revoke", prefix])
    assert revoked.exit_code == 0 and "revoked" in revoked.output
