"""Jobs: their contracts and states, the record and its store, idempotency, routing, submission."""
