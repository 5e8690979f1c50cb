"""Tests of the landing-zone sample-data generator, both producers (pure Python, no Spark)."""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from flowguard_assets.generate import (
    MANIFEST,
    AnomalyRates,
    GenerationSummary,
    bundled_catalog,
    generate_landing,
    producer_catalog,
    write_catalog,
)
from flowguard_assets.cli import main
from flowguard_assets_tests.contract import Line, expect, read_landing, read_text, spec_timestamp

pytestmark = pytest.mark.fast

START = date(2026, 2, 1)
DAYS = 3
TOPICS = ("raw.orders.v1", "raw.clicks.v1")
DATA_FILE = re.compile(r"^(late-)?raw\.(orders|clicks)\.v1\+[0-2]\+\d{10}\.jsonl(\.gz)?$")
CATALOG_FIELDS = {"food_id", "name", "category", "price", "description", "image_url",
                  "is_available", "created_at"}


Landing = tuple[Path, GenerationSummary]


def positive_int(value: object) -> bool:
    if isinstance(value, str):
        return value.isdigit() and int(value) > 0
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def invalid_fields(line: Line) -> set[str]:
    """Fields of a readable event that break the SPEC 1 rules (as the tests read SPEC)."""
    codes = expect(line, known_items=set()).codes
    return {code.split("_", 1)[1] for code in codes if code.startswith(("missing_", "invalid_"))}


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Landing:
    root = tmp_path_factory.mktemp("landing")
    return root, generate_landing(root, START, DAYS)


@pytest.fixture(scope="module")
def lines(landing: Landing) -> list[Line]:
    return read_landing(landing[0])


@pytest.fixture(scope="module")
def orders(lines: list[Line]) -> list[Line]:
    """Readable, valid order events."""
    return [ln for ln in lines
            if ln.topic == "raw.orders.v1" and ln.event and not invalid_fields(ln)]


def snapshot(root: Path) -> dict[str, bytes]:
    files = sorted(p for p in root.rglob("*") if p.is_file())
    return {str(p.relative_to(root)): p.read_bytes() for p in files}


def test_same_seed_gives_identical_bytes_and_other_seed_differs(tmp_path: Path) -> None:
    small = {"orders_per_day": 150, "clicks_per_day": 800}
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        generate_landing(tmp_path / name, START, 2, seed=seed, **small)
    assert snapshot(tmp_path / "a") == snapshot(tmp_path / "b")
    assert snapshot(tmp_path / "a") != snapshot(tmp_path / "c")


def test_layout_and_file_names(landing: Landing, lines: list[Line]) -> None:
    root, summary = landing
    expected_dts = {f"dt={START + timedelta(days=i)}" for i in range(DAYS)}
    assert {p.name for p in root.iterdir()} == set(TOPICS)
    for topic in TOPICS:
        folders = list((root / topic).iterdir())
        assert {f.name for f in folders} == expected_dts
        for folder in folders:
            names = [p.name for p in folder.iterdir() if not p.name.startswith("_")]
            assert all(DATA_FILE.match(n) and topic in n for n in names), names
            assert 3 <= sum(not n.startswith("late-") for n in names) <= 6
    assert summary.days == [START + timedelta(days=i) for i in range(DAYS)]
    assert summary.files == len({(ln.topic, ln.dt, ln.file) for ln in lines})
    topic_lines = Counter(ln.topic for ln in lines)
    assert summary.order_lines == topic_lines[TOPICS[0]]
    assert summary.click_lines == topic_lines[TOPICS[1]]


def test_gzip_files_are_readable(landing: Landing) -> None:
    gz = list(landing[0].glob("*/dt=*/*.jsonl.gz"))
    assert gz
    for path in gz:
        assert json.loads(gzip.decompress(path.read_bytes()).decode().split("\n")[0])


def test_in_progress_files_start_with_underscore(landing: Landing) -> None:
    root = landing[0]
    tmp = [p for p in root.glob("*/dt=*/*") if not DATA_FILE.match(p.name) and p.name != MANIFEST]
    assert tmp and all(re.fullmatch(r"_tmp-\d{6}\.jsonl", p.name) for p in tmp)
    last = f"dt={START + timedelta(days=DAYS - 1)}"
    assert {p.parent.parent.name for p in tmp if p.parent.name == last} == set(TOPICS)
    assert landing[1].in_progress_files == len(tmp)


def test_trailing_empty_lines_occur(landing: Landing) -> None:
    assert any(read_text(p).endswith("\n\n") for p in landing[0].glob("*/dt=*/[!_]*"))


