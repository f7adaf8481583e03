"""The functions users call, above ``setup`` and ``store``: reads (``get_trace``,
``search_traces``) and the assessment functions (``log_feedback`` & co.). They work on the
active configuration's store; ``otelfeedback`` re-exports them."""
