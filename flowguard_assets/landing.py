"""The landing zone a Kafka sink writes (SPEC §1): finding its files and reading their lines.

The zone is a local folder or an object-store URI (`s3://` or `s3a://`, `gs://`, `abfs://`, with
pyarrow's query options such as `?endpoint_override=minio:9000&scheme=http`; credentials come
from the store's usual environment variables), read through pyarrow's file systems, on the
driver and in Spark's Python workers alike.
"""


import gzip
import io
import os
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date

import pyarrow as pa
import pyarrow.fs as pafs
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T

from flowguard_assets.errors import LandingError

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
_SCHEMES = {"s3a": "s3"}  # Spark's spelling of the same store


Location = str | os.PathLike[str]


def filesystem(location: Location) -> tuple[pafs.FileSystem, str]:
    """The file system holding `location` (a local path or an object-store URI), and its path there."""
    text = os.fspath(location)
    if "://" not in text:
        return pafs.LocalFileSystem(), text
    scheme, rest = text.split("://", 1)
    return pafs.FileSystem.from_uri(f"{_SCHEMES.get(scheme, scheme)}://{rest}")


def child(location: Location, relative: str) -> str:
    """`relative` under `location`, keeping a URI's query options at the end."""
    base, separator, query = os.fspath(location).partition("?")
    return f"{base.rstrip('/')}/{relative}{separator}{query}"


def shown(location: Location) -> str:
    """A location as people read it: without a URI's query options."""
    return os.fspath(location).partition("?")[0]


def file_name(location: str) -> str:
    return shown(location).rsplit("/", 1)[-1]


@dataclass(frozen=True)
class LandingFile:
    partition_date: date
    path: str  # a local path or a URI, as the zone's root is

    @property
    def name(self) -> str:
        return file_name(self.path)


def is_landed_file(info: pafs.FileInfo) -> bool:
    """A finished landing file: `.jsonl` or `.jsonl.gz`, not in progress (`_` or `.` prefix)."""
    name = info.base_name
    return (
        info.type == pafs.FileType.File
        and name.endswith(_SUFFIXES)
        and not name.startswith(("_", "."))
    )


@dataclass(frozen=True)
class LandedFile:
    topic: str
    name: str
    size: int
    mtime_ns: int


def _day_folders(fs: pafs.FileSystem, topic_path: str) -> Iterator[tuple[date, pafs.FileInfo]]:
    selector = pafs.FileSelector(topic_path, allow_not_found=True)
    for folder in sorted(fs.get_file_info(selector), key=lambda info: info.path):
        if folder.type != pafs.FileType.Directory or not folder.base_name.startswith("dt="):
            continue
        try:
            yield date.fromisoformat(folder.base_name.removeprefix("dt=")), folder
        except ValueError:
            continue


def scan(root: Location, topics: Sequence[str]) -> dict[date, list[LandedFile]]:
    """Every finished file of `topics`, by the day of its `dt=` folder."""
    fs, base = filesystem(root)
    by_day: dict[date, list[LandedFile]] = {}
    for topic in topics:
        for day, folder in _day_folders(fs, f"{base}/{topic}"):
            for info in fs.get_file_info(pafs.FileSelector(folder.path)):
                if is_landed_file(info):
                    landed = LandedFile(topic, info.base_name, info.size, info.mtime_ns or 0)
                    by_day.setdefault(day, []).append(landed)
    return by_day


def landing_files(root: Location, topic: str, days: Sequence[date]) -> list[LandingFile]:
    """The finished files of `topic` for `days`; a missing day folder is an error."""
    fs, base = filesystem(root)
    files = []
    for day in days:
        folder = f"{topic}/dt={day.isoformat()}"
        if fs.get_file_info(f"{base}/{folder}").type != pafs.FileType.Directory:
            raise LandingError(
                f"Landing folder {shown(child(root, folder))} does not exist: no {topic} data for {day}"
            )
        names = sorted(
            info.base_name
            for info in fs.get_file_info(pafs.FileSelector(f"{base}/{folder}"))
            if is_landed_file(info)
        )
        files += [LandingFile(day, child(root, f"{folder}/{name}")) for name in names]
    return files


def read_lines(spark: SparkSession, files: Sequence[LandingFile]) -> DataFrame:
    """One row per non-empty line of `files` (LINE_SCHEMA), read in parallel, one task per file."""
    if not files:
        return spark.createDataFrame([], LINE_SCHEMA)
    paths = spark.createDataFrame(
        [(f.partition_date, f.path) for f in files], "PARTITION_DATE date, PATH string"
    )
    return paths.repartition(len(files)).mapInArrow(_read_files, LINE_SCHEMA)


def check_readable(files: Sequence[LandingFile]) -> None:
    """Read every file of `files` here, on the driver: a LandingError names the first one that
    cannot be read (Spark's Python workers report an error only as text)."""
    for file in files:
        for _ in _read_file(file.partition_date, file.path):
            pass


def _read_files(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        for day, path in zip(batch.column(0).to_pylist(), batch.column(1).to_pylist()):
            yield from _read_file(day, path)


def _read_file(day: date, path: str) -> Iterator[pa.RecordBatch]:
    """The non-empty lines of one file, decoded as UTF-8 (a bad byte becomes U+FFFD)."""
    name = file_name(path)
    numbers: list[int] = []
    texts: list[str] = []
    size = 0
    try:
        fs, inner = filesystem(path)
        with fs.open_input_stream(inner, compression=None) as stream:
            handle = gzip.GzipFile(fileobj=stream) if name.endswith(".gz") else io.BufferedReader(stream)
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
        raise LandingError(f"Cannot read landing file {shown(path)}: {error}") from None
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
