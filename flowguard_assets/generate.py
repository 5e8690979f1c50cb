"""Deterministic sample data for the landing zone (SPEC 1): same arguments, same bytes.

Two producers: `flowguard` (the default: SPEC 1's field tables, headers `producer_service` and
`schema_version`) and `gateway` (the app's events gateway of SPEC 1.1: `order_type`, `is_click`,
ad fields, microsecond timestamps, header `source`, the user id as key).
"""


import gzip
import json
import random
import uuid
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from itertools import accumulate, count
from pathlib import Path

from pyarrow import fs as pafs

from flowguard_assets.data import bundled_catalog
from flowguard_assets.landing import is_landed_file
from flowguard_assets.tables import TOPICS

ORDERS_TOPIC, CLICKS_TOPIC = TOPICS
PRODUCERS = {ORDERS_TOPIC: "order-service", CLICKS_TOPIC: "clickstream-gateway"}
PARTITIONS = 3
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
CITIES = ("Berlin", "Hamburg", "Munich", "Cologne", "Frankfurt", "Stuttgart", "Leipzig")
CITY_WEIGHTS = (30, 18, 16, 11, 10, 8, 7)
DEVICES = ("ios", "android", "web", "mobile_web")
ZONES = ("+01:00", "+02:00", "+05:30", "+09:00", "-03:00", "-05:00", "-08:00")
# Relative order/browse volume outside the lunch and dinner peaks, by UTC hour.
BACKGROUND_HOURS = (3, 2, 1, 1, 1, 1, 2, 4, 6, 7, 8, 9, 9, 8, 7, 7, 8, 9, 9, 9, 8, 7, 5, 4)
STATUSES = ("placed", "confirmed", "delivered", "cancelled")
STATUS_WEIGHTS = (30, 25, 40, 5)
MANIFEST = "_generated.json"  # per dt folder: the files generate wrote there (ignored by readers)
MALFORMED_KINDS = ("truncated_line", "array_line", "value_list", "value_number", "value_text")
_DROP = object()
_COMMON_INVALID = (
    ("event_id", _DROP), ("event_id", ""), ("user_id", "abc"), ("user_id", -3), ("user_id", 12.5),
    ("item_id", 0), ("timestamp", "2026-02-30T10:00:00Z"), ("timestamp", "yesterday"),
    ("timestamp", _DROP),
)
_ORDER_INVALID = _COMMON_INVALID + (
    ("order_id", _DROP), ("price", 0), ("price", -5), ("price", 20000), ("price", "free"),
    ("quantity", 0), ("quantity", -1), ("quantity", 2.5),
)
INVALID_FIELDS = {
    ORDERS_TOPIC: _ORDER_INVALID + (("status", "shipped"),),
    CLICKS_TOPIC: _COMMON_INVALID + (("event_type", "hover"),),
}
GATEWAY_INVALID_FIELDS = {
    ORDERS_TOPIC: _ORDER_INVALID + (("order_type", "shipped"),),
    CLICKS_TOPIC: _COMMON_INVALID + (("is_click", "yes"),),
}
GATEWAY_SOURCE = "events_gateway"
AD_TYPES = ("banner", "carousel", "sponsored_listing", "video")
USER_AGENTS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/122.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/122.0 Safari/537.36",
)


@dataclass(frozen=True)
class AnomalyRates:
    """Probability per event (per record for sink redelivery) of each landing-zone anomaly."""

    sink_redelivery: float = 0.015
    producer_retry: float = 0.005
    malformed: float = 0.003
    invalid_field: float = 0.01
    unknown_item: float = 0.005
    late: float = 0.01
    value_as_string: float = 0.1
    zone_offset: float = 0.1


@dataclass(frozen=True)
class GenerationSummary:
    """What `generate_landing` wrote; line counts cover readable files, non-empty lines only."""

    days: list[date]
    files: int
    order_lines: int
    click_lines: int
    in_progress_files: int = 0
    anomalies: dict[str, int] = field(default_factory=dict)


@dataclass
class _Record:
    """One Kafka record before serialization."""

    topic: str
    day: date
    kafka_ms: int
    key: str | None
    value: object
    seq: int
    partition: int = 0
    offset: int = 0
    late: bool = False
    as_string: bool = False
    broken: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Session:
    user: int
    end_ms: int
    clicked: list[int]
    records: list[_Record]


