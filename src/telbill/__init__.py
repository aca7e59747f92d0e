"""telbill: billing for telecom operators."""

__version__ = "0.1.0"
