"""The Dagster UI of the FlowGuard code location, in headless Chromium (Playwright, sync API).

One `dagster-webserver` runs on a fresh DAGSTER_HOME whose instance already holds a Bronze ->
Gold run of 2026-02-14..2026-02-15; the browser is Debian's `chromium` (no Playwright download).
Screenshots go to `test-artifacts/` at the repository root.

Flows of this Dagster version (1.13) the tests rely on:
- Global asset lineage (`/asset-groups`) draws groups collapsed; the canvas's context menu has
  "Expand all groups". Nodes are HTML inside SVG `<foreignObject>`s.
- There is no "Plots" tab any more: an asset's Overview has a Metadata section with a
  Table / Plots toggle, and for a partitioned asset a Partitions / Events toggle for the x axis.
- "Materialize all…" on a filtered lineage graph opens the partition dialog for the shown assets;
  with one partition its button reads "Launch 1 run" and the run starts without a daemon.
- The asset's Checks tab lists each check with its latest status; a check's Overview shows the
  latest evaluation's result and partition.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import dagster as dg
import pytest
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

from flowguard_assets.generate import AnomalyRates, generate_landing
from flowguard_assets.cli.runner import execute_range
from flowguard_assets_tests.dagster_services import free_port, graphql, location_loaded
from flowguard_assets_tests.harness import make_defs

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/bin/chromium", "chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # the tests run as root
    "--disable-gpu",
    "--disable-dev-shm-usage",
    # Outside connections are refused here: keep Chromium from trying.
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
GROUPS = {
    "bronze": ["orders_raw", "clicks_raw"],
    "silver": ["orders_clean", "clicks_clean"],
    "gold": ["daily_gmv_metrics", "food_item_performance", "user_funnel_metrics", "hourly_order_patterns"],
}
UI_DAY = "2026-02-16"
WAIT_MS = 180_000
# Dagster 1.13's default run coordinator is the QueuedRunCoordinator, which needs a daemon; the
# default (immediate) coordinator starts a run launched from the UI at once.
DAGSTER_YAML = """\
telemetry:
  enabled: false
run_coordinator:
  module: dagster.core.run_coordinator
  class: DefaultRunCoordinator
