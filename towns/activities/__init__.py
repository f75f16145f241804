"""Temporal activities: everything that touches the world (database, rule engine, files)."""
