CREATE TABLE IF NOT EXISTS "GOLD"."DAILY_GMV_METRICS" (
    "DATE" DATE COMMENT 'partition date D',
    "TOTAL_REVENUE" NUMBER(18,2) COMMENT 'sum of ORDER_AMOUNT over good non-cancelled lines (0 when none)',
    "ORDER_COUNT" NUMBER(19,0) COMMENT 'distinct ORDER_ID',
    "TOTAL_ITEMS_SOLD" NUMBER(19,0) COMMENT 'sum of QUANTITY',
    "AVG_ORDER_VALUE" NUMBER(18,2) COMMENT 'TOTAL_REVENUE / ORDER_COUNT, rounded; null when no orders',
    "UNIQUE_USERS" NUMBER(19,0) COMMENT 'distinct USER_ID',
    "NEW_USERS" NUMBER(19,0) COMMENT 'users with no good non-cancelled order on any earlier materialized day',
    "RETURNING_USERS" NUMBER(19,0) COMMENT 'UNIQUE_USERS - NEW_USERS',
    "CANCELLED_ORDERS" NUMBER(19,0) COMMENT 'distinct ORDER_ID of good cancelled lines',
    "REVENUE_GROWTH_PCT" NUMBER(18,2) COMMENT 'revenue change vs D-1 in %; null when D-1 has no revenue',
    "ORDER_GROWTH_PCT" NUMBER(18,2) COMMENT 'order count change vs D-1 in %; null when D-1 has no orders',
    "LOAD_TIMESTAMP" TIMESTAMP_NTZ(6) COMMENT 'when this row was written',
    "PROCESSING_VERSION" VARCHAR COMMENT 'FlowGuard version that wrote the row'
)
COMMENT = 'Daily revenue, orders, items and users, with day-over-day growth.';
