CREATE TABLE IF NOT EXISTS "SILVER"."DAILY_BUYERS" (
    "USER_ID" NUMBER(19,0) COMMENT 'user with a good non-cancelled order line on DATE_PARTITION',
    "LOAD_TIMESTAMP" TIMESTAMP_NTZ(6) COMMENT 'when this row was written',
    "PROCESSING_VERSION" VARCHAR COMMENT 'FlowGuard version that wrote the row',
    "DATE_PARTITION" DATE COMMENT 'partition date D'
)
COMMENT = 'Per-day summary written with ORDERS_CLEAN: the distinct users with a good, non-cancelled order line that day. GOLD.DAILY_GMV_METRICS reads it for NEW_USERS instead of all history.';
