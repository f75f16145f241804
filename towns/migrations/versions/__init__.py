"""Revision scripts (Alembic skips this file). A package so that they ship with ``towns``."""