"""


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def chromium_binary() -> str:
    for candidate in CHROMIUM_CANDIDATES:
        found = shutil.which(candidate)
        if found and Path(found).exists():
            return found
    pytest.fail(
        "The UI tests need Debian's Chromium and found none of "
        f"{', '.join(CHROMIUM_CANDIDATES)}: run "
        "`apt-get install -y --no-install-recommends chromium` (as .ci/run does)."
    )


@dataclass(frozen=True)
class Server:
    url: str
    env: dict[str, str]
    home: Path
    log: Path
    process: subprocess.Popen

    def wait_loaded(self) -> None:
        deadline = time.monotonic() + 180
        while not location_loaded(self.url):
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the webserver did not load the code location; its log:\n{_tail(self.log)}")
            time.sleep(2)


@contextmanager
def webserver(root: Path) -> Iterator[Server]:
    """dagster-webserver on a fresh instance in root/dagster_home, with the laptop set-up (bundled
    catalog, local Spark) and the landing zone and warehouse under `root`; stopped afterwards."""
    home = root / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(DAGSTER_YAML)
    dg.DagsterInstance.from_config(str(home)).dispose()  # creates the storage before the webserver
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("POSTGRES_", "SNOWFLAKE_", "SPARK_REMOTE", "FLOWGUARD_"))
    } | {
        "DAGSTER_HOME": str(home),
        "FLOWGUARD_LANDING_DIR": str(root / "landing"),
        "FLOWGUARD_WAREHOUSE_DIR": str(root / "warehouse"),
        "FLOWGUARD_UI_URL": url,
    }
    log = root / "webserver.log"
    process = subprocess.Popen(
        [str(BIN / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(port), "-w", str(ROOT / "workspace.yaml")],
        env=env, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL, stderr=open(log, "w"),
    )  # fmt: skip
    try:
        yield Server(url, env, home, log, process)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


@pytest.fixture(scope="module")
def ui(tmp_path_factory):
    """dagster-webserver on a fresh DAGSTER_HOME whose instance holds a Bronze -> Gold run of
    2026-02-14..15 (landing data goes up to 2026-02-16, left for the UI to materialize)."""
    root = tmp_path_factory.mktemp("ui")
    landing, warehouse = root / "landing", root / "warehouse"
    generate_landing(landing, date(2026, 2, 14), 3, orders_per_day=300, clicks_per_day=1500, seed=7)
    # Started before the in-process run: loading the code location and Spark overlap.
    with webserver(root) as server:
        instance = dg.DagsterInstance.from_config(str(server.home))
        try:
            result = execute_range(
                make_defs(landing, warehouse), date(2026, 2, 14), date(2026, 2, 15), dagster_instance=instance
            )
            assert result.success, "the in-process Bronze -> Gold run of 2026-02-14..15 failed"
            gmv = {
                event.event_specific_data.materialization.partition: {
                    key: value.value for key, value in event.event_specific_data.materialization.metadata.items()
                }
                for event in result.get_asset_materialization_events()
                if event.event_specific_data.materialization.asset_key == dg.AssetKey(["gold", "daily_gmv_metrics"])
            }
            server.wait_loaded()
            yield {"url": server.url, "home": server.home, "gmv": gmv, "log": server.log}
        finally:
            instance.dispose()


@pytest.fixture(scope="module")
def browser():
    executable = chromium_binary()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


def _page(browser: Browser, url: str) -> Iterator[Page]:
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1600, "height": 1100}, base_url=url)
    # The "Join the Dagster community" pop-up shows on localhost until this key is set (it is
    # what its Skip button writes); otherwise it sits over the page and intercepts clicks.
    context.add_init_script("window.localStorage.setItem('communityNux', JSON.stringify('1'))")
    context.set_default_timeout(60_000)
    tab = context.new_page()
    # Should the key ever change, dismiss the pop-up the way a person would.
    tab.add_locator_handler(
        tab.get_by_text("Join the Dagster community", exact=True),
        lambda _: tab.get_by_role("button", name="Skip", exact=True).click(),
    )
    try:
        yield tab
    finally:
        context.close()


@pytest.fixture
def page(ui, browser: Browser):
    yield from _page(browser, ui["url"])


def graph_nodes(page: Page) -> Locator:
    """The lineage graph's nodes (groups and assets): HTML drawn in SVG foreignObjects."""
    return page.locator("svg foreignObject")


def innermost(page: Page, *parts: Locator) -> Locator:
    """The deepest <div> holding all `parts`: a DOM descendant comes after its ancestors, so the
    last match is the smallest box around them (the page has no roles or test ids there)."""
    candidate = page.locator("div")
    for part in parts:
        candidate = candidate.filter(has=part)
    return candidate.last


