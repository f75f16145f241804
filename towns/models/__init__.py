"""Pydantic contracts (what crosses a boundary) and SQLModel tables (what is stored)."""
