"""Use cases: plain functions that take ports (Broker, Store, TaskQueue, Clock) as arguments."""
