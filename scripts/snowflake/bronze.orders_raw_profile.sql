CREATE TABLE IF NOT EXISTS "BRONZE"."ORDERS_RAW_PROFILE" (
    "ROW_COUNT" NUMBER(19,0) COMMENT 'rows of ORDERS_RAW on PARTITION_DATE',
    "FIELD" VARCHAR COMMENT 'a top-level field of the events; null on the row of a day without events',
    "EVENTS" NUMBER(19,0) COMMENT 'events that carry FIELD',
    "EXAMPLE" VARCHAR COMMENT 'for a field the contract does not name: one value as JSON text, at most 80 characters',
    "PARTITION_DATE" DATE COMMENT 'landing folder date dt=D'
)
COMMENT = 'Per-day summary written with ORDERS_RAW: its row count and each top-level event field with its count of events and an example. The volume and new-fields checks read it for history instead of older Bronze partitions.';