def write_catalog(path: Path, catalog: list[dict]) -> None:
    """Write a catalog as a pretty-printed JSON array."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(catalog, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


class _Generator:
    """Stateful event factory: user pool, popularity, anomalies, all driven by one seeded RNG.

    Events follow SPEC 1's field tables; a subclass reshapes them as another producer sends."""

    invalid_fields = INVALID_FIELDS

    def __init__(self, rng: random.Random, rates: AnomalyRates, catalog: list[dict], users: int):
        self.rng = rng
        self.rates = rates
        self.counts: Counter[str] = Counter()
        self.seq = count(1)
        foods = [f for f in catalog if f.get("is_available", True)] or catalog
        self.foods = {int(f["food_id"]): f for f in catalog}
        self.popular = [int(f["food_id"]) for f in foods]
        ranks = rng.sample(range(1, len(foods) + 1), len(foods))
        self.popular_cum = list(accumulate(1 / r**1.2 for r in ranks))
        self.unknown_base = max(self.foods) + 1000
        self.user_city: dict[int, str] = {}
        self.user_weight: dict[int, float] = {}
        self.add_users(users)

    def add_users(self, n: int) -> list[int]:
        """Add `n` new users with a heavy-tailed activity weight (a few very loyal customers)."""
        first = len(self.user_city) + 1
        new = list(range(first, first + n))
        for user in new:
            self.user_city[user] = self.rng.choices(CITIES, CITY_WEIGHTS)[0]
            self.user_weight[user] = self.rng.paretovariate(1.3)
        return new

    def user_sampler(self) -> Callable[[], int]:
        """Draw users of the current pool by activity weight."""
        pool, cum = list(self.user_weight), list(accumulate(self.user_weight.values()))
        return lambda: self.rng.choices(pool, cum_weights=cum)[0]

    def item(self) -> int:
        return self.rng.choices(self.popular, cum_weights=self.popular_cum)[0]

    def time_of_day_ms(self) -> int:
        """Milliseconds into a day: lunch and dinner peaks over a quiet night."""
        r = self.rng.random()
        if r < 0.35:
            hours = self.rng.triangular(11.5, 14.0, 12.75)
        elif r < 0.78:
            hours = self.rng.triangular(18.0, 21.5, 19.75)
        else:
            hours = self.rng.choices(range(24), BACKGROUND_HOURS)[0] + self.rng.random()
        return int(hours * HOUR_MS)

    def timestamp(self, ms: int) -> str:
        """ISO-8601 text for an instant: mostly `Z`, sometimes fractional, offset or zoneless."""
        instant = EPOCH + timedelta(milliseconds=ms)
        if self.rng.random() < self.rates.zone_offset:
            self.counts["zone_offset"] += 1
            zone = self.rng.choice(ZONES)
            shift = timedelta(hours=int(zone[1:3]), minutes=int(zone[4:]))
            local = instant + shift if zone[0] == "+" else instant - shift
            return local.strftime("%Y-%m-%dT%H:%M:%S") + zone
        text = instant.strftime("%Y-%m-%dT%H:%M:%S")
        style = self.rng.random()
        if style < 0.1:
            text += f".{instant.microsecond // 1000:03d}"
        return text if style > 0.97 else text + "Z"

    def event_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def sessions(self, day_ms: int, clicks: int, new_users: list[int]) -> list[_Session]:
        """Browsing sessions of a day (new users first) until about `clicks` click events exist."""
        sample_user = self.user_sampler()
        out, events = [], 0
        while events < clicks:
            user = new_users[len(out)] if len(out) < len(new_users) else sample_user()
            out.append(self.session(day_ms, user))
            events += len(out[-1].records)
        return out

    def session(self, day_ms: int, user: int) -> _Session:
        """Several impressions followed by fewer clicks on some of the shown items."""
        rng = self.rng
        shown = [None if rng.random() < 0.03 else self.item() for _ in range(rng.randint(3, 10))]
        items = [i for i in shown if i is not None]
        wanted = rng.choices((0, 1, 2, 3), (30, 40, 20, 10))[0]
        clicked = rng.sample(items, min(len(items), wanted))
        kinds = ["impression"] * len(shown) + ["click"] * len(clicked)
        t = day_ms + min(self.time_of_day_ms(), DAY_MS - 15 * 60_000)
        session_id = None if rng.random() < 0.02 else f"s-{rng.getrandbits(64):016x}"
        device, city = rng.choice(DEVICES), self.user_city[user]
        records = []
        for kind, item in zip(kinds, shown + clicked):
            t += rng.randint(2_000, 40_000)
            value = {"event_id": self.event_id(), "event_type": kind,
                     "timestamp": self.timestamp(t), "user_id": user, "session_id": session_id,
                     "item_id": item, "device_type": device, "city": city}
            key = session_id or (None if rng.random() < 0.3 else str(user))
            records += self.records(CLICKS_TOPIC, t, key, value)
        return _Session(user, t, clicked, records)

    def orders(self, day_ms: int, n: int, sessions: list[_Session]) -> list[_Record]:
        """`n` orders of 1-3 lines, mostly by users right after a session with clicks."""
        rng, records, sample_user = self.rng, [], self.user_sampler()
        clickers = [s for s in sessions if s.clicked]
        for number in range(1, n + 1):
            if clickers and rng.random() < 0.85:
                s = rng.choice(clickers)
                user, first = s.user, rng.choice(s.clicked)
                t = min(s.end_ms + rng.randint(60_000, 900_000), day_ms + DAY_MS - 1)
            else:
                user, first = sample_user(), self.item()
                t = day_ms + self.time_of_day_ms()
            order_id = f"ORD-{EPOCH + timedelta(milliseconds=day_ms):%Y%m%d}-{number:06d}"
            records += self.order_lines(t, order_id, user, first)
        return records

    def order_lines(self, t: int, order_id: str, user: int, first: int) -> list[_Record]:
        """The events of one order: distinct items sharing order, user, timestamp and status."""
        rng = self.rng
        wanted = rng.choices((1, 2, 3), (60, 30, 10))[0]
        items = list(dict.fromkeys([first] + [self.item() for _ in range(3 * wanted)]))[:wanted]
        timestamp = self.timestamp(t)
        status = None if rng.random() < 0.03 else rng.choices(STATUSES, STATUS_WEIGHTS)[0]
        records = []
        for item in items:
            food = self.foods[item]
            price = float(food["price"])
            value = {"event_id": self.event_id(), "event_type": "order", "timestamp": timestamp,
                     "order_id": order_id, "user_id": str(user) if rng.random() < 0.02 else user,
                     "item_id": item, "item_name": food["name"],
                     "quantity": rng.choices((1, 2, 3, 4), (70, 20, 7, 3))[0],
                     "price": f"{price:.2f}" if rng.random() < 0.08 else price, "status": status,
                     "restaurant_id": f"R-{(item - 1) // 4 + 1:03d}", "city": self.user_city[user]}
            if status is None:
                del value["status"]
            records += self.records(ORDERS_TOPIC, t, order_id, value)
        return records

    def event(self, topic: str, key: str | None, value: dict) -> tuple[str | None, dict]:
        """The record key and event this producer sends for a generated event."""
        return key, value

    def headers(self, topic: str, key: str | None, value: dict) -> dict[str, str]:
        return {"producer_service": PRODUCERS[topic], "schema_version": "1"}

    def records(self, topic: str, t: int, key: str | None, value: dict) -> list[_Record]:
        """Kafka records for one event: anomalies applied, plus a producer retry when drawn."""
        key, value = self.event(topic, key, value)
        rng, rates = self.rng, self.rates
        day = (EPOCH + timedelta(milliseconds=t)).date()
        record = _Record(topic, day, t + rng.randint(0, 3_000), key, value, next(self.seq),
                         headers=self.headers(topic, key, value))
        out = self.spoil(record, t)
        for r in out:
            r.as_string = isinstance(r.value, dict) and rng.random() < rates.value_as_string
            self.counts["value_as_string"] += r.as_string
        return out

    def spoil(self, record: _Record, t: int) -> list[_Record]:
        """Apply at most one content anomaly, else maybe make the record late or retried."""
        rng, rates, value = self.rng, self.rates, record.value
        draw = rng.random()
        if draw < rates.malformed:
            self.malform(record)
        elif draw < rates.malformed + rates.invalid_field:
            self.invalidate(record, t - t % DAY_MS + DAY_MS - 1)
        elif draw < rates.malformed + rates.invalid_field + rates.unknown_item:
            self.counts["unknown_item"] += 1
            value["item_id"] = self.unknown_base + rng.randrange(9000)
        elif rng.random() < rates.late:
            self.counts["late"] += 1
            record.late = True
            record.kafka_ms = t + rng.randint(2 * HOUR_MS, 30 * HOUR_MS)
        elif rng.random() < rates.producer_retry:
            self.counts["producer_retry"] += 1
            retry_ms = record.kafka_ms + rng.randint(500, 5_000)
            return [record, replace(record, kafka_ms=retry_ms, seq=next(self.seq))]
        return [record]

    def malform(self, record: _Record) -> None:
        """Make the line not JSON, JSON but no object, or give the envelope a non-object value."""
        self.counts["malformed"] += 1
        kind = self.rng.choice(MALFORMED_KINDS)
        if kind.endswith("_line"):
            record.broken = kind
        else:
            record.value = {"value_list": [record.value], "value_number": 42,
                            "value_text": "<binary payload>"}[kind]

    def invalidate(self, record: _Record, day_end_ms: int) -> None:
        """Make one field of the event invalid; an unreadable timestamp keeps the Kafka day."""
        self.counts["invalid_field"] += 1
        name, bad = self.rng.choice(self.invalid_fields[record.topic])
        if bad is _DROP:
            record.value.pop(name, None)
        else:
            record.value[name] = bad
        if name == "timestamp":
            record.kafka_ms = min(record.kafka_ms, day_end_ms)


