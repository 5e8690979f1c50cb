"""SPEC §1 and §3 in plain Python, written apart from the transforms: the tests' own reading of a
landing zone (lines, validation codes, duplicates, Gold figures) to check FlowGuard's tables against."""

import gzip
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

ORDERS = "raw.orders.v1"
CLICKS = "raw.clicks.v1"
STATUSES = ("placed", "confirmed", "delivered", "cancelled")
_TIMESTAMP = re.compile(
    r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})?", re.ASCII
)
_DIGITS = re.compile(r"-?[0-9]+", re.ASCII)
_CENT = Decimal("0.01")


def spec_timestamp(value: object) -> datetime | None:
    """The UTC instant of a SPEC event timestamp (fraction truncated to microseconds), else None."""
    match = _TIMESTAMP.fullmatch(value) if isinstance(value, str) else None
    if not match:
        return None
    day, clock, fraction, zone = match.groups()
    try:
        moment = datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=timezone.utc)
    except ValueError:
        return None
    moment += timedelta(microseconds=int((fraction or "0")[:6].ljust(6, "0")))
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        moment -= sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:]))
    return moment


def read_text(path: Path) -> str:
    data = path.read_bytes()
    return (gzip.decompress(data) if path.name.endswith(".gz") else data).decode("utf-8")


@dataclass
class Line:
    """One non-empty landing line with what could be read from it."""

    topic: str
    dt: date
    file: str
    number: int
    text: str
    envelope: dict | None
    event: dict | None


def _line(topic: str, dt: date, file: str, number: int, text: str) -> Line:
    try:
        envelope = json.loads(text)
    except ValueError:
        envelope = None
    if not isinstance(envelope, dict):
        return Line(topic, dt, file, number, text, None, None)
    value = envelope.get("value")
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = None
    return Line(topic, dt, file, number, text, envelope, value if isinstance(value, dict) else None)


def read_landing(root: Path) -> list[Line]:
    """Every non-empty line of every finished file, numbered as physical lines from 1."""
    lines = []
    for path in sorted(root.glob("*/dt=*/*")):
        if path.name.startswith(("_", ".")) or not path.name.endswith((".jsonl", ".jsonl.gz")):
            continue
        dt = date.fromisoformat(path.parent.name.removeprefix("dt="))
        for number, text in enumerate(read_text(path).split("\n"), start=1):
            if text.strip():
                lines.append(_line(path.parent.parent.name, dt, path.name, number, text))
    return lines


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _whole(value: object, limit: int = 2**63) -> int | None:
    """A positive whole number (JSON integer or digit string) below `limit`, else None."""
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        value = int(value)
    ok = isinstance(value, int) and not isinstance(value, bool) and 0 < value < limit
    return value if ok else None


def _price(value: object) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        price = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return price if price == price.quantize(_CENT) and 0 < price < 10000 else None


def _required(code: str, value: object, parsed: object) -> list[str]:
    if _missing(value):
        return [f"missing_{code}"]
    return [f"invalid_{code}"] if parsed is None else []


def _timestamp(event: dict, dt: date) -> tuple[list[str], datetime | None]:
    moment = spec_timestamp(event.get("timestamp"))
    codes = _required("timestamp", event.get("timestamp"), moment)
    return codes + (["timestamp_outside_partition"] if moment and moment.date() != dt else []), moment


def status(event: dict) -> object:
    """`status`, else `order_type`, else `placed` (SPEC §1)."""
    for name in ("status", "order_type"):
        if event.get(name) is not None:
            return event[name]
    return "placed"


def event_type(event: dict) -> tuple[object, bool]:
    """The click event type (a JSON boolean `is_click` decides) and whether `is_click` is bad."""
    is_click = event.get("is_click")
    if isinstance(is_click, bool):
        return ("click" if is_click else "impression"), False
    return event.get("event_type"), is_click is not None


@dataclass
class Expected:
    """What SPEC says the Silver row of a landing line holds."""

    line: Line
    codes: list[str]
    values: dict = field(default_factory=dict)
    duplicate: bool = False

    @property
    def good(self) -> bool:
        return not self.codes and not self.duplicate


def expect(line: Line, known_items: set[int]) -> Expected:
    """The validation codes (in SPEC order) and typed values of a line's Silver row."""
    event = line.event
    if event is None:
        return Expected(line, ["malformed_record"])
    codes = ["missing_event_id"] if _missing(event.get("event_id")) else []
    user, item = _whole(event.get("user_id")), _whole(event.get("item_id"))
    stamp_codes, moment = _timestamp(event, line.dt)
    values = {"EVENT_ID": None if _missing(event.get("event_id")) else event["event_id"],
              "USER_ID": user, "ITEM_ID": item, "TIMESTAMP": moment}
    if line.topic == ORDERS:
        codes += ["missing_order_id"] if _missing(event.get("order_id")) else []
        codes += _required("user_id", event.get("user_id"), user)
        codes += _required("item_id", event.get("item_id"), item)
        price = _price(event.get("price"))
        quantity = 1 if _missing(event.get("quantity")) else _whole(event["quantity"], 2**31)
        codes += stamp_codes + _required("price", event.get("price"), price)
        codes += ["invalid_quantity"] if quantity is None else []
        codes += ["invalid_status"] if status(event) not in STATUSES else []
        values |= {"ORDER_ID": event.get("order_id"), "STATUS": status(event), "QUANTITY": quantity,
                   "AMOUNT": price * quantity if price and quantity else None}
    else:
        kind, bad_is_click = event_type(event)
        if bad_is_click:
            codes.append("invalid_event_type")
        elif _missing(kind):
            codes.append("missing_event_type")
        elif kind not in ("click", "impression"):
            codes.append("invalid_event_type")
        codes += _required("user_id", event.get("user_id"), user)
        codes += [] if _missing(event.get("item_id")) or item else ["invalid_item_id"]
        codes += stamp_codes
        values |= {"EVENT_TYPE": kind, "SESSION_ID": event.get("session_id")}
    codes += ["unknown_item"] if item is not None and item not in known_items else []
    return Expected(line, codes, values)


