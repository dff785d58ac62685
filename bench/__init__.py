"""The benchmark: synthetic APIs of several sizes scanned by digasec, next to a raw httpx loop and Schemathesis.

`./digasec bench [--quick] [--demo]` (bench/run.py) prints a table and writes `bench/results/<date>.json`;
bench/synthetic.py generates the APIs and serves them on 127.0.0.1.
"""
