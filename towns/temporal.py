"""Connecting to Temporal with the data converter every part of towns uses.

``quiet_core_logs`` sends the Temporal core's own log lines (connection retries, server
capability warnings) through Python logging to stderr: left alone they are printed on
stdout, ahead of a command's ``--json`` output, which then no longer parses.
"""

from __future__ import annotations

import logging

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import LogForwardingConfig, LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter

from .config import ConfigError, Settings

_runtime_installed = False


def quiet_core_logs(level: str = "ERROR") -> None:
    """Forward the Temporal core's logs to the ``temporalio.core`` logger (stderr), at ``level`` and above."""
    global _runtime_installed
    if _runtime_installed:
        return
    logger = logging.getLogger("temporalio.core")
    if not logger.handlers:
        handler = logging.StreamHandler()  # stderr
        handler.setFormatter(logging.Formatter("temporal: %(levelname)s %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(level)
    Runtime.set_default(
        Runtime(
            telemetry=TelemetryConfig(
                logging=LoggingConfig(
                    filter=TelemetryFilter(core_level=level, other_level="ERROR"),
                    forwarding=LogForwardingConfig(logger=logger),
                )
            )
        ),
        error_if_already_set=False,
    )
    _runtime_installed = True


async def connect(settings: Settings) -> Client:
    if not settings.temporal_address:
        raise ConfigError(
            "no Temporal address: start `towns server`, or set TEMPORAL_ADDRESS. "
            "没有 Temporal 地址：请先运行 towns server。"
        )
    return await Client.connect(
        settings.temporal_address, namespace=settings.namespace, data_converter=pydantic_data_converter
    )