class _GatewayGenerator(_Generator):
    """The app's events gateway (SPEC 1.1): the same users, sessions and orders, sent its way."""

    invalid_fields = GATEWAY_INVALID_FIELDS

    def timestamp(self, ms: int) -> str:
        """Pydantic's JSON of a datetime: microseconds, `Z` when aware, no zone when naive."""
        instant = EPOCH + timedelta(milliseconds=ms, microseconds=self.rng.randrange(1, 1000))
        text = instant.strftime("%Y-%m-%dT%H:%M:%S.%f")
        return text + "Z" if self.rng.random() < 0.5 else text

    def event(self, topic: str, key: str | None, value: dict) -> tuple[str | None, dict]:
        shape = self.order if topic == ORDERS_TOPIC else self.click
        return str(value["user_id"]), shape(value)

    def headers(self, topic: str, key: str | None, value: dict) -> dict[str, str]:
        return {"event_type": value["event_type"], "source": GATEWAY_SOURCE, "user_id": key,
                "timestamp": value["timestamp"]}

    def order(self, value: dict) -> dict:
        """`order_type` for `status`, the catalog price as it is, location and metadata."""
        rng = self.rng
        status = value.pop("status", None) or "placed"
        return {**value, "price": self.foods[value["item_id"]]["price"], "order_type": status,
                "location": {"lat": round(rng.uniform(47.3, 54.9), 5),
                             "lng": round(rng.uniform(6.0, 15.0), 5)},
                "metadata": {"app_version": rng.choice(("4.1.0", "4.2.0", "4.2.1")),
                             "platform": rng.choice(DEVICES)}}

    def click(self, value: dict) -> dict:
        """`is_click` decides; `event_type` stays "click" unless the /impression endpoint sent
        it; about an ad, usually without `item_id`."""
        rng = self.rng
        is_click = value["event_type"] == "click"
        endpoint_impression = not is_click and rng.random() < 0.2
        item = value.pop("item_id")
        ad = rng.randrange(1, 400)
        shaped = {**value, "event_type": "impression" if endpoint_impression else "click",
                  "is_click": is_click, "ad_id": f"ad-{ad:04d}",
                  "ad_campaign_id": f"cmp-{ad % 25 + 1:03d}", "ad_type": rng.choice(AD_TYPES),
                  "page_url": f"https://app.example.com/{rng.choice(('home', 'search', 'offers'))}",
                  "referrer": rng.choice((None, "https://www.google.com/", "push")),
                  "user_agent": rng.choice(USER_AGENTS),
                  "ip_address": f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
                  "metadata": {"placement": rng.choice(("feed", "top", "sidebar"))}}
        if item is not None and rng.random() < 0.15:
            shaped["item_id"] = item
        return shaped


