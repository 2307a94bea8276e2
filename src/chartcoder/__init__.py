"""ChartCoder: automatic ICD coding of clinical records that explains and checks every code."""

__version__ = "0.1.0"


def __getattr__(name: str):  # noqa: ANN202 - lazy, so `import chartcoder` stays cheap
    if name in ("code", "code_case"):
        from chartcoder import coder

        return getattr(coder, name)
    raise AttributeError(f"module 'chartcoder' has no attribute {name!r}")
