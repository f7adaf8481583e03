"""Exporters and the span processor that feeds them."""

from otelfeedback.export.batch import BoundedBatchSpanProcessor
from otelfeedback.export.console import ConsoleSpanExporter
from otelfeedback.export.file_store import FileStoreSpanExporter

__all__ = ["BoundedBatchSpanProcessor", "ConsoleSpanExporter", "FileStoreSpanExporter"]
