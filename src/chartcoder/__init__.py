"""ChartCoder: automatic ICD coding of clinical records that explains and checks every code."""

__version__ = "0.1.0"
