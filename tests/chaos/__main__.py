"""`make chaos`: the long chaos run; prints the table and records it in docs/chaos.md.

python -m tests.chaos [--conferences 2000] [--per-second 2.5] [--record docs/chaos.md]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import date
from pathlib import Path

from .audit import table
from .run import Plan, chaos_run, describe

RESULT_HEADING = "## Last long run"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conferences", type=int, default=2000)
    parser.add_argument("--per-second", type=float, default=2.5)
    parser.add_argument("--record", type=Path, help="a Markdown file whose last-run section gets the table")
    options = parser.parse_args()
    plan = Plan(conferences=options.conferences, per_second=options.per_second, settle_timeout=600)
    with tempfile.TemporaryDirectory(prefix="chaos-") as tmp:
        result = chaos_run(plan, Path(tmp))
    report = (f"{RESULT_HEADING}\n\n{date.today().isoformat()}: {describe(plan)}.\n\n{table(result.figures)}\n\n"
              + ("No problems found.\n" if not result.problems else
                 "Problems:\n\n" + "\n".join(f"- {p}" for p in result.problems) + "\n"))
    print(report)
    if options.record:
        text = options.record.read_text() if options.record.exists() else ""
        kept = text.split(RESULT_HEADING)[0].rstrip()
        options.record.write_text(f"{kept}\n\n{report}" if kept else report)
    return 1 if result.problems else 0


if __name__ == "__main__":
    sys.exit(main())
