"""Intake: reading submitted files, checking rows, sending them on, quarantining the rest."""