def as_shown(value: float | int) -> str:
    """A number as the UI prints it (JavaScript's shortest form: 6240.0 is "6240")."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def inside(inner: dict, outer: dict) -> bool:
    return (
        outer["x"] <= inner["x"]
        and outer["y"] <= inner["y"]
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"]
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"]
    )


def test_asset_graph_shows_the_eight_assets_in_their_three_layers(page: Page):
    page.goto("/asset-groups")
    expect(page.get_by_text("Global asset lineage", exact=True)).to_be_visible(timeout=WAIT_MS)
    nodes = graph_nodes(page)
    # Collapsed at first: one box per group with its number of assets.
    for group, assets in GROUPS.items():
        expect(nodes.filter(has_text=re.compile(rf"^\s*{group}\s*{len(assets)}\s*$"))).to_have_count(1)

    # Right-click on the empty canvas, at its bottom-left corner (the graph is drawn in the
    # middle, the zoom controls are at the right). The canvas is the SVG's grandparent <div>.
    canvas = nodes.first.locator("xpath=ancestor::*[local-name()='svg'][1]/../..")
    box = canvas.bounding_box()
    canvas.click(button="right", position={"x": 40, "y": box["height"] - 40})
    page.get_by_role("menuitem", name="Expand all groups").click()

    for group, assets in GROUPS.items():
        group_box = nodes.filter(has=page.get_by_text(group, exact=True))
        expect(group_box).to_have_count(1)
        expect(group_box).to_be_visible()
        for asset in assets:
            node = nodes.filter(has=page.get_by_text(asset, exact=True))
            expect(node).to_have_count(1)
            expect(node).to_be_visible()
            expect(node).to_contain_text("Latest event")
            assert inside(node.bounding_box(), group_box.bounding_box()), f"{asset} is drawn outside {group}"
            if group != "bronze":  # Silver's 2 gates and Gold's 3 reconciliation checks passed on 14..15
                checks = 2 if group == "silver" else 3
                expect(node).to_contain_text(f"{checks} / {checks} Passed")
    page.screenshot(path=str(ARTIFACTS / "asset-graph.png"))


def test_gold_asset_plots_its_metadata(page: Page, ui):
    latest = ui["gmv"]["2026-02-15"]
    page.goto("/assets/gold/daily_gmv_metrics")
    expect(page.get_by_role("tab", name="Overview")).to_be_visible(timeout=WAIT_MS)
    expect(page.get_by_text("2026-02-15", exact=True).first).to_be_visible()  # latest partition

    # The Metadata section's table: the latest partition's headline figures.
    for key in ("revenue", "orders", "avg_order_value"):
        row = page.get_by_role("row").filter(has=page.get_by_text(key, exact=True))
        expect(row).to_contain_text(as_shown(latest[key]))

    # Button names start with their icon's name ("asset_plot Plots").
    page.get_by_role("button", name=re.compile(r"(^|\s)Plots$")).click()
    # x axis: materialization events (one per partition). The "Partitions" x axis plots only the
    # partition keys of the last 120 days before today, and 2026-02-14..15 may lie before that.
    page.get_by_role("button", name=re.compile(r"(^|\s)Events$")).click()
    for label in ("revenue", "orders", "unique_users", "new_users", "avg_order_value", "dagster/row_count"):
        plot = innermost(page, page.get_by_text(label, exact=True), page.locator("canvas"))
        expect(plot.locator("canvas")).to_have_count(1)
        expect(plot.locator("canvas")).to_be_visible()
    revenue = innermost(page, page.get_by_text("revenue", exact=True), page.locator("canvas"))
    revenue.scroll_into_view_if_needed()
    # Chart.js draws on the canvas: wait for the line (the accent blue-violet) to be painted.
    page.wait_for_function(
        """canvas => {
            const {data} = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
            let line = 0;
            for (let i = 0; i < data.length; i += 4) {
                const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
                if (a > 200 && b > 150 && b > r + 60 && b > g + 60) line++;
            }
            return line > 100;
        }""",
        arg=revenue.locator("canvas").element_handle(),
        timeout=30_000,
    )
    page.screenshot(path=str(ARTIFACTS / "gold-asset-plots.png"))


RUN = """
query Run($id: ID!) {
  runOrError(runId: $id) { ... on Run { status assetSelection { path } tags { key value } } }
}
"""


def test_a_day_materialized_from_the_ui_passes_the_silver_gates(page: Page, ui):
    # Bronze and Silver orders of one new day: silver/orders_clean and what it reads.
    page.goto("/asset-groups")
    search = page.get_by_role("textbox", name="Search and filter assets")
    expect(search).to_be_attached(timeout=WAIT_MS)
    search.focus()
    page.keyboard.type('+key:"silver/orders_clean"')
    page.keyboard.press("Escape")  # close the suggestions
    page.keyboard.press("Enter")
    nodes = graph_nodes(page)
    expect(nodes).to_have_count(2)
    expect(nodes.filter(has_text=re.compile(r"^\s*bronze\s*1\s*$"))).to_have_count(1)
    expect(nodes.filter(has_text=re.compile(r"^\s*silver\s*1\s*$"))).to_have_count(1)

    page.get_by_role("button", name="Materialize all…").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Launch runs to materialize 2 assets")
    expect(dialog.get_by_text("Partition selection")).to_be_visible()
    # Only the last 90 days are offered until this banner's link is clicked; it is there only
    # when older partitions exist (always, unless the clock is within 90 days of February 2026).
    show_all = dialog.get_by_role("button", name="Show all partitions")
    partitions = dialog.get_by_placeholder(re.compile(r"^ex: "))
    expect(show_all.or_(partitions).first).to_be_visible()
    if show_all.is_visible():
        show_all.click()
    partitions.fill(UI_DAY)
    partitions.press("Enter")
    expect(dialog).to_contain_text("1 partition")
    dialog.get_by_role("button", name="Launch 1 run").click()

    page.get_by_role("link", name="View", exact=True).click()  # on the "Launched run …" toast
    page.wait_for_url(re.compile(r"/runs/[0-9a-f-]{36}"))
    run_id = re.search(r"/runs/([0-9a-f-]{36})", page.url).group(1)
    status = page.get_by_text(re.compile(r"^(Success|Failure|Canceled)$"))
    try:
        expect(status.first).to_be_visible(timeout=240_000)
    except AssertionError:
        run = graphql(ui["url"], RUN, {"id": run_id})["runOrError"]
        pytest.fail(f"run {run_id} did not finish in 240 s: {run}\nwebserver log:\n{_tail(ui['log'])}")
    expect(status.first).to_have_text("Success")
    expect(page.get_by_text(f"partition: {UI_DAY}", exact=True)).to_be_visible()
    run = graphql(ui["url"], RUN, {"id": run_id})["runOrError"]
    assert run["status"] == "SUCCESS"
    assert {"/".join(a["path"]) for a in run["assetSelection"]} == {"bronze/orders_raw", "silver/orders_clean"}
    assert {"key": "dagster/partition", "value": UI_DAY} in run["tags"]

    page.goto("/assets/silver/orders_clean")
    page.get_by_role("tab", name="Checks").click()
    expect(page.get_by_text("Checks (2)", exact=True)).to_be_visible()
    for check, figure in (("duplicate_rate", "duplicate rate"), ("valid_rate", "valid rate")):
        # The list item: the check's name (a title attribute) and, next to it, its status.
        item = page.get_by_title(check, exact=True)
        expect(item.locator("..")).to_have_text(re.compile(r"Succeeded$"))
        item.click()
        expect(page).to_have_url(re.compile(rf"checkDetail={check}"))
        latest = innermost(
            page,
            page.get_by_text("Evaluation result", exact=True),
            page.get_by_text("Partition", exact=True),
        )
        expect(latest).to_contain_text("Passed")
        expect(latest).to_contain_text(UI_DAY)
        expect(page.get_by_text(re.compile(rf"^{figure} \d+\.\d\d% \((minimum|maximum) \d+\.\d\d%\)$"))).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "silver-checks.png"))


def test_silver_check_partitions_tab_counts_the_passed_days(page: Page):
    page.goto("/assets/silver/orders_clean?view=checks&checkDetail=valid_rate")
    expect(page.get_by_role("tab", name="Execution history")).to_be_visible(timeout=WAIT_MS)
    page.get_by_role("tab", name="Partitions").last.click()  # the check's tab, not the asset's
    passed = page.get_by_text(re.compile(r"^Passed \(\d+\)$"))
    expect(passed).to_be_visible()
    assert int(re.search(r"\d+", passed.inner_text()).group()) >= 2  # 2026-02-14 and 15 at least


BAD_WEEK = [date(2026, 2, 20 + n).isoformat() for n in range(7)]
BAD_DAY = BAD_WEEK[2]


@pytest.fixture(scope="module")
def bad_week(tmp_path_factory):
    """A webserver whose instance holds one `flowguard run` of a 7-day week whose third day is bad
    (a fifth of its landing lines malformed): its Silver gates fail, its Gold is not written."""
    root = tmp_path_factory.mktemp("bad_week")
    landing = root / "landing"
    small = {"orders_per_day": 300, "clicks_per_day": 1500, "seed": 7}
    generate_landing(landing, date.fromisoformat(BAD_WEEK[0]), 7, **small)
    generate_landing(landing, date.fromisoformat(BAD_DAY), 1, **small, rates=AnomalyRates(malformed=0.2), replace=True)
    with webserver(root) as server:
        ran = subprocess.run(
            [str(BIN / "flowguard"), "run", "--start", BAD_WEEK[0], "--end", BAD_WEEK[-1]],
            env=server.env, capture_output=True, text=True, timeout=1800,
        )  # fmt: skip
        assert ran.returncode == 1, ran.stdout[-3000:] + ran.stderr[-3000:]
        assert f"Gold kept as it was for {BAD_DAY} (blocked by their Silver gates, above)" in ran.stdout
        run_id = ran.stdout.strip().splitlines()[-1].rsplit("/", 1)[1]
        server.wait_loaded()
        yield {"url": server.url, "run_id": run_id}


@pytest.fixture
def bad_week_page(bad_week, browser: Browser):
    yield from _page(browser, bad_week["url"])


def week_only(page: Page) -> None:
    """Narrow a partitions tab's range (since FLOWGUARD_START_DATE) to the bad week, so a week
    is not a sliver of ten months."""
    box = page.locator("input[value^='[2026-02-01']").first.element_handle()  # its value changes
    box.fill(f"[{BAD_WEEK[0]}...{BAD_WEEK[-1]}]")
    box.press("Enter")


def test_silver_partition_page_after_a_bad_day(bad_week_page: Page):
    page = bad_week_page
    page.goto(f"/assets/silver/orders_clean?view=partitions&partition={BAD_DAY}")
    expect(page.get_by_text(BAD_DAY, exact=True).first).to_be_visible(timeout=WAIT_MS)
    week_only(page)
    expect(page.get_by_text("7 Partitions Selected", exact=True)).to_be_visible()
    # The bad day is materialized (Silver is kept for investigation), with its rates as percentages.
    expect(page.get_by_text("Materialized", exact=True).first).to_be_visible()
    for key in ("% valid", "% duplicates", "valid_rate", "errors/malformed_record"):
        expect(page.get_by_role("row").filter(has=page.get_by_text(key, exact=True))).to_have_count(1)
    valid_pct = page.get_by_role("row").filter(has=page.get_by_text("% valid", exact=True))
    assert float(re.search(r"\d+\.\d+", valid_pct.inner_text()).group()) < 95
    # Bad at a glance, without opening a check: the gates' verdict is the first metadata row.
    gate = page.get_by_role("row").filter(has=page.get_by_text("gate", exact=True))
    expect(gate).to_contain_text(re.compile(r"FAILED valid_rate: valid rate \d+\.\d\d% \(minimum 95\.00%\) \(Gold blocked\)"))
    assert gate.bounding_box()["y"] < valid_pct.bounding_box()["y"]
    page.screenshot(path=str(ARTIFACTS / "silver-partition-bad-day.png"))
    page.goto(f"/assets/silver/orders_clean?view=partitions&partition={BAD_WEEK[0]}")  # a good day
    expect(page.get_by_role("row").filter(has=page.get_by_text("gate", exact=True))).to_contain_text("passed")


def test_silver_plots_show_the_rates_of_the_week_first(bad_week_page: Page):
    page = bad_week_page
    page.goto("/assets/silver/orders_clean")
    expect(page.get_by_role("tab", name="Overview")).to_be_visible(timeout=WAIT_MS)
    page.get_by_role("button", name=re.compile(r"(^|\s)Plots$")).click()
    # x axis: one point per materialization (the "Partitions" axis spans only the last 120 days).
    page.get_by_role("button", name=re.compile(r"(^|\s)Events$")).click()
    plots = {
        label: innermost(page, page.get_by_text(label, exact=True), page.locator("canvas"))
        for label in ("% duplicates", "% valid", "dagster/row_count", "errors/malformed_record")
    }
    for plot in plots.values():
        expect(plot.locator("canvas")).to_be_visible()
    # Dagster 1.13 plots entries sorted by name: the two rates share the first row.
    tops = [plot.bounding_box()["y"] for plot in plots.values()]
    assert tops[0] == tops[1] < tops[2] < tops[3], tops
    page.screenshot(path=str(ARTIFACTS / "silver-plots-week.png"))


def test_check_history_of_a_seven_day_run(bad_week_page: Page):
    page = bad_week_page
    page.goto("/assets/silver/orders_clean?view=checks&checkDetail=valid_rate")
    expect(page.get_by_role("tab", name="Execution history")).to_be_visible(timeout=WAIT_MS)
    page.get_by_role("tab", name="Partitions").last.click()  # the check's tab, not the asset's
    week_only(page)
    expect(page.get_by_text("Passed (6)", exact=True)).to_be_visible()
    expect(page.get_by_text("Failed (1)", exact=True)).to_be_visible()
    page.get_by_text(BAD_DAY, exact=True).filter(visible=True).last.click()
    expect(page.get_by_text(re.compile(r"^valid rate \d+\.\d\d% \(minimum 95\.00%\)$")).first).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "check-partitions-seven-days.png"))
    page.get_by_role("tab", name="Execution history").click()
    expect(page.get_by_text(re.compile(r"^valid rate \d+\.\d\d% \(minimum 95\.00%\)$"))).to_have_count(7)
    page.screenshot(path=str(ARTIFACTS / "check-history-seven-days.png"))


def test_runs_list_shows_a_flowguard_run_with_its_target_and_days(bad_week_page: Page, bad_week):
    page = bad_week_page
    page.goto("/runs")
    run = page.get_by_role("link", name=f"run {bad_week['run_id'][:8]}")
    expect(run).to_be_visible(timeout=WAIT_MS)
    row = innermost(page, run, page.get_by_text("Manually launched"))
    expect(row).to_contain_text(f"flowguard/days: {BAD_WEEK[0]}...{BAD_WEEK[-1]}")  # a pinned user tag
    expect(row).to_contain_text("bronze / clicks_raw")  # Target: the run's first asset ...
    expect(row).to_contain_text("7 more")  # ... and the other seven
    page.screenshot(path=str(ARTIFACTS / "runs-list-flowguard-run.png"), full_page=True)


def test_overview_timeline_draws_a_flowguard_run(bad_week_page: Page, bad_week):
    """A `flowguard run` runs in its own process, yet carries the UI's code location as its origin,
    so the Overview timeline draws it, under the location's jobless asset materializations."""
    page = bad_week_page
    query = """query ($id: ID!) {
      runOrError(runId: $id) { ... on Run { repositoryOrigin { repositoryLocationName repositoryName } } }
      workspaceOrError { ... on Workspace { locationEntries { name } } }
    }"""
    answer = graphql(bad_week["url"], query, {"id": bad_week["run_id"]})
    origin = answer["runOrError"]["repositoryOrigin"]
    assert origin is not None, "the run has no code-location origin"
    assert origin["repositoryLocationName"] in [e["name"] for e in answer["workspaceOrError"]["locationEntries"]]
    page.goto("/overview/activity/timeline")
    location = page.get_by_role("button", name=re.compile(rf"{origin['repositoryLocationName']} 1"))
    expect(location).to_be_visible(timeout=WAIT_MS)  # the location's folder, holding one run
    expect(page.get_by_text("Jobless asset materializations").first).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "overview-timeline-flowguard-run.png"), full_page=True)
