"""Kafka plumbing on FastStream + aiokafka: a durable producer, batch consumers that commit only after the
handler succeeded, bounded retries with backoff, dead letters with their reason, metrics and lag."""