def test_every_anomaly_kind_occurs_with_default_rates(lines: list[Line], landing: Landing) -> None:
    assert all(landing[1].anomalies[kind] > 0 for kind in AnomalyRates.__dataclass_fields__)
    not_json = [ln for ln in lines if ln.envelope is None]
    assert any(ln.text.lstrip().startswith("[") for ln in not_json)  # JSON, but no object
    assert any(not ln.text.lstrip().startswith("[") for ln in not_json)  # not JSON at all
    assert any(ln.envelope and ln.event is None for ln in lines)  # value not an object
    assert any(ln.envelope and isinstance(ln.envelope["value"], str) and ln.event for ln in lines)
    stamps = [ln.event.get("timestamp") for ln in lines if ln.event]
    assert any(re.search(r"[+-]\d\d:\d\d$", ts) for ts in stamps if isinstance(ts, str))

    by_record = defaultdict(list)
    for ln in lines:
        if ln.envelope:
            by_record[ln.topic, ln.envelope["partition"], ln.envelope["offset"]].append(ln)
    redelivered = [group for group in by_record.values() if len(group) > 1]
    assert all(len({ln.text for ln in group}) == 1 for group in redelivered)
    assert any(len({ln.file for ln in group}) == 1 for group in redelivered)
    assert any(len({ln.file for ln in group}) > 1 for group in redelivered)

    by_event = defaultdict(set)
    for ln in lines:
        if ln.event and ln.event.get("event_id"):
            by_event[ln.topic, ln.event["event_id"]].add(ln.envelope["offset"])
    assert any(len(offs) > 1 for offs in by_event.values())  # producer retry: one event, new record

    readable = [ln for ln in lines if ln.event]
    spoiled = defaultdict(set)
    for ln in readable:
        spoiled[ln.topic] |= invalid_fields(ln)
    assert spoiled["raw.orders.v1"] == {"event_id", "order_id", "user_id", "item_id", "price",
                                        "quantity", "status", "timestamp"}
    assert spoiled["raw.clicks.v1"] == {"event_id", "user_id", "item_id", "event_type",
                                        "timestamp"}

    known = {food["food_id"] for food in bundled_catalog()}
    for topic in TOPICS:
        assert any(ln.topic == topic and positive_int(ln.event.get("item_id"))
                   and int(ln.event["item_id"]) not in known for ln in readable)
        late = [ln for ln in readable if ln.topic == topic and ln.file.startswith("late-")]
        assert late and all(ln.envelope["timestamp"] / 1000
                            - spec_timestamp(ln.event["timestamp"]).timestamp() > 3600 for ln in late)


def test_dt_folder_is_utc_date_of_event_timestamp(lines: list[Line]) -> None:
    days = {START + timedelta(days=i) for i in range(DAYS)}
    checked = 0
    for ln in lines:
        if not ln.event:
            continue
        instant = spec_timestamp(ln.event.get("timestamp"))
        kafka_date = datetime.fromtimestamp(ln.envelope["timestamp"] / 1000, timezone.utc).date()
        assert (instant.date() if instant else kafka_date) == ln.dt
        checked += 1
    assert {ln.dt for ln in lines} == days and checked > 0.98 * len(lines)


def test_kafka_timestamp_follows_event_time_and_offsets_are_unique(lines: list[Line]) -> None:
    records = defaultdict(set)
    for ln in lines:
        if ln.envelope:
            records[ln.topic, ln.envelope["partition"], ln.envelope["offset"]].add(ln.text)
            assert ln.envelope["headers"]["schema_version"] == "1"
        instant = spec_timestamp(ln.event.get("timestamp")) if ln.event else None
        if instant and not ln.file.startswith("late-"):
            lag = ln.envelope["timestamp"] / 1000 - instant.timestamp()
            assert -1 < lag < 10
    assert all(len(texts) == 1 for texts in records.values())
    assert {partition for _, partition, _ in records} == {0, 1, 2}


def test_lunch_and_dinner_peaks(orders: list[Line]) -> None:
    hours = Counter()
    for _, ts in {(ln.event["order_id"], ln.event["timestamp"]) for ln in orders}:
        hours[spec_timestamp(ts).hour] += 1
    night = sum(hours[h] for h in range(2, 6))
    assert hours[12] + hours[13] > 3 * night
    assert hours[19] + hours[20] > 3 * night


def test_repeat_and_new_customers(orders: list[Line], lines: list[Line]) -> None:
    days_by_user = defaultdict(set)
    for ln in orders:
        days_by_user[int(ln.event["user_id"])].add(ln.dt)
    assert sum(len(d) > 1 for d in days_by_user.values()) > 0.2 * len(days_by_user)
    active = defaultdict(set)
    for ln in lines:
        if ln.event and positive_int(ln.event.get("user_id")):
            active[ln.dt].add(int(ln.event["user_id"]))
    for day in range(1, DAYS):
        dt = START + timedelta(days=day)
        assert active[dt] - set().union(*(active[d] for d in active if d < dt))


