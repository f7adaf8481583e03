"""Private helpers: serialization, safety, the OTLP/JSON codec. Not public API."""
