"""Delivery: claim due deliveries, POST them, settle the outcomes. Uses domain and store only."""

from auditwire.streaming.worker import DeliveryWorker

__all__ = ["DeliveryWorker"]
