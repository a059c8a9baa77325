"""Every parser against a file written the way its tool writes it, and malformed variants."""

from __future__ import annotations

from pathlib import Path

import pytest

from perfdash.baseline.formats import FORMATS, detect_format, parse_file
from perfdash.baseline.records import FAILED, LATENCY, Meta, Record, Sample, Value
from perfdash.errors import ResultFileError
from tests.baseline.conftest import FIXTURES


def records(name: str, fmt: str | None = None) -> list[Record]:
    path = FIXTURES / name
    return list(parse_file(path, fmt or detect_format(path)))


def series(recs: list[Record], name: str) -> list[float]:
    return [r.value for r in recs if isinstance(r, Sample) and r.series == name]


def values(recs: list[Record]) -> dict[str, float]:
    return {r.metric: r.value for r in recs if isinstance(r, Value)}


def meta(recs: list[Record]) -> dict[str, str | float]:
    return {r.key: r.value for r in recs if isinstance(r, Meta)}


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("k6.json", "k6"),
        ("k6.csv", "k6-csv"),
        ("k6-summary.json", "k6-summary"),
        ("locust_stats.csv", "locust"),
        ("locust_stats_history.csv", "locust"),
        ("locust.json", "locust"),
        ("jmeter.jtl", "jmeter"),
        ("pytest-benchmark.json", "pytest-benchmark"),
        ("hyperfine.json", "hyperfine"),
        ("gobench.txt", "gobench"),
    ],
)
def test_each_tool_s_output_is_detected_as_its_format(name: str, fmt: str) -> None:
    assert detect_format(FIXTURES / name) == fmt


def test_every_format_has_a_fixture_and_a_detector() -> None:
    assert sorted(FORMATS) == sorted(
        [
            "k6",
            "k6-csv",
            "k6-summary",
            "locust",
            "jmeter",
            "pytest-benchmark",
            "hyperfine",
            "gobench",
        ]
    )


