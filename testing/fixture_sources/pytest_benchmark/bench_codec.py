"""pytest-benchmark fixture source: JSON encoding and decoding of a small document."""

import json

DOCUMENT = {"items": [{"sku": f"sku-{i}", "qty": i % 7, "price": i * 1.25} for i in range(50)]}
TEXT = json.dumps(DOCUMENT)


def test_json_dumps(benchmark):  # type: ignore[no-untyped-def]
    benchmark(json.dumps, DOCUMENT)


def test_json_loads(benchmark):  # type: ignore[no-untyped-def]
    benchmark(json.loads, TEXT)
