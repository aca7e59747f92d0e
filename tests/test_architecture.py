"""Architecture rules checked by a test, not by memory (see docs/architecture.md)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "telbill"
IO_PACKAGES = {"sqlalchemy", "fastapi", "httpx", "requests", "alembic", "psycopg", "typer", "uvicorn"}
# Modules that compute: pure functions over plain data, no I/O and no wall clock.
PURE_NAMES = {
    "periods",
    "proration",
    "pricing",
    "charges",
    "reconcile",
    "tariff",
    "tariffs",
    "posting",
    "lifecycle",
    "versions",
    "totals",
    "taxes",
    "discounts",
    "money",
    "clock",
    "errors",
    "content",
    "spec",
    "normalise",
    "validate",
    "dedupe",
    "correlate",
    "guide",
    "engine",
    "reference",
    "bands",
}
CONTEXTS = {p.name for p in SRC.iterdir() if p.is_dir() and (p / "__init__.py").exists()}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules() -> list[Path]:
    return [p for p in SRC.rglob("*.py") if "migrations" not in p.parts]


def test_pure_modules_do_no_io():
    offenders = []
    for path in _modules():
        if path.stem not in PURE_NAMES or path.parent.name in {"db", "cli", "api", "portal"}:
            continue
        for name in _imports(path):
            if name.split(".")[0] in IO_PACKAGES:
                offenders.append(f"{path.relative_to(SRC)} imports {name}")
    assert offenders == []


def test_core_imports_no_other_context():
    offenders = []
    for path in (SRC / "core").rglob("*.py"):
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] == "telbill" and len(parts) > 1 and parts[1] != "core":
                offenders.append(f"{path.name} imports {name}")
            if parts[0] in IO_PACKAGES:
                offenders.append(f"{path.name} imports {name}")
    assert offenders == []


def test_domain_code_does_not_read_the_wall_clock():
    offenders = []
    for path in _modules():
        rel = path.relative_to(SRC)
        if rel.parts[0] in {"cli", "bench"} or rel.as_posix() == "core/clock.py":
            continue
        text = path.read_text(encoding="utf-8")
        for needle in ("datetime.now(", "date.today(", "datetime.utcnow(", "time.time("):
            if needle in text:
                offenders.append(f"{rel} calls {needle}")
    assert offenders == []
