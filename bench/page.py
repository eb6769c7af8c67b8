"""`make bench-page`: what a person in the portal waits for and sees move, measured in Chromium (issue 15).

On the real stack (tests/integration/stack.py's processes with production settings) and the sandbox portal
page, with each emulated call to Telemost and Bitrix24 delayed by --latency ms, it creates --meetings
meetings through the page and prints:
- link after room: from the commit of the room step (its row's updated_at) to the join link in the page
  (a MutationObserver's clock; one machine, one clock). The issue's aim: 150 ms.
- layout shift: the sum of the layout-shift entries (Chromium's Layout Instability API) from the click on
  Create to one second after ready, all of them and those without a recent input (the CLS way; web.dev
  calls under 0.1 good);
- polls: the page's reads of the conference while it was in progress, how many were 304 (unchanged), and
  how many it made in the --idle seconds after ready (polling costs nothing when nothing changes: 0);
- the frame: the iframe's height against its content's, after the card and after the form is closed
  again (it grows and shrinks with the content: 1.00).
No figure is asserted: this prints, and writes bench/results/page-<date>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import date, datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import expect, sync_playwright  # noqa: E402
from sqlalchemy import select  # noqa: E402

from bench.common import log, percentile, set_latency  # noqa: E402
from bench.stacks import Settings, start_app_stack  # noqa: E402
from shared.db import Database  # noqa: E402
from shared.models import Step  # noqa: E402
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

# In every frame: the layout shifts, and the moment the join link first shows.
OBSERVE = """
window.__shifts = [];
new PerformanceObserver((list) => { for (const e of list.getEntries())
    window.__shifts.push({t: performance.timeOrigin + e.startTime, value: e.value, input: e.hadRecentInput}) })
  .observe({type: 'layout-shift', buffered: true});
