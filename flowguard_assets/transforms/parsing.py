"""Reading JSON text and typing its fields, shared by Bronze and Silver.

JSON is parsed with explicit all-string schemas: Spark hands back a string field as its text and any
other JSON value (number, object, array, boolean) as its JSON text, so each rule of SPEC §1 is a
check on that text. Every parser returns null for text it cannot read.
"""


from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql import types as T

from flowguard_assets.tables import MONEY

CORRUPT = "_corrupt_record"
_ISO_DATETIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})?$"
_INTEGER = r"^-?[0-9]+$"


def string_struct(fields: list[str]) -> T.StructType:
    """A schema reading `fields` as text, plus the column that flags text that is not an object."""
    return T.StructType(
        [T.StructField(name, T.StringType()) for name in fields]
        + [T.StructField(CORRUPT, T.StringType())]
    )


def parse_object(text: Column, fields: list[str]) -> Column:
    """`text` parsed as a JSON object of string fields; `CORRUPT` is set when it is not one."""
    return F.from_json(
        text, string_struct(fields), {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT}
    )


def is_object(parsed: Column, text: Column) -> Column:
    """True when `text`, parsed by `parse_object` into `parsed`, is a JSON object."""
    return text.isNotNull() & parsed[CORRUPT].isNull()


def is_missing(raw: Column) -> Column:
    """SPEC's `missing`: absent, null or an empty (or blank) string."""
    return raw.isNull() | (F.trim(raw) == "")


def integer(raw: Column, type_name: str = "bigint") -> Column:
    """A whole number written as digits (JSON integer or digit string) that fits `type_name`."""
    return F.when(raw.rlike(_INTEGER), raw.try_cast(type_name))


def iso_timestamp(raw: Column) -> Column:
    """An ISO-8601 date-time with `Z`, `+HH:MM` or no zone (UTC), as a UTC timestamp."""
    return F.when(raw.rlike(_ISO_DATETIME), raw.try_cast("timestamp"))


def money(raw: Column) -> Column:
    """An amount (number or numeric string) in whole cents, as DECIMAL(18,2); null otherwise."""
    exact = raw.try_cast(T.DecimalType(38, 10))
    return F.when(exact == F.round(exact, 2), exact.try_cast(MONEY))