def test_orders_mostly_follow_clicks_and_favour_popular_items(
    orders: list[Line], lines: list[Line],
) -> None:
    clicks = [ln for ln in lines if ln.topic == "raw.clicks.v1" and ln.event]
    kinds = Counter(ln.event["event_type"] for ln in clicks)
    assert kinds["impression"] > 2 * kinds["click"] > 0
    clickers = {(ln.dt, ln.event["user_id"]) for ln in clicks if ln.event["event_type"] == "click"}
    buyers = {(ln.dt, int(ln.event["user_id"])) for ln in orders}
    assert len(buyers & clickers) > 0.7 * len(buyers)
    items = Counter(int(ln.event["item_id"]) for ln in orders)
    top, *_, bottom = sorted(items.values(), reverse=True)
    assert top > 5 * bottom


def test_orders_have_one_to_three_lines_sharing_order_fields(orders: list[Line]) -> None:
    by_order = defaultdict(list)
    for ln in orders:
        by_order[ln.event["order_id"]].append(ln.event)
    sizes = Counter(len({e["event_id"] for e in events}) for events in by_order.values())
    assert set(sizes) <= {1, 2, 3} and sizes[1] > sizes[2] > sizes[3] > 0
    statuses = Counter(ln.event.get("status") for ln in orders)
    assert 0.02 < statuses["cancelled"] / len(orders) < 0.08 and statuses[None] > 0
    assert any(isinstance(ln.event["price"], str) for ln in orders)


def test_bundled_catalog_matches_spec(tmp_path: Path) -> None:
    catalog = bundled_catalog()
    assert len(catalog) >= 40
    assert all(set(food) == CATALOG_FIELDS for food in catalog)
    assert [food["food_id"] for food in catalog] == list(range(1, len(catalog) + 1))
    assert all(round(food["price"], 2) == food["price"] > 0 for food in catalog)
    assert all(datetime.fromisoformat(food["created_at"]).tzinfo is None for food in catalog)
    assert 0 < sum(not food["is_available"] for food in catalog) < 5
    write_catalog(tmp_path / "sub" / "foods.json", catalog)
    assert json.loads((tmp_path / "sub" / "foods.json").read_text()) == catalog


GATEWAY_HEADERS = {"event_type", "source", "user_id", "timestamp"}
GATEWAY_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z?")
AD_FIELDS = {"ad_id", "ad_campaign_id", "ad_type", "page_url", "referrer", "user_agent",
             "ip_address", "metadata"}


@pytest.fixture(scope="module")
def gateway_lines(tmp_path_factory: pytest.TempPathFactory) -> list[Line]:
    root = tmp_path_factory.mktemp("gateway")
    generate_landing(root, START, 2, orders_per_day=400, clicks_per_day=4000, producer="gateway")
    return read_landing(root)


def test_gateway_records_carry_its_headers_and_the_user_id_as_key(gateway_lines) -> None:
    records = [ln for ln in gateway_lines if ln.envelope]
    assert all(set(ln.envelope["headers"]) == GATEWAY_HEADERS for ln in records)
    assert {ln.envelope["headers"]["source"] for ln in records} == {"events_gateway"}
    events = [ln for ln in records if ln.event and positive_int(ln.event.get("user_id"))]
    assert all(ln.envelope["key"] == ln.envelope["headers"]["user_id"] == str(ln.event["user_id"])
               for ln in events)
    assert any(isinstance(ln.envelope["value"], str) and ln.event for ln in records)
    by_record = Counter((ln.topic, ln.envelope["partition"], ln.envelope["offset"]) for ln in records)
    assert any(n > 1 for n in by_record.values())  # sink redeliveries


def test_gateway_orders_have_order_type_and_no_status(gateway_lines) -> None:
    orders = [ln.event for ln in gateway_lines if ln.topic == TOPICS[0] and ln.event]
    assert not any("status" in e for e in orders)
    assert all({"order_type", "restaurant_id", "city", "location", "metadata"} <= set(e) for e in orders)
    kinds = Counter(e["order_type"] for e in orders)
    assert set(kinds) == {"placed", "confirmed", "delivered", "cancelled", "shipped"}
    assert 0.02 < kinds["cancelled"] / len(orders) < 0.08
    prices = {food["food_id"]: food["price"] for food in producer_catalog("gateway")}
    priced = [e for e in orders if positive_int(e.get("item_id")) and int(e["item_id"]) in prices
              and e["price"] == prices[int(e["item_id"])]]
    assert len(priced) > 0.95 * len(orders) and all(isinstance(e["price"], int) for e in priced)