window.__linkAt = null;
new MutationObserver(() => {
  if (window.__linkAt === null && document.querySelector('[data-testid="join-link"]')) window.__linkAt = Date.now();
}).observe(document, {subtree: true, childList: true});
"""


def room_done_at(database: Database, conference_id: int) -> float:
    with database.read() as session:
        updated = session.scalar(
            select(Step.updated_at).where(Step.conference_id == conference_id, Step.name == "create_room")
        )
    return updated.replace(tzinfo=timezone.utc).timestamp() * 1000


def frame_fit(page) -> float:
    """The iframe's height over its content's (the app's body, as the app measures it for resizeWindow)."""
    frame_height = page.evaluate(
        "document.querySelector('iframe[name=app-frame]').getBoundingClientRect().height"
    )
    content = page.frame(name="app-frame").evaluate("Math.ceil(document.body.scrollHeight)")
    return round(frame_height / content, 3)


def one_meeting(page, database: Database, index: int, idle_s: float) -> dict:
    app = page.frame_locator("iframe[name=app-frame]")
    frame = page.frame(name="app-frame")
    frame.evaluate("window.__linkAt = null; window.__shifts = []")
    app.get_by_test_id("new-conference").click()
    form = app.get_by_test_id("conference-form")
    form.get_by_test_id("field-name").fill(f"Замер {index}")
    form.get_by_test_id("field-cohost-input").fill("boris@yandex.ru")
    form.get_by_test_id("add-cohost").click()
    reads: list[tuple[float, int]] = []

    def on_response(response) -> None:
        if "/api/conferences/" in response.url and response.request.method == "GET":
            reads.append((time.time(), response.status))

    page.on("response", on_response)
    clicked = time.time() * 1000
    form.get_by_test_id("submit-conference").click()
    card = app.get_by_test_id("conference-card")
    expect(card).to_have_attribute("data-status", "ready", timeout=60000)
    ready = time.time()
    conference_id = int(card.get_attribute("data-id"))
    page.wait_for_timeout(1000)
    shifts = [s for s in frame.evaluate("window.__shifts") if s["t"] >= clicked]
    link_at = frame.evaluate("window.__linkAt")
    fit_card = frame_fit(page)
    page.wait_for_timeout(max(0, idle_s * 1000 - 1000))
    page.remove_listener("response", on_response)
    app.get_by_test_id("new-conference").click()
    app.get_by_test_id("cancel-form").click()
    page.wait_for_timeout(300)
    in_progress = [status for at, status in reads if at <= ready]
    return {
        "conference_id": conference_id,
        "link_after_room_ms": round(link_at - room_done_at(database, conference_id)) if link_at else None,
        "link_after_click_ms": round(link_at - clicked) if link_at else None,
        "layout_shift_all": round(sum(s["value"] for s in shifts), 4),
        "layout_shift_cls": round(sum(s["value"] for s in shifts if not s["input"]), 4),
        "reads_in_progress": len(in_progress),
        "reads_304": in_progress.count(304),
        "reads_idle": len([at for at, _ in reads if at > ready + 0.2]),
        "frame_fit_card": fit_card,
        "frame_fit_after_form": frame_fit(page),
    }


def summary(rows: list[dict]) -> dict:
    def column(name):
        return [row[name] for row in rows if row[name] is not None]

    figures = {}
    for name in ("link_after_room_ms", "link_after_click_ms", "layout_shift_all", "layout_shift_cls"):
        values = column(name)
        figures[name] = {
            "p50": percentile(values, 50),
            "p95": percentile(values, 95),
            "max": max(values, default=None),
        }
    for name in ("reads_in_progress", "reads_304", "reads_idle"):
        figures[name] = sum(column(name))
    for name in ("frame_fit_card", "frame_fit_after_form"):
        values = column(name)
        figures[name] = {"min": min(values, default=None), "max": max(values, default=None)}
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--meetings", type=int, default=10)
    parser.add_argument("--latency", type=int, default=200, help="ms added to each emulated call")
    parser.add_argument("--idle", type=float, default=3, help="seconds watched after ready")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    options = parser.parse_args()
    tmp = ROOT / "var" / "bench" / ("page-" + datetime.now().strftime("%Y%m%d-%H%M%S"))
    stack = start_app_stack(tmp, Settings(), {})
    database = Database(stack.env["DATABASE_URL"])
    try:
        stack.install()
        set_latency(stack, options.latency)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": options.width, "height": 900}, locale="ru-RU")
            context.add_init_script(OBSERVE)
            page = context.new_page()
            page.goto(f"{stack.bitrix_url}/?user_id=2")
            expect(
                page.frame_locator("iframe[name=app-frame]").get_by_test_id("new-conference")
            ).to_be_visible(timeout=30000)
            rows = []
            for index in range(options.meetings):
                rows.append(one_meeting(page, database, index, options.idle))
                log(f"meeting {index + 1}: {rows[-1]}")
            browser.close()
    finally:
        database.dispose()
        stack.stop_all()
    result = {
        "date": date.today().isoformat(),
        "latency_ms": options.latency,
        "meetings": options.meetings,
        "width": options.width,
        "cores": os.cpu_count(),
        "summary": summary(rows),
        "rows": rows,
    }
    out = Path(options.out) / f"page-{result['date']}.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    figures = result["summary"]
    print(f"\nPage, {options.meetings} meetings, {options.latency} ms per emulated call, {options.width} px:")
    print(
        f"  link after the room's commit: p50 {figures['link_after_room_ms']['p50']} ms, "
        f"p95 {figures['link_after_room_ms']['p95']} ms, max {figures['link_after_room_ms']['max']} ms (aim: 150)"
    )
    print(f"  link after the click on Create: p50 {figures['link_after_click_ms']['p50']} ms")
    print(
        f"  layout shift per creation: all p50 {figures['layout_shift_all']['p50']} "
        f"(max {figures['layout_shift_all']['max']}), without recent input max {figures['layout_shift_cls']['max']}"
    )
    reads = figures["reads_in_progress"]
    print(
        f"  reads while in progress: {reads}, of them 304: {figures['reads_304']} "
        f"({figures['reads_304'] / reads:.0%}); after ready, in {options.idle:g} s each: {figures['reads_idle']}"
        if reads
        else "  no reads while in progress"
    )
    print(
        f"  frame over content: with the card {figures['frame_fit_card']}, form closed {figures['frame_fit_after_form']}"
    )
    print(f"  written to {out}")


if __name__ == "__main__":
    main()
