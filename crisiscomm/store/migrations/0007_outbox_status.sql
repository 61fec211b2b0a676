-- 0007: the outbox read by status. `status`, `watch` and `outbox` count and list the
-- pending and dead rows; without an index by status each of them scanned the whole table,
-- which grows with every notification ever sent (until `outbox prune` removes the sent
-- rows past the office's retention). Listing is newest first, as the index is ordered.
CREATE INDEX outbox_status ON outbox (status, created_at, id);
