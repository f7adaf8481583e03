"""Auto-instrumentation of model client libraries, one subpackage per library.

Nothing here patches anything at import; ``otelfeedback.instrument_openai()`` does, and
undoes it on request.
"""
