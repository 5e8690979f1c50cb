CREATE TABLE IF NOT EXISTS "AUDIT"."CHECK_RESULTS" (
    "CHECK_NAME" VARCHAR COMMENT 'the check, e.g. valid_rate',
    "ASSET_KEY" VARCHAR COMMENT 'the checked asset, e.g. silver/orders_clean',
    "PASSED" BOOLEAN COMMENT 'whether the check passed',
    "SEVERITY" VARCHAR COMMENT 'ERROR (blocks Gold for the day) or WARN (alerts only)',
    "OBSERVED" NUMBER(38,6) COMMENT 'the measured value: a rate, a ratio or a count',
    "THRESHOLD" NUMBER(38,6) COMMENT 'the bound it is held to; null where none or two-sided',
    "DETAILS" VARCHAR COMMENT 'JSON text of the evaluation''s figures',
    "RUN_ID" VARCHAR COMMENT 'the Dagster run that evaluated it',
    "EVALUATED_AT" TIMESTAMP_NTZ(6) COMMENT 'when it was evaluated (UTC)',
    "PARTITION_DATE" DATE COMMENT 'the day the evaluation is about'
)
COMMENT = 'Every check evaluation of every run (gates, reconciliation, volume, new fields), one row per check and day: quality over time, queryable next to the data.';
