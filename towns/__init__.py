"""towns — a rules-and-workflow engine for the assessment of characteristic towns (特色小镇)."""

__version__ = "0.1.0"