def gateway_catalog(catalog: list[dict]) -> list[dict]:
    """`catalog` as the gateway's `food_items.json` holds it: whole-number prices, no created_at."""
    return [{**{k: v for k, v in food.items() if k != "created_at"},
             "price": int(Decimal(str(food["price"])).quantize(Decimal(1), ROUND_HALF_UP))}
            for food in catalog]


# producer -> (its event factory, the bundled catalog as that producer keeps it)
GENERATORS = {"flowguard": (_Generator, list), "gateway": (_GatewayGenerator, gateway_catalog)}


def producer_catalog(producer: str) -> list[dict]:
    """The food catalog a producer prices its orders from (the bundled one, in its format)."""
    return GENERATORS[producer][1](bundled_catalog())


def _serialize(record: _Record) -> str:
    """The landing line of a record."""
    value = json.dumps(record.value, separators=(",", ":")) if record.as_string else record.value
    envelope = {"topic": record.topic, "partition": record.partition, "offset": record.offset,
                "timestamp": record.kafka_ms, "key": record.key,
                "headers": record.headers,
                "value": value}
    line = json.dumps(envelope, separators=(",", ":"), ensure_ascii=False)
    if record.broken == "truncated_line":
        return line[: len(line) // 2]
    return json.dumps([envelope], separators=(",", ":")) if record.broken == "array_line" else line


def _assign_offsets(records: list[_Record], rng: random.Random) -> None:
    """Partition by key hash and number each partition in Kafka-timestamp order."""
    by_partition: dict[tuple[str, int], list[_Record]] = defaultdict(list)
    for record in records:
        key = record.key
        partition = zlib.crc32(key.encode()) if key else rng.randrange(PARTITIONS)
        record.partition = partition % PARTITIONS
        by_partition[record.topic, record.partition].append(record)
    for slot in sorted(by_partition):
        base = rng.randrange(10_000, 5_000_000)
        for i, record in enumerate(sorted(by_partition[slot], key=lambda r: (r.kafka_ms, r.seq))):
            record.offset = base + i


def _folder_files(
    records: list[_Record], rng: random.Random, gzip_share: float,
) -> dict[str, list[str]]:
    """Sink-style files of a folder: per partition, size-rolled into 1-2 files; late ones apart."""
    groups: dict[tuple[bool, int], list[_Record]] = defaultdict(list)
    for record in records:
        groups[record.late, record.partition].append(record)
    files: dict[str, list[str]] = {}
    for (late, partition), group in sorted(groups.items()):
        group.sort(key=lambda r: r.offset)
        size = -(-len(group) // (1 if late else rng.randint(1, 2)))
        for chunk in (group[i:i + size] for i in range(0, len(group), size)):
            name = f"{'late-' if late else ''}{chunk[0].topic}+{partition}+{chunk[0].offset:010d}"
            suffix = ".jsonl.gz" if rng.random() < gzip_share else ".jsonl"
            files[name + suffix] = [_serialize(r) for r in chunk]
    return files


def _redeliver(files: dict[str, list[str]], rate: float, rng: random.Random) -> int:
    """Write some lines again, half in the same file, half in another of its kind (late or not)."""
    names = sorted(files)
    copies: list[tuple[str, str]] = []
    for name in names:
        late = name.startswith("late-")
        others = [n for n in names if n != name and n.startswith("late-") == late]
        for line in files[name]:
            if rng.random() < rate:
                copies.append((rng.choice(others) if others and rng.random() < 0.5 else name, line))
    for target, line in copies:
        files[target].insert(rng.randint(0, len(files[target])), line)
    return len(copies)


def _in_progress(files: dict[str, list[str]], rng: random.Random) -> tuple[str, str]:
    """A file the sink is still writing: a few lines of the folder and a cut-off last line."""
    lines = [line for name in sorted(files) for line in files[name]]
    sample = rng.sample(lines, min(3, len(lines)))
    text = "\n".join(sample + [sample[-1][: len(sample[-1]) // 3]])
    return f"_tmp-{rng.randrange(10**6):06d}.jsonl", text


class LandingOccupied(Exception):
    """Sample data would be mixed with files already in the days' folders."""


def _generated(folder: Path) -> list[str]:
    """The files `generate_landing` wrote into `folder` (its manifest), none if it has none."""
    manifest = folder / MANIFEST
    return json.loads(manifest.read_text())["files"] if manifest.exists() else []


def _landed(folder: Path) -> list[str]:
    """Finished landing files of `folder` (what Bronze would read)."""
    if not folder.is_dir():
        return []
    infos = pafs.LocalFileSystem().get_file_info(pafs.FileSelector(str(folder)))
    return sorted(info.base_name for info in infos if is_landed_file(info))


def _clear_folders(folders: list[Path], replace: bool) -> None:
    """Make room for new sample data: refuse folders holding landing files unless `replace`, and
    then remove only the files an earlier `generate_landing` wrote there."""
    occupied = [f for f in folders if _landed(f)]
    if occupied and not replace:
        days = sorted({f.name.removeprefix("dt=") for f in occupied})
        raise LandingOccupied(
            f"{occupied[0].parent.parent} already holds landing files for {', '.join(days)}: add"
            " --replace to replace the files generate wrote there (`make clean` removes all of data/)"
        )
    for folder in occupied:
        foreign = sorted(set(_landed(folder)) - set(_generated(folder)))
        if foreign:
            raise LandingOccupied(
                f"{folder} holds files flowguard generate did not write ({', '.join(foreign[:3])}"
                f"{', ...' if len(foreign) > 3 else ''}): not replacing them; pick other days or --landing"
            )
    for folder in folders:
        for name in [*_generated(folder), MANIFEST]:
            (folder / name).unlink(missing_ok=True)


def _write_folder(
    folder: Path, records: list[_Record], rng: random.Random, rates: AnomalyRates,
    gzip_share: float, in_progress: bool, stats: Counter[str],
) -> None:
    """Write one dt folder (some files with a trailing empty line) and its manifest; count what
    was written."""
    folder.mkdir(parents=True, exist_ok=True)
    files = _folder_files(records, rng, gzip_share)
    stats["sink_redelivery"] += _redeliver(files, rates.sink_redelivery, rng)
    for name in sorted(files):
        data = ("\n".join(files[name]) + ("\n\n" if rng.random() < 0.1 else "\n")).encode()
        (folder / name).write_bytes(gzip.compress(data, mtime=0) if name.endswith(".gz") else data)
        stats["files"] += 1
        stats[records[0].topic] += len(files[name])
    written = sorted(files)
    if in_progress:
        name, text = _in_progress(files, rng)
        (folder / name).write_text(text, encoding="utf-8")
        stats["in_progress"] += 1
        written.append(name)
    (folder / MANIFEST).write_text(json.dumps({"files": written}, indent=1) + "\n", encoding="utf-8")


def generate_landing(
    landing_dir: Path, start: date, days: int, *, orders_per_day: int = 1000,
    clicks_per_day: int = 24000, seed: int = 7, rates: AnomalyRates = AnomalyRates(),
    catalog: list[dict] | None = None, gzip_share: float = 0.3, in_progress_file: bool = True,
    producer: str = "flowguard", replace: bool = False,
) -> GenerationSummary:
    """Write `days` days of order and click records from `start` into `landing_dir` (SPEC 1), as
    `producer` (a name of GENERATORS) sends them; `catalog` defaults to `producer_catalog`.

    Days whose folders already hold landing files raise `LandingOccupied`, unless `replace`: then
    the files an earlier call wrote there are replaced (never files it did not write)."""
    rng = random.Random(seed)
    catalog = producer_catalog(producer) if catalog is None else catalog
    gen = GENERATORS[producer][0](rng, rates, catalog, max(10, clicks_per_day // 10))
    all_days = [start + timedelta(days=i) for i in range(days)]
    records: list[_Record] = []
    for i, day in enumerate(all_days):
        day_ms = (day - EPOCH.date()).days * DAY_MS
        new_users = gen.add_users(max(1, clicks_per_day // 100)) if i else []
        sessions = gen.sessions(day_ms, clicks_per_day, new_users)
        records += [r for session in sessions for r in session.records]
        records += gen.orders(day_ms, orders_per_day, sessions)
    _assign_offsets(records, rng)
    folders: dict[tuple[str, date], list[_Record]] = defaultdict(list)
    for record in records:
        folders[record.topic, record.day].append(record)
    stats = gen.counts
    _clear_folders([Path(landing_dir) / topic / f"dt={day.isoformat()}"
                    for topic in (ORDERS_TOPIC, CLICKS_TOPIC) for day in all_days], replace)
    for topic, day in sorted(folders):
        tmp = in_progress_file and (day == all_days[-1] or rng.random() < 0.25)
        folder = Path(landing_dir) / topic / f"dt={day.isoformat()}"
        _write_folder(folder, folders[topic, day], rng, rates, gzip_share, tmp, stats)
    anomalies = {kind: stats[kind] for kind in AnomalyRates.__dataclass_fields__}
    return GenerationSummary(all_days, stats["files"], stats[ORDERS_TOPIC], stats[CLICKS_TOPIC],
                             stats["in_progress"], anomalies)
