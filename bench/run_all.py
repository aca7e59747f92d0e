"""Runs every benchmark in turn (each in its own process) and prints their summary lines.

Each benchmark measures a naive baseline and telbill in the same run and ends with
`<name>: <N> <unit>/s vs baseline <M> <unit>/s = <R>x`; results go to docs/benchmarks.md.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = ("mediation.py", "rating.py", "bill_run.py", "documents.py")


def main() -> int:
    summary: list[str] = []
    failed = 0
    for name in BENCHMARKS:
        print(f"=== {name}", flush=True)
        proc = subprocess.run(
            [sys.executable, str(HERE / name)], text=True, stdout=subprocess.PIPE, stderr=None
        )
        sys.stdout.write(proc.stdout)
        lines = [line for line in proc.stdout.splitlines() if line.strip()]
        summary.append(lines[-1] if proc.returncode == 0 and lines else f"{name}: failed ({proc.returncode})")
        failed += proc.returncode != 0
    print("\n".join(["", "=== summary", *summary]))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
