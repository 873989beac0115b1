"""Benchmarks: each module here with a `run() -> dict` is one benchmark."""
