"""The one OTLP/JSON codec: every line of the file store is written and read here.

- ``encode``: SDK spans and received OTLP requests to OTLP/JSON (the Collector's file
  exporter form), with one any-value encoder and one line writer (strict JSON);
- ``decode``: OTLP/JSON trace data to ``SpanRecord`` objects, the one stored-span record;
- ``segments``: the file store's segment layout and its multi-process-safe writer.

The submodules are imported on use; importing this package loads nothing else.
"""
