"""The landing zone a Kafka sink writes (SPEC §1): finding its files and reading their lines."""


import gzip
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T

LINE_SCHEMA = T.StructType(
    [
        T.StructField("PARTITION_DATE", T.DateType()),
        T.StructField("SOURCE_FILE", T.StringType()),
        T.StructField("SOURCE_LINE", T.LongType()),
        T.StructField("LINE", T.StringType()),
    ]
)
_ARROW_SCHEMA = pa.schema(
    [
        ("PARTITION_DATE", pa.date32()),
        ("SOURCE_FILE", pa.string()),
        ("SOURCE_LINE", pa.int64()),
        ("LINE", pa.string()),
    ]
)
_BATCH_LINES = 20_000
_BATCH_BYTES = 64 << 20
_SUFFIXES = (".jsonl", ".jsonl.gz")


class LandingError(RuntimeError):
    """A landing folder is missing or a landing file cannot be read; names the folder or file."""


@dataclass(frozen=True)
class LandingFile:
    partition_date: date
    path: str

    @property
    def name(self) -> str:
        return Path(self.path).name


def partition_folder(landing_dir: Path, topic: str, day: date) -> Path:
    return landing_dir / topic / f"dt={day.isoformat()}"


def is_landed_file(path: Path) -> bool:
    """A finished landing file: `.jsonl` or `.jsonl.gz`, not in progress (`_` or `.` prefix)."""
    return (
        path.name.endswith(_SUFFIXES) and not path.name.startswith(("_", ".")) and path.is_file()
    )


@dataclass(frozen=True)
class LandedFile:
    topic: str
    name: str
    size: int
    mtime_ns: int


def scan(landing_dir: Path, topics: Sequence[str]) -> dict[date, list[LandedFile]]:
    """Every finished file of `topics`, by the day of its `dt=` folder."""
    by_day: dict[date, list[LandedFile]] = {}
    for topic in topics:
        for folder in sorted((landing_dir / topic).glob("dt=*")):
            try:
                day = date.fromisoformat(folder.name.removeprefix("dt="))
            except ValueError:
                continue
            for path in folder.iterdir():
                if is_landed_file(path):
                    stat = path.stat()
                    landed = LandedFile(topic, path.name, stat.st_size, stat.st_mtime_ns)
                    by_day.setdefault(day, []).append(landed)
    return by_day


def landing_files(landing_dir: Path, topic: str, days: Sequence[date]) -> list[LandingFile]:
    """The finished files of `topic` for `days`; a missing day folder is an error."""
    files = []
    for day in days:
        folder = partition_folder(landing_dir, topic, day)
        if not folder.is_dir():
            raise LandingError(f"Landing folder {folder} does not exist: no {topic} data for {day}")
        files += [
            LandingFile(day, str(path)) for path in sorted(folder.iterdir()) if is_landed_file(path)
        ]
    return files


def read_lines(spark: SparkSession, files: Sequence[LandingFile]) -> DataFrame:
    """One row per non-empty line of `files` (LINE_SCHEMA), read in parallel, one task per file."""
    if not files:
        return spark.createDataFrame([], LINE_SCHEMA)
    paths = spark.createDataFrame(
        [(f.partition_date, f.path) for f in files], "PARTITION_DATE date, PATH string"
    )
    return paths.repartition(len(files)).mapInArrow(_read_files, LINE_SCHEMA)


def _read_files(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        for day, path in zip(batch.column(0).to_pylist(), batch.column(1).to_pylist()):
            yield from _read_file(day, path)


def _read_file(day: date, path: str) -> Iterator[pa.RecordBatch]:
    """The non-empty lines of one file, decoded as UTF-8 (a bad byte becomes U+FFFD)."""
    name = Path(path).name
    numbers: list[int] = []
    texts: list[str] = []
    size = 0
    try:
        with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as handle:
            for number, raw in enumerate(handle, start=1):
                if not raw.strip():
                    continue
                text = raw.rstrip(b"\r\n").decode("utf-8", errors="replace")
                numbers.append(number)
                texts.append(text)
                size += len(text)
                if len(texts) >= _BATCH_LINES or size >= _BATCH_BYTES:
                    yield _batch(day, name, numbers, texts)
                    numbers, texts, size = [], [], 0
    except (OSError, EOFError, zlib.error) as error:
        raise LandingError(f"Cannot read landing file {path}: {error}") from None
    if texts:
        yield _batch(day, name, numbers, texts)


def _batch(day: date, name: str, numbers: list[int], texts: list[str]) -> pa.RecordBatch:
    count = len(texts)
    return pa.RecordBatch.from_arrays(
        [
            pa.array([day] * count, pa.date32()),
            pa.array([name] * count, pa.string()),
            pa.array(numbers, pa.int64()),
            pa.array(texts, pa.string()),
        ],
        schema=_ARROW_SCHEMA,
    )
