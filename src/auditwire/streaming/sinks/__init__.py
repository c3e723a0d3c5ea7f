"""Destination kinds behind one seam: per event (`base.Sink`: Amazon S3, Google Cloud
Logging) and in batches (`base.BatchSink`: Splunk HEC, Datadog, batched HTTP, batched S3)."""

from auditwire.streaming.sinks.base import (
    Answer,
    BatchAnswer,
    BatchLimits,
    BatchSink,
    Outgoing,
    Sink,
    Verdict,
)
from auditwire.streaming.sinks.batching import PerEventBatches
from auditwire.streaming.sinks.datadog import DatadogSink, DatadogTarget
from auditwire.streaming.sinks.gcp import GcpSink, GcpTarget
from auditwire.streaming.sinks.http_batch import HttpBatchSink, HttpBatchTarget
from auditwire.streaming.sinks.s3 import S3Sink, S3Target
from auditwire.streaming.sinks.s3_batch import S3BatchSink, S3BatchTarget
from auditwire.streaming.sinks.splunk import SplunkSink, SplunkTarget

__all__ = [
    "Answer",
    "BatchAnswer",
    "BatchLimits",
    "BatchSink",
    "DatadogSink",
    "DatadogTarget",
    "GcpSink",
    "GcpTarget",
    "HttpBatchSink",
    "HttpBatchTarget",
    "Outgoing",
    "PerEventBatches",
    "S3BatchSink",
    "S3BatchTarget",
    "S3Sink",
    "S3Target",
    "Sink",
    "SplunkSink",
    "SplunkTarget",
    "Verdict",
]
