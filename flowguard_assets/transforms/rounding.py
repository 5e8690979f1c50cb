"""SPEC's "rounded": half away from zero to 2 decimals, computed exactly.

Spark's decimal division rounds its quotient to a fixed scale before `round()` rounds again, and
that double rounding can move a result by a cent. Here both operands become whole numbers of
hundredths and the quotient is an exact integer division.
"""


from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql import types as T

_WHOLE = T.DecimalType(38, 0)
_RESULT = T.DecimalType(18, 2)


def rounded_ratio(numerator: Column, denominator: Column, *, percent: bool = False) -> Column:
    """`numerator / denominator` (times 100 when `percent`), rounded; null when the denominator
    is 0 or null. Operands are counts or amounts with at most 2 decimals."""
    n = (numerator * 100).cast(_WHOLE)
    d = (denominator * 100).cast(_WHOLE)
    scale = 10_000 if percent else 100  # the result is counted in hundredths
    top = F.abs(n) * (2 * scale) + F.abs(d)
    bottom = F.abs(d) * 2
    value = ((top - top % bottom) / bottom / 100).cast(_RESULT)
    negative = (n < 0) != (d < 0)
    return F.when(d != 0, F.when(negative, -value).otherwise(value))
