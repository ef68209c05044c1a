"""Talking to a cluster: configuration, rate limiting, plain-dict client, resilient watches."""

from .client import UUID_LABEL, ClusterClient, PatchType
from .config import ClusterTarget, load_configuration, resolve_target
from .discovery import ResourceInfo
from .errors import (
    ApiError,
    ClusterConfigError,
    ClusterError,
    ClusterUnreachableError,
    UnknownKindError,
)
from .ratelimit import DEFAULT_BURST, DEFAULT_QPS, TokenBucket, WaitStats
from .stats import RequestStats, StatsSink, StatsSnapshot
from .transport import RetryPolicy
from .watch import ResilientWatch, WatchEvent

__all__ = [
    "DEFAULT_BURST",
    "DEFAULT_QPS",
    "UUID_LABEL",
    "ApiError",
    "ClusterClient",
    "ClusterConfigError",
    "ClusterError",
    "ClusterTarget",
    "ClusterUnreachableError",
    "PatchType",
    "RequestStats",
    "ResilientWatch",
    "ResourceInfo",
    "RetryPolicy",
    "StatsSink",
    "StatsSnapshot",
    "TokenBucket",
    "UnknownKindError",
    "WaitStats",
    "WatchEvent",
    "load_configuration",
    "resolve_target",
]