def test_an_unknown_file_is_an_error_that_asks_for_the_format(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello\n")
    with pytest.raises(ResultFileError, match=r"notes.txt: cannot tell which tool.*--format"):
        detect_format(path)


def test_k6_ndjson_keeps_request_durations_and_failures_with_their_times() -> None:
    recs = records("k6.json")
    assert series(recs, LATENCY) == [112.5, 98.25, 143.0, 87.75, 250.5]
    assert series(recs, FAILED) == [0, 0, 0, 0, 1]
    first = next(r for r in recs if isinstance(r, Sample))
    assert first.ts == 1714987800.0  # 2024-05-06T09:30:00Z
    assert meta(recs)["tool"] == "k6"


def test_k6_lines_in_another_key_order_are_read_too(tmp_path: Path) -> None:
    path = tmp_path / "reordered.json"
    path.write_text(
        '{"metric":"http_req_duration","type":"Point","data":{"tags":{"value":"9"},'
        '"value":42.5,"time":"2024-05-06T09:30:00Z"}}\n'
        '{"metric":"http_req_failed","type":"Point","data":{"time":"2024-05-06T09:30:00Z",'
        '"value":1,"tags":{}}}\n'
    )
    recs = list(parse_file(path, "k6"))
    assert series(recs, LATENCY) == [42.5]
    assert series(recs, FAILED) == [1.0]


def test_k6_csv_reads_columns_by_name() -> None:
    recs = records("k6.csv")
    assert series(recs, LATENCY) == [112.5, 98.25, 250.5, 143.0]
    assert series(recs, FAILED) == [0, 0, 1, 0]


def test_k6_summary_export_maps_trend_stats_and_reports_failed_thresholds() -> None:
    recs = records("k6-summary.json")
    assert values(recs) == {
        "requests": 1200,
        "rps": 19.995862,
        "mean": 118.42,
        "min": 61.3,
        "p50": 104.9,
        "max": 912.8,
        "p90": 181.2,
        "p95": 224.7,
        "p99": 401.5,
        "error_rate": 0.01,
    }
    notes = [r.value for r in recs if isinstance(r, Meta) and r.key == "note"]
    # true in a k6 summary export means the threshold FAILED
    assert notes == ["k6 threshold failed: http_req_duration p(95)<200"]


def test_k6_summary_without_p99_simply_lacks_it(tmp_path: Path) -> None:
    text = (FIXTURES / "k6-summary.json").read_text().replace('"p(99)": 401.5,', "")
    path = tmp_path / "summary.json"
    path.write_text(text)
    assert "p99" not in values(list(parse_file(path, "k6-summary")))


def test_locust_stats_use_the_aggregated_row() -> None:
    recs = records("locust_stats.csv")
    assert values(recs) == {
        "requests": 3000,
        "error_rate": 0.005,
        "rps": 50.01,
        "mean": 138.15,
        "max": 1300,
        "p50": 120,
        "p90": 210,
        "p95": 250,
        "p99": 420,
        "p99.9": 1100,
    }
    assert meta(recs)["resolution_ms"] == 1.0


def test_locust_history_dates_the_run() -> None:
    assert meta(records("locust_stats_history.csv"))["started_at"] == 1714987800


def test_locust_json_expands_the_response_time_histogram() -> None:
    recs = records("locust.json")
    assert sorted(series(recs, LATENCY)) == [88, 95, 95, 110, 110, 110, 140, 190, 200, 230]
    assert sum(series(recs, FAILED)) == 1
    assert len(series(recs, FAILED)) == 10
    assert values(recs)["rps"] == pytest.approx(10 / 12.0)


def test_jmeter_reads_elapsed_and_success() -> None:
    recs = records("jmeter.jtl")
    assert series(recs, LATENCY) == [112, 98, 251, 143, 88]
    assert series(recs, FAILED) == [0, 0, 1, 0, 0]
    assert meta(recs)["resolution_ms"] == 1.0


def test_pytest_benchmark_gives_each_test_s_stats_and_the_commit() -> None:
    recs = records("pytest-benchmark.json")
    got = values(recs)
    small = "test_encode_small"
    assert got[small] == 0.000103
    assert got[f"{small}.mean"] == 0.0001094
    assert got[f"{small}.stddev"] == 0.0000152
    assert got[f"{small}.ops"] == 9140.77
    assert got["test_decode_large"] == 0.01262
    assert series(recs, small) == [0.000101, 0.000102, 0.000103, 0.000102, 0.000139]
    info = meta(recs)
    assert info["git_sha"] == "5f3e1c9a2b7d4e6f8a0b1c2d3e4f5a6b7c8d9e0f"
    assert info["branch"] == "main"
    assert info["tool_version"] == "4.0.0"


def test_hyperfine_keeps_every_time_and_counts_failed_exits() -> None:
    recs = records("hyperfine.json")
    assert series(recs, "codec_encode_--fast_input.bin") == [0.1018, 0.1031, 0.1039, 0.1047, 0.1081]
    assert series(recs, FAILED) == [0, 0, 0, 0, 0, 0, 0, 0, 1]
    assert values(recs)["codec_encode_input.bin.user"] == 0.1933


def test_go_benchmarks_keep_every_unit_on_the_line() -> None:
    recs = records("gobench.txt")
    assert series(recs, "BenchmarkEncode/small.ns/op") == [1043, 1051, 1039]
    assert series(recs, "BenchmarkEncode/small.B/op") == [256, 256, 256]
    assert series(recs, "BenchmarkEncode/small.allocs/op") == [4, 4, 4]
    assert series(recs, "BenchmarkEncode/large.MB/s") == [98.17, 96.72, 98.47]
    assert series(recs, "BenchmarkDecode.items/op") == [12, 12, 12]
    assert series(recs, "BenchmarkDecode.ops/s") == pytest.approx(
        [1e9 / 2391, 1e9 / 2402, 1e9 / 2388]
    )
    assert meta(recs)["env.cpu"] == "Intel(R) Xeon(R) CPU @ 2.20GHz"


def _broken(tmp_path: Path, fixture: str, old: str, new: str) -> Path:
    text = (FIXTURES / fixture).read_text()
    assert old in text
    path = tmp_path / fixture
    path.write_text(text.replace(old, new, 1))
    return path


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


@pytest.mark.parametrize(
    ("fixture", "fmt", "old", "new", "message"),
    [
        ("k6.json", "k6", '"value":143.000000', '"value":"slow"', "data.value: expected a number"),
        ("k6.json", "k6", '"value":98.250000,', '"value":98.25', "invalid JSON"),
        (
            "k6.csv",
            "k6-csv",
            "http_req_duration,1714987801,98.250000",
            "http_req_duration,1714987801,fast",
            "metric_value: expected a number",
        ),
        (
            "jmeter.jtl",
            "jmeter",
            "1714987801540,143,",
            "1714987801540,1x3,",
            "elapsed: expected a number",
        ),
        (
            "jmeter.jtl",
            "jmeter",
            "text,true,,1843,212,10,10,https://checkout.example.com/api/cart,80",
            "text,maybe,,1843,212,10,10,https://checkout.example.com/api/cart,80",
            "success: expected true or false",
        ),
        (
            "gobench.txt",
            "gobench",
            "2402 ns/op",
            "2402 ns/op 7",
            "expected NAME ITERATIONS followed by VALUE UNIT pairs",
        ),
        (
            "locust_stats.csv",
            "locust",
            ",Aggregated,3000,15",
            ",Aggregated,lots,15",
            "Request Count: expected a number",
        ),
        (
            "hyperfine.json",
            "hyperfine",
            "0.2093,\n        0.2086",
            '"x",\n        0.2086',
            "times: expected a number",
        ),
        (
            "pytest-benchmark.json",
            "pytest-benchmark",
            '"mean": 0.01275',
            '"mean": null',
            "stats.mean: expected a number",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) and len(v) < 20 else None,
)
def test_a_malformed_file_is_reported_with_its_file_and_line(
    tmp_path: Path, fixture: str, fmt: str, old: str, new: str, message: str
) -> None:
    path = _broken(tmp_path, fixture, old, new)
    line = _line_of(path, new.split("\n")[0])
    with pytest.raises(ResultFileError) as caught:
        list(parse_file(path, fmt))
    assert caught.value.file == str(path)
    assert str(caught.value).startswith(f"{path}:")
    assert message in caught.value.message
    if fmt not in ("pytest-benchmark", "hyperfine"):
        assert caught.value.line == line
    else:  # JSON documents: the line of the entry that holds the bad value
        assert 1 < caught.value.line <= line


def test_broken_json_syntax_names_the_line(tmp_path: Path) -> None:
    path = _broken(tmp_path, "k6-summary.json", '"count": 1200,', '"count": 1200')
    with pytest.raises(ResultFileError) as caught:
        list(parse_file(path, "k6-summary"))
    assert caught.value.line == _line_of(path, '"rate": 19.995862') and "invalid JSON" in str(
        caught.value
    )


def test_a_file_of_the_wrong_tool_says_what_it_expected(tmp_path: Path) -> None:
    with pytest.raises(ResultFileError, match=r"jmeter.jtl:1: expected a JSON object"):
        list(parse_file(FIXTURES / "jmeter.jtl", "k6"))
    only_declarations = tmp_path / "declarations.json"
    only_declarations.write_text((FIXTURES / "k6.json").read_text().split('{"type":"Point"')[0])
    with pytest.raises(ResultFileError, match="no http_req_duration points: is this the output"):
        list(parse_file(only_declarations, "k6"))
