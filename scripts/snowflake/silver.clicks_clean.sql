CREATE TABLE IF NOT EXISTS "SILVER"."CLICKS_CLEAN" (
    "EVENT_ID" VARCHAR COMMENT 'event id',
    "USER_ID" NUMBER(19,0) COMMENT 'user id; null when missing or invalid',
    "SESSION_ID" VARCHAR COMMENT 'session id',
    "ITEM_ID" NUMBER(19,0) COMMENT 'item id; null when absent or invalid',
    "EVENT_TYPE" VARCHAR COMMENT '''click'' or ''impression'': a boolean is_click decides, else event_type',
    "CLICK_TIMESTAMP" TIMESTAMP_NTZ(6) COMMENT 'event time (UTC); null when missing or invalid',
    "ENRICHED_ITEM_NAME" VARCHAR COMMENT 'catalog name of ITEM_ID',
    "ENRICHED_CATEGORY" VARCHAR COMMENT 'catalog category of ITEM_ID',
    "ENRICHED_DESCRIPTION" VARCHAR COMMENT 'catalog description of ITEM_ID',
    "IS_VALID" BOOLEAN COMMENT 'true when VALIDATION_ERRORS is null',
    "IS_DUPLICATE" BOOLEAN COMMENT 'a sink redelivery (same INGESTION_ID) or producer retry (same EVENT_ID)',
    "VALIDATION_ERRORS" VARCHAR COMMENT 'comma-separated validation codes in SPEC order; null when valid',
    "INGESTION_ID" VARCHAR COMMENT 'Bronze lineage: Kafka topic-partition-offset',
    "SOURCE_FILE" VARCHAR COMMENT 'landing file name',
    "SOURCE_LINE" NUMBER(19,0) COMMENT '1-based line number in the landing file',
    "LOAD_TIMESTAMP" TIMESTAMP_NTZ(6) COMMENT 'when this row was written',
    "PROCESSING_VERSION" VARCHAR COMMENT 'FlowGuard version that wrote the row',
    "DATE_PARTITION" DATE COMMENT 'partition date D'
)
COMMENT = 'Impressions and clicks deduplicated, validated, flagged and enriched; one row per Bronze row.';
