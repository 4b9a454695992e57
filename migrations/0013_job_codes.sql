-- Reason: following jobs must not grow with the moderation log or the queue (issue 20).
-- How many of an order's portraits the safety check withheld is read for every
-- delivered order: an index on the audit log's order id answers it without reading the
-- whole log (the query's expression and condition match the index's exactly).

CREATE INDEX IF NOT EXISTS moderation_withheld_order
    ON moderation_actions (json_extract(detail, '$.order_id'))
    WHERE action = 'output_withheld';
