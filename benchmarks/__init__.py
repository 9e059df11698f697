"""Benchmarks of langchain-mimo-video; run each from the repository root.

``python -m benchmarks.bench_overhead`` (and ``bench_large_file``, ``bench_fit``,
``bench_remote_probe``, ``bench_throughput``); see ``benchmarks/README.md``.
"""
