CREATE TABLE IF NOT EXISTS "GOLD"."USER_FUNNEL_METRICS" (
    "DATE" DATE COMMENT 'partition date D',
    "TOTAL_SESSIONS" NUMBER(19,0) COMMENT 'distinct non-null SESSION_ID',
    "TOTAL_IMPRESSIONS" NUMBER(19,0) COMMENT 'good impression events',
    "TOTAL_CLICKS" NUMBER(19,0) COMMENT 'good click events',
    "TOTAL_ORDERS" NUMBER(19,0) COMMENT 'distinct ORDER_ID of good non-cancelled lines',
    "TOTAL_REVENUE" NUMBER(18,2) COMMENT 'as in DAILY_GMV_METRICS',
    "IMPRESSION_TO_CLICK_RATE" NUMBER(18,2) COMMENT 'clicks / impressions * 100; null when no impressions',
    "CLICK_TO_ORDER_RATE" NUMBER(18,2) COMMENT 'orders / clicks * 100; null when no clicks',
    "SESSION_TO_ORDER_RATE" NUMBER(18,2) COMMENT 'orders / sessions * 100; null when no sessions',
    "AVG_CLICKS_PER_SESSION" NUMBER(18,2) COMMENT 'clicks / sessions; null when no sessions',
    "AVG_ORDERS_PER_SESSION" NUMBER(18,2) COMMENT 'orders / sessions; null when no sessions',
    "AVG_REVENUE_PER_SESSION" NUMBER(18,2) COMMENT 'revenue / sessions; null when no sessions',
    "USERS_WITH_CLICKS" NUMBER(19,0) COMMENT 'distinct users with a good click',
    "USERS_WITH_ORDERS" NUMBER(19,0) COMMENT 'distinct users with a good non-cancelled order line',
    "ACTIVE_USERS" NUMBER(19,0) COMMENT 'distinct users with a good click event or order line',
    "LOAD_TIMESTAMP" TIMESTAMP_NTZ(6) COMMENT 'when this row was written',
    "PROCESSING_VERSION" VARCHAR COMMENT 'FlowGuard version that wrote the row'
)
COMMENT = 'Daily funnel: sessions, impressions, clicks, orders and the rates between them.';
