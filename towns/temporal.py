"""Connecting to Temporal with the data converter every part of towns uses."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from .config import Settings


async def connect(settings: Settings) -> Client:
    return await Client.connect(
        settings.temporal_address, namespace=settings.namespace, data_converter=pydantic_data_converter
    )
