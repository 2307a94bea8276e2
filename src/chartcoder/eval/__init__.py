"""Evaluation harness: ``chartcoder eval KIND PATH``."""