def _first(row: Expected) -> tuple:
    envelope = row.line.envelope or {}
    keys = (envelope.get("timestamp"), envelope.get("partition"), envelope.get("offset"))
    return (*((k is None, k or 0) for k in keys), row.line.file, row.line.number)


def _ingestion_id(envelope: dict | None) -> str | None:
    if not envelope or not isinstance(envelope.get("topic"), str) or not envelope["topic"].strip():
        return None
    partition, offset = envelope.get("partition"), envelope.get("offset")
    ok = all(isinstance(n, int) and not isinstance(n, bool) for n in (partition, offset))
    return f"{envelope['topic']}-{partition}-{offset}" if ok else None


def _mark_duplicates(rows: list[Expected]) -> None:
    """SPEC's two steps: same ingestion id, then same event id among the rows not yet marked."""
    for key in (lambda r: _ingestion_id(r.line.envelope), lambda r: r.values.get("EVENT_ID")):
        groups = defaultdict(list)
        for row in rows:
            if not row.duplicate and key(row) is not None:
                groups[key(row)].append(row)
        for group in groups.values():
            for row in sorted(group, key=_first)[1:]:
                row.duplicate = True


def silver(lines: list[Line], known_items: set[int]) -> dict[tuple[str, date], list[Expected]]:
    """The expected Silver rows per (topic, day)."""
    tables = defaultdict(list)
    for line in lines:
        tables[line.topic, line.dt].append(expect(line, known_items))
    for rows in tables.values():
        _mark_duplicates(rows)
    return tables


def rounded(numerator, denominator) -> Decimal | None:
    """SPEC's rounding of numerator / denominator; None when the denominator is 0."""
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(_CENT, ROUND_HALF_UP)


def gold(tables: dict[tuple[str, date], list[Expected]], days: list[date]) -> dict[date, dict]:
    """Headline Gold figures of each day, every day in `days` materialized in order."""
    figures, earlier_buyers, previous = {}, set(), None
    for day in days:
        orders = [r.values for r in tables[ORDERS, day] if r.good]
        placed = [o for o in orders if o["STATUS"] != "cancelled"]
        events = [r.values for r in tables[CLICKS, day] if r.good]
        revenue = sum((o["AMOUNT"] for o in placed), Decimal(0))
        order_ids, buyers = {o["ORDER_ID"] for o in placed}, {o["USER_ID"] for o in placed}
        sessions = {e["SESSION_ID"] for e in events if e["SESSION_ID"] is not None}
        clicks = [e for e in events if e["EVENT_TYPE"] == "click"]
        impressions = len(events) - len(clicks)
        figures[day] = {
            "TOTAL_REVENUE": revenue,
            "ORDER_COUNT": len(order_ids),
            "TOTAL_ITEMS_SOLD": sum(o["QUANTITY"] for o in placed),
            "UNIQUE_USERS": len(buyers),
            "NEW_USERS": len(buyers - earlier_buyers),
            "CANCELLED_ORDERS": len({o["ORDER_ID"] for o in orders if o["STATUS"] == "cancelled"}),
            "REVENUE_GROWTH_PCT": rounded((revenue - previous) * 100, previous) if previous else None,
            "TOTAL_SESSIONS": len(sessions),
            "TOTAL_IMPRESSIONS": impressions,
            "TOTAL_CLICKS": len(clicks),
            "IMPRESSION_TO_CLICK_RATE": rounded(len(clicks) * 100, impressions),
            "CLICK_TO_ORDER_RATE": rounded(len(order_ids) * 100, len(clicks)),
            "SESSION_TO_ORDER_RATE": rounded(len(order_ids) * 100, len(sessions)),
            "USERS_WITH_CLICKS": len({e["USER_ID"] for e in clicks}),
            "ACTIVE_USERS": len(buyers | {e["USER_ID"] for e in events}),
            "ITEM_EVENTS": _item_events(events),
        }
        earlier_buyers |= buyers
        previous = revenue
    return figures


def _item_events(events: list[dict]) -> dict[int, tuple[int, int]]:
    """(clicks, impressions) per item of E(D)."""
    counts = defaultdict(lambda: [0, 0])
    for event in events:
        if event["ITEM_ID"] is not None:
            counts[event["ITEM_ID"]][event["EVENT_TYPE"] != "click"] += 1
    return {item: tuple(pair) for item, pair in counts.items()}
