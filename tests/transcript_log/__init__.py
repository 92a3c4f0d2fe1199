"""The transcript log: the consumer, exactly-once storage, live restarts."""
