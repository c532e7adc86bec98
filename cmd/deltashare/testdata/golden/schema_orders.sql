CREATE TABLE `demo`.`sales`.`orders` (
  `order_id` BIGINT NOT NULL,
  `customer` STRING,
  `amount` DECIMAL(12,2),
  `quantity` INT,
  `discount` DOUBLE,
  `is_member` BOOLEAN,
  `order_date` DATE,
  `created_at` TIMESTAMP,
  `updated_at` TIMESTAMP_NTZ,
  `region` STRING
)
USING DELTA
PARTITIONED BY (`region`)
COMMENT 'Demo orders';
