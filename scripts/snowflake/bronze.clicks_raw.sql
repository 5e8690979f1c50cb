CREATE TABLE IF NOT EXISTS "BRONZE"."CLICKS_RAW" (
    "INGESTION_ID" VARCHAR COMMENT '{topic}-{partition}-{offset}; null when the line has no readable envelope',
    "SOURCE_TOPIC" VARCHAR COMMENT 'Kafka topic of the record',
    "KAFKA_PARTITION" NUMBER(10,0) COMMENT 'Kafka partition',
    "KAFKA_OFFSET" NUMBER(19,0) COMMENT 'Kafka offset',
    "KAFKA_TIMESTAMP" TIMESTAMP_NTZ(6) COMMENT 'Kafka record time (UTC)',
    "PRODUCER_SERVICE" VARCHAR COMMENT 'headers.producer_service, else headers.source',
    "SCHEMA_VERSION" VARCHAR COMMENT 'headers.schema_version',
    "SOURCE_FILE" VARCHAR COMMENT 'landing file name the line came from',
    "SOURCE_LINE" NUMBER(19,0) COMMENT '1-based line number in SOURCE_FILE',
    "INGESTION_TIMESTAMP" TIMESTAMP_NTZ(6) COMMENT 'when this row was written',
    "RAW_EVENT" VARCHAR COMMENT 'the event as text; the whole line when it is not JSON',
    "EVENT_ID" VARCHAR COMMENT 'event_id',
    "EVENT_TYPE" VARCHAR COMMENT 'event_type',
    "EVENT_TIMESTAMP" TIMESTAMP_NTZ(6) COMMENT 'timestamp (UTC); null when absent or unreadable',
    "USER_ID" NUMBER(19,0) COMMENT 'user_id; null when absent or unreadable',
    "SESSION_ID" VARCHAR COMMENT 'session_id',
    "ITEM_ID" NUMBER(19,0) COMMENT 'item_id; null when absent or unreadable',
    "DEVICE_TYPE" VARCHAR COMMENT 'device_type',
    "PARTITION_DATE" DATE COMMENT 'landing folder date dt=D'
)
COMMENT = 'Every landing line of raw.clicks.v1, one row per non-empty line, nothing dropped.';
