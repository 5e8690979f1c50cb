CREATE TABLE IF NOT EXISTS "GOLD"."HOURLY_ORDER_PATTERNS" (
    "DATE" DATE COMMENT 'partition date D',
    "HOUR_OF_DAY" NUMBER(10,0) COMMENT 'UTC hour of ORDER_TIMESTAMP, 0-23',
    "ORDER_COUNT" NUMBER(19,0) COMMENT 'distinct ORDER_ID in the hour',
    "TOTAL_REVENUE" NUMBER(18,2) COMMENT 'sum of ORDER_AMOUNT (0 when none)',
    "AVG_ORDER_VALUE" NUMBER(18,2) COMMENT 'revenue / orders, rounded; null when none',
    "UNIQUE_USERS" NUMBER(19,0) COMMENT 'distinct USER_ID',
    "PEAK_RANK" NUMBER(10,0) COMMENT 'RANK() by ORDER_COUNT descending among the 24 hours',
    "IS_PEAK_HOUR" BOOLEAN COMMENT 'PEAK_RANK <= 3 and ORDER_COUNT > 0',
    "PCT_OF_DAILY_ORDERS" NUMBER(18,2) COMMENT 'share of the day''s orders * 100; null when none',
    "PCT_OF_DAILY_REVENUE" NUMBER(18,2) COMMENT 'share of the day''s revenue * 100; null when none',
    "LOAD_TIMESTAMP" TIMESTAMP_NTZ(6) COMMENT 'when this row was written',
    "PROCESSING_VERSION" VARCHAR COMMENT 'FlowGuard version that wrote the row'
)
COMMENT = 'Orders and revenue per UTC hour, 24 zero-filled rows per day, with peak hours.';