def test_gateway_clicks_are_decided_by_is_click(gateway_lines) -> None:
    clicks = [ln.event for ln in gateway_lines if ln.topic == TOPICS[1] and ln.event]
    assert all(AD_FIELDS <= set(e) for e in clicks)
    kinds = Counter((e.get("is_click"), e.get("event_type")) for e in clicks)
    assert kinds[True, "impression"] == 0 and kinds[True, "click"] > 0
    assert kinds[False, "click"] > 2 * kinds[False, "impression"] > 0  # most impressions say "click"
    assert kinds[False, "click"] + kinds[False, "impression"] > 2 * kinds[True, "click"]
    assert kinds["yes", "click"] + kinds["yes", "impression"] > 0  # the invalid-field anomaly
    assert sum("item_id" not in e for e in clicks) > 0.7 * len(clicks)


def test_gateway_timestamps_have_microseconds_with_z_or_no_zone(gateway_lines) -> None:
    stamps = [ln.event["timestamp"] for ln in gateway_lines if ln.event and not invalid_fields(ln)]
    assert all(GATEWAY_TIMESTAMP.fullmatch(ts) for ts in stamps)
    assert 0.3 < sum(ts.endswith("Z") for ts in stamps) / len(stamps) < 0.7
    readable = [ln for ln in gateway_lines if ln.event and spec_timestamp(ln.event.get("timestamp"))]
    assert all(spec_timestamp(ln.event["timestamp"]).date() == ln.dt for ln in readable)


def test_gateway_catalog_has_whole_prices_and_no_created_at() -> None:
    bundled, gateway = bundled_catalog(), producer_catalog("gateway")
    assert [f["food_id"] for f in gateway] == [f["food_id"] for f in bundled]
    assert all(set(f) == CATALOG_FIELDS - {"created_at"} for f in gateway)
    assert all(isinstance(f["price"], int) and abs(f["price"] - b["price"]) <= 0.5
               for f, b in zip(gateway, bundled))


def test_generate_command_writes_the_chosen_producer(tmp_path: Path) -> None:
    base = ["generate", "--start", "2026-02-01", "--days", "1", "--orders", "40", "--clicks", "300"]
    for producer in ("flowguard", "gateway"):
        landing, catalog = tmp_path / producer, tmp_path / f"{producer}.json"
        assert main([*base, "--landing", str(landing), "--producer", producer,
                     "--catalog-file", str(catalog)]) == 0
        assert json.loads(catalog.read_text()) == producer_catalog(producer)
        headers = {frozenset(ln.envelope["headers"]) for ln in read_landing(landing) if ln.envelope}
        expected = GATEWAY_HEADERS if producer == "gateway" else {"producer_service", "schema_version"}
        assert headers == {frozenset(expected)}
    assert main([*base, "--landing", str(tmp_path / "default")]) == 0
    assert snapshot(tmp_path / "default") == snapshot(tmp_path / "flowguard")


def test_generate_refuses_days_with_files_and_replaces_only_its_own(tmp_path: Path, capsys) -> None:
    base = ["generate", "--landing", str(tmp_path), "--start", "2026-02-01", "--orders", "40", "--clicks", "300"]
    assert main([*base, "--days", "2"]) == 0
    first = snapshot(tmp_path)
    capsys.readouterr()
    # Overlapping days: refused in one line naming the days and the way on; nothing written.
    assert main([*base, "--days", "3", "--seed", "1"]) == 2
    assert capsys.readouterr().err == (
        f"flowguard: {tmp_path} already holds landing files for 2026-02-01, 2026-02-02: add --replace"
        " to replace the files generate wrote there (`make clean` removes all of data/)\n"
    )
    assert snapshot(tmp_path) == first
    # --replace: the days hold exactly what the new call writes, as if written into empty folders.
    assert main([*base, "--days", "3", "--seed", "1", "--replace"]) == 0
    assert main([*base, "--days", "3", "--seed", "1", "--landing", str(tmp_path / "fresh")]) == 0
    replaced = {k: v for k, v in snapshot(tmp_path).items() if not k.startswith("fresh/")}
    assert replaced == snapshot(tmp_path / "fresh")
    # A file generate did not write is never removed, even with --replace.
    theirs = tmp_path / "raw.orders.v1" / "dt=2026-02-02" / "theirs.jsonl"
    theirs.write_text("{}\n")
    capsys.readouterr()
    assert main([*base, "--days", "3", "--replace"]) == 2
    assert "theirs.jsonl): not replacing them" in capsys.readouterr().err
    assert theirs.exists()


@pytest.mark.parametrize("rate", ["malformed=2", "malformed=-0.1", "malformed=lots", "typo=0.1"])
def test_rate_outside_zero_to_one_is_refused(tmp_path: Path, rate: str, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["generate", "--landing", str(tmp_path), "--rate", rate])
    assert exit_info.value.code == 2
    assert "argument --rate" in capsys.readouterr().err
    assert not tmp_path.joinpath("raw.orders.v1").exists()
