-- An outbox row that can never be queued (its event is over the queue's message size, names an
-- entity the registry does not replicate, or its row image is not JSON) must not block the rows
-- after it, nor be sent again every minute. The sweep records it in failed_tasks (once: keyed by
-- the row's seq) and settles it: published_at then says when it left the outbox, and failed_reason
-- why it went to failed_tasks instead of the queue. Retention and the backlog count treat it like
-- any settled row.
ALTER TABLE sync_outbox ADD COLUMN failed_reason TEXT;
