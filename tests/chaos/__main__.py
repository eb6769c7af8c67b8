"""`make chaos`: the long chaos run; prints the table and records it in docs/chaos.md.

python -m tests.chaos [--conferences 2000] [--per-second 2.5] [--record docs/chaos.md]

On SQLite by default; with TEST_DATABASE_URL (`make chaos DB=postgres`, scripts/with-postgres.sh) on
PostgreSQL with two hosts. Each database has its own section in the record.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from datetime import date
from pathlib import Path

from .audit import table
from .run import Plan, chaos_run, describe, on_postgres

HEADINGS = {False: "## Last long run", True: "## Last run on PostgreSQL"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conferences", type=int, default=2000)
    parser.add_argument("--per-second", type=float, default=2.5)
    parser.add_argument("--record", type=Path, help="a Markdown file whose last-run section gets the table")
    options = parser.parse_args()
    plan = Plan(conferences=options.conferences, per_second=options.per_second, settle_timeout=600)
    tmp = Path(tempfile.mkdtemp(prefix="chaos-"))
    result = chaos_run(plan, tmp)
    if result.problems:  # the processes' logs are the evidence
        print(f"logs kept in {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    heading = HEADINGS[on_postgres()]
    report = f"{heading}\n\n{date.today().isoformat()}: {describe(plan)}.\n\n{table(result.figures)}\n\n" + (
        "No problems found.\n"
        if not result.problems
        else "Problems:\n\n" + "\n".join(f"- {p}" for p in result.problems) + "\n"
    )
    print(report)
    if options.record:
        text = options.record.read_text() if options.record.exists() else ""
        options.record.write_text(replace_section(text, heading, report))
    return 1 if result.problems else 0


def replace_section(text: str, heading: str, section: str) -> str:
    """text with the section under heading (up to the next "## ") replaced by section, or section added at
    the end; the other sections stay as they are."""
    start = text.find(f"{heading}\n")
    if start < 0:
        return f"{text.rstrip()}\n\n{section}" if text.strip() else section
    end = text.find("\n## ", start + len(heading))
    rest = text[end + 1 :] if end >= 0 else ""
    return f"{text[:start]}{section}" + (f"\n{rest}" if rest else "")


if __name__ == "__main__":
    sys.exit(main())
