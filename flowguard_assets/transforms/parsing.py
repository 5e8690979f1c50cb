"""Reading JSON text and typing its fields, shared by Bronze and Silver.

JSON is parsed with explicit all-string schemas: Spark hands back a string field as its text and any
other JSON value (number, object, array, boolean) as its JSON text, so each rule of SPEC §1 is a
check on that text. Every parser returns null for text it cannot read. A field whose JSON type
matters (`is_click`: `true` is a boolean, `"true"` is not) is read as a VARIANT instead.
"""


from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql import types as T

from flowguard_assets.tables import MONEY

CORRUPT = "_corrupt_record"
# SPEC §1 Timestamps: date, `T` or one space, time, 1-9 fraction digits, `Z`, `+HH:MM`, `-HH:MM` or none.
_LOCAL_DATETIME = r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?"
_ISO_DATETIME = rf"^{_LOCAL_DATETIME}(?:Z|[+-]\d{{2}}:\d{{2}})?\z"
_NO_ZONE = rf"^({_LOCAL_DATETIME})\z"
_INTEGER = r"^-?[0-9]+$"


def string_struct(fields: list[str], variants: tuple[str, ...] = ()) -> T.StructType:
    """A schema reading `fields` as text (those in `variants` as VARIANT), plus the column that
    flags text that is not an object."""
    return T.StructType(
        [T.StructField(name, T.VariantType() if name in variants else T.StringType()) for name in fields]
        + [T.StructField(CORRUPT, T.StringType())]
    )


def parse_object(text: Column, fields: list[str], variants: tuple[str, ...] = ()) -> Column:
    """`text` parsed as a JSON object of string fields (`variants`: VARIANT fields); `CORRUPT`
    is set when it is not one."""
    return F.from_json(
        text,
        string_struct(fields, variants),
        {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT},
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
    """SPEC's event timestamp as a UTC timestamp: a real calendar date-time, the fraction truncated
    to microseconds, no zone read as UTC whatever the session time zone; null for any other text."""
    utc = F.regexp_replace(raw, _NO_ZONE, "$1Z")
    return F.when(raw.rlike(_ISO_DATETIME), utc.try_cast("timestamp"))


def is_null_json(value: Column) -> Column:
    """A VARIANT field that is absent or JSON null."""
    return value.isNull() | F.is_variant_null(value)


def json_boolean(value: Column) -> Column:
    """A VARIANT field that is a JSON boolean, as a boolean; null for any other value.

    `try_variant_get`, because Spark may evaluate the cast on rows the condition excludes."""
    return F.when(F.schema_of_variant(value) == "BOOLEAN", F.try_variant_get(value, "$", "boolean"))


def money(raw: Column) -> Column:
    """An amount (number or numeric string) in whole cents, as DECIMAL(18,2); null otherwise."""
    exact = raw.try_cast(T.DecimalType(38, 10))
    return F.when(exact == F.round(exact, 2), exact.try_cast(MONEY))
