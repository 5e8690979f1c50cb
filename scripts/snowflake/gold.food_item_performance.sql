CREATE TABLE IF NOT EXISTS "GOLD"."FOOD_ITEM_PERFORMANCE" (
    "DATE" DATE COMMENT 'partition date D',
    "ITEM_ID" NUMBER(19,0) COMMENT 'catalog item id',
    "ITEM_NAME" VARCHAR COMMENT 'catalog name',
    "CATEGORY" VARCHAR COMMENT 'catalog category',
    "TOTAL_ORDERS" NUMBER(19,0) COMMENT 'distinct ORDER_ID',
    "TOTAL_QUANTITY" NUMBER(19,0) COMMENT 'sum of QUANTITY (0 when none)',
    "TOTAL_REVENUE" NUMBER(18,2) COMMENT 'sum of ORDER_AMOUNT (0 when none)',
    "UNIQUE_BUYERS" NUMBER(19,0) COMMENT 'distinct USER_ID of order lines',
    "AVG_PRICE" NUMBER(18,2) COMMENT 'average unit PRICE, rounded; null when no orders',
    "CLICK_COUNT" NUMBER(19,0) COMMENT 'good click events on the item',
    "IMPRESSION_COUNT" NUMBER(19,0) COMMENT 'good impression events on the item',
    "CONVERSION_RATE" NUMBER(18,2) COMMENT 'TOTAL_ORDERS / CLICK_COUNT * 100, rounded; null when no clicks',
    "CLICK_THROUGH_RATE" NUMBER(18,2) COMMENT 'CLICK_COUNT / IMPRESSION_COUNT * 100; null when none',
    "RANK_BY_REVENUE" NUMBER(10,0) COMMENT 'RANK() by TOTAL_REVENUE descending',
    "RANK_BY_ORDERS" NUMBER(10,0) COMMENT 'RANK() by TOTAL_ORDERS descending',
    "RANK_BY_CONVERSION" NUMBER(10,0) COMMENT 'RANK() by CONVERSION_RATE descending, nulls last',
    "IS_TOP_SELLER" BOOLEAN COMMENT 'PERCENT_RANK() by revenue >= 0.9 and TOTAL_REVENUE > 0',
    "IS_UNDERPERFORMING" BOOLEAN COMMENT 'CLICK_COUNT > 10 and conversion null or < 5',
    "LOAD_TIMESTAMP" TIMESTAMP_NTZ(6) COMMENT 'when this row was written',
    "PROCESSING_VERSION" VARCHAR COMMENT 'FlowGuard version that wrote the row'
)
COMMENT = 'Per item and day: orders, revenue, clicks, conversion and rankings.';
