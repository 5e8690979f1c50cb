"""SPEC's "rounded" (half away from zero, 2 decimals, exact) for `rounded_ratio`, on real PySpark.

Operands are DECIMAL(18,2) amounts or integer counts (LongType).
"""

from decimal import ROUND_HALF_UP, Decimal, localcontext

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.testing import assertDataFrameEqual

from flowguard_assets.transforms.rounding import rounded_ratio
from flowguard_assets_tests.harness import EXACT

pytestmark = pytest.mark.fast

AMOUNT, COUNT = T.DecimalType(18, 2), T.LongType()
LARGEST = Decimal("9999999999999999.99")  # the result type is DECIMAL(18,2)


def expected(numerator, denominator, percent=False) -> Decimal | None:
    """The exact quotient rounded half away from zero (Python's ROUND_HALF_UP)."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    # Operands are multiples of 0.01 below 10**16: a quotient that is not exactly on a half cent is
    # more than 1e-20 away from one, so 80 significant digits decide the rounding exactly.
    with localcontext() as context:
        context.prec = 80
        quotient = Decimal(numerator) / Decimal(denominator) * (100 if percent else 1)
        return quotient.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def evaluate(spark, rows: list[tuple], types: list[T.DataType], outputs: dict) -> list[dict]:
    """Evaluate `outputs` (name -> function of the operand columns) on `rows` in one Spark job."""
    names = [f"X{i}" for i in range(len(types))]
    schema = T.StructType(
        [T.StructField("ROW", T.IntegerType())]
        + [T.StructField(name, t) for name, t in zip(names, types)]
    )
    df = spark.createDataFrame([(i, *row) for i, row in enumerate(rows)], schema)
    columns = [F.col(name) for name in names]
    result = df.select("ROW", *[make(*columns).alias(name) for name, make in outputs.items()])
    return [row.asDict() for row in sorted(result.collect())]


def ratio_schema(types, *result: T.StructField) -> T.StructType:
    return T.StructType([T.StructField("N", types[0]), T.StructField("D", types[1]), *result])


def ratio_frame(spark, pairs, types=(AMOUNT, AMOUNT), percent=False) -> DataFrame:
    """Operands N, D and R = rounded_ratio(N, D), one row per pair."""
    operands = spark.createDataFrame(pairs, ratio_schema(types))
    return operands.withColumn("R", rounded_ratio(F.col("N"), F.col("D"), percent=percent))


def expected_ratios(spark, rows, types=(AMOUNT, AMOUNT)) -> DataFrame:
    """(N, D, R) rows; R has the result type."""
    return spark.createDataFrame(rows, ratio_schema(types, T.StructField("R", AMOUNT)))


def decimals(*values) -> tuple:
    return tuple(None if v is None else Decimal(v) for v in values)


CASES = [  # (numerator, denominator), percent, rounded
    (decimals("10.01", "2"), False, "5.01"),  # 5.005
    (decimals("-10.01", "2"), False, "-5.01"),  # -5.005
    (decimals("10.01", "-2"), False, "-5.01"),
    (decimals("-10.01", "-2"), False, "5.01"),
    (decimals("1", "8"), False, "0.13"),  # 0.125
    (decimals("-1", "8"), False, "-0.13"),
    (decimals("0.03", "0.08"), False, "0.38"),  # 0.375
    (decimals("0.01", "0.03"), False, "0.33"),
    (decimals("0", "7"), False, "0.00"),
    (decimals("9999999999999999.99", "1"), False, "9999999999999999.99"),
    (decimals("0.01", "9999999999999999.99"), False, "0.00"),
    (decimals("4999999999999999.99", "9999999999999999.99"), False, "0.50"),
    (decimals("2", "3"), True, "66.67"),
    (decimals("-2", "3"), True, "-66.67"),
    (decimals("1", "3"), True, "33.33"),
    (decimals("0.01", "8"), True, "0.13"),  # 0.125 %
    (decimals("0.5", "400"), True, "0.13"),  # 0.125 %
    (decimals("0.5", "200"), True, "0.25"),
    (decimals("1", "1600"), True, "0.06"),  # 0.0625 %: below the half, rounds down
    (decimals("1", "200"), True, "0.50"),
]


@pytest.mark.parametrize("percent", [False, True], ids=["ratio", "percent"])
def test_exact_half_cases_round_away_from_zero(spark, percent):
    cases = [(*pair, Decimal(want)) for pair, is_percent, want in CASES if is_percent == percent]

    got = ratio_frame(spark, [case[:2] for case in cases], percent=percent)

    assertDataFrameEqual(got, expected_ratios(spark, cases), **EXACT)


def test_counts_and_amount_per_count(spark):
    counts = [(2, 3), (1, 8), (-1, 8), (5, 2), (7, 7), (1, 3)]
    percents = decimals("66.67", "12.50", "-12.50", "250.00", "100.00", "33.33")
    assertDataFrameEqual(
        ratio_frame(spark, counts, (COUNT, COUNT), percent=True),
        expected_ratios(spark, [(*pair, r) for pair, r in zip(counts, percents)], (COUNT, COUNT)),
        **EXACT,
    )
    per_count = [(Decimal(a), n) for a, n in (("10.01", 2), ("0.25", 2), ("-0.25", 2), ("100", 3))]
    quotients = decimals("5.01", "0.13", "-0.13", "33.33")
    assertDataFrameEqual(
        ratio_frame(spark, per_count, (AMOUNT, COUNT)),
        expected_ratios(spark, [(*pair, r) for pair, r in zip(per_count, quotients)], (AMOUNT, COUNT)),
        **EXACT,
    )


@pytest.mark.parametrize("types", [(AMOUNT, AMOUNT), (COUNT, COUNT)], ids=["amounts", "counts"])
def test_zero_or_null_denominator_and_null_numerator_give_null(spark, types):
    one = Decimal("1") if types[0] == AMOUNT else 1
    zero = Decimal("0") if types[0] == AMOUNT else 0
    pairs = [(one, zero), (zero, zero), (one, None), (None, one), (None, None)]
    nulls = expected_ratios(spark, [(*pair, None) for pair in pairs], types)

    assertDataFrameEqual(ratio_frame(spark, pairs, types), nulls, **EXACT)
    assertDataFrameEqual(ratio_frame(spark, pairs, types, percent=True), nulls, **EXACT)


# Property: ~200 pairs drawn by hypothesis, evaluated against `decimal` in ONE Spark job.

CENTS = st.integers(-(10**15), 10**15)
# Exact ties: n / d lands on a half cent (ratio) or half a hundredth of a percent.
RATIO_TIES = st.builds(
    lambda k, m, sign: (k * (2 * m + 1), sign * 200 * k),
    st.integers(1, 10**6),
    st.integers(-(10**6), 10**6),
    st.sampled_from([1, -1]),
)
PERCENT_TIES = RATIO_TIES.map(lambda pair: (pair[0], pair[1] * 100))


def fits(pair: tuple[int, int]) -> bool:
    """Whether every result (up to the percentage of n / d) fits the DECIMAL(18,2) result type."""
    n, d = pair
    return d == 0 or expected(n, d, percent=True).copy_abs() <= LARGEST


PAIRS = st.one_of(
    st.tuples(CENTS, CENTS), st.tuples(CENTS, st.integers(-1000, 1000)), RATIO_TIES, PERCENT_TIES
).filter(fits)


def draw_pairs() -> list[tuple[int, int]]:
    """About 200 (numerator cents, denominator cents) pairs from hypothesis, without Spark."""
    drawn: list[tuple[int, int]] = []

    @settings(max_examples=5, database=None, phases=[Phase.generate], deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(st.lists(PAIRS, min_size=40, max_size=40))
    def draw(pairs):
        drawn.extend(pairs)

    draw()
    return drawn


def test_matches_decimal_round_half_up_on_the_exact_quotient(spark):
    pairs = draw_pairs()
    rows = [(Decimal(n).scaleb(-2), Decimal(d).scaleb(-2), n, d) for n, d in pairs]
    outputs = {  # operands: amount n, amount d, count n, count d
        "AMOUNT_RATIO": lambda an, ad, cn, cd: rounded_ratio(an, ad),
        "AMOUNT_PCT": lambda an, ad, cn, cd: rounded_ratio(an, ad, percent=True),
        "COUNT_RATIO": lambda an, ad, cn, cd: rounded_ratio(cn, cd),
        "COUNT_PCT": lambda an, ad, cn, cd: rounded_ratio(cn, cd, percent=True),
        "AMOUNT_PER_COUNT": lambda an, ad, cn, cd: rounded_ratio(an, cd),
    }

    got = evaluate(spark, rows, [AMOUNT, AMOUNT, COUNT, COUNT], outputs)

    mismatches = []
    for (amount_n, amount_d, n, d), row in zip(rows, got):
        want = {
            "AMOUNT_RATIO": expected(amount_n, amount_d),
            "AMOUNT_PCT": expected(amount_n, amount_d, percent=True),
            "COUNT_RATIO": expected(n, d),
            "COUNT_PCT": expected(n, d, percent=True),
            "AMOUNT_PER_COUNT": expected(amount_n, d),
        }
        mismatches += [(name, n, d, row[name], v) for name, v in want.items() if row[name] != v]
    assert len(pairs) >= 150
    assert any(d and (n * 200) % d == 0 and (n * 100) % d for n, d in pairs)  # ties were drawn
    assert mismatches == []
