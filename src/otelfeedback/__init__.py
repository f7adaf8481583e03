"""otelfeedback."""
