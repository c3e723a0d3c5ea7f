"""Destination kinds behind one seam (`base.Sink`): Amazon S3 and Google Cloud Logging."""

from auditwire.streaming.sinks.base import Answer, Sink, Verdict
from auditwire.streaming.sinks.gcp import GcpSink, GcpTarget
from auditwire.streaming.sinks.s3 import S3Sink, S3Target

__all__ = ["Answer", "GcpSink", "GcpTarget", "S3Sink", "S3Target", "Sink", "Verdict"]
