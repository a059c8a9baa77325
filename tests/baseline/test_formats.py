"""Every parser on the real tools' output (tests/baseline/fixtures, written by
``python -m testing.baseline_fixtures``), and on broken, cut-short and hostile variants."""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from perfdash.baseline.formats import FORMATS, detect_format, parse_file
from perfdash.baseline.formats import k6 as k6_format
from perfdash.baseline.records import (
    FAILED,
    LATENCY,
    Meta,
    MinuteBatch,
    Record,
    Sample,
    each_sample,
)
from perfdash.errors import ResultFileError
from testing.results import write_k6_real_shape
from tests.baseline.conftest import FIXTURES

K6_RUN = FIXTURES / "k6" / "run.json"


def records(path: Path, fmt: str | None = None) -> list[Record]:
    return list(parse_file(path, fmt or detect_format(path)))


def series(recs: list[Record], name: str) -> list[float]:
    return [r.value for r in each_sample(recs) if r.series == name]


def times(recs: list[Record], name: str = LATENCY) -> list[float]:
    return [r.ts for r in each_sample(recs) if r.series == name and r.ts]


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("k6/run.json", "k6"),
        ("k6/run.json.gz", "k6"),
        ("k6/run.csv", "k6-csv"),
        ("k6/run-unix_nano.csv.gz", "k6-csv"),
        ("k6/run-rfc3339_nano.csv.gz", "k6-csv"),
        ("k6/summary-export.json", "k6-summary"),
        ("k6/handle-summary.json", "k6-summary"),
        ("locust/locust.json", "locust"),
        ("locust/locust_stats.csv", "locust"),
        ("locust/locust_stats_history.csv", "locust"),
        ("locust/locust_failures.csv", "locust"),
        ("jmeter/results.jtl", "jmeter"),
        ("jmeter/results-header.jtl", "jmeter"),
        ("jmeter/results.xml.jtl", "jmeter"),
        ("pytest-benchmark/pytest-benchmark.json", "pytest-benchmark"),
        ("hyperfine/hyperfine.json", "hyperfine"),
        ("go/gobench.txt", "gobench"),
        ("go/gobench.json", "gobench"),
        ("wrk/wrk.txt", "wrk"),
    ],
)
def test_each_real_output_is_detected_as_its_format(name: str, fmt: str) -> None:
    assert detect_format(FIXTURES / name) == fmt


def test_every_format_has_a_real_fixture() -> None:
    assert sorted(FORMATS) == sorted(
        ["k6", "k6-csv", "k6-summary", "locust", "jmeter", "pytest-benchmark", "hyperfine",
         "gobench", "wrk"]
    )  # fmt: skip


def test_an_unknown_file_is_an_error_that_asks_for_the_format(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello\n")
    with pytest.raises(ResultFileError, match=r"notes.txt: cannot tell which tool.*--format"):
        detect_format(path)


def test_k6_ndjson_plain_gzip_and_every_csv_time_format_agree() -> None:
    reference = records(K6_RUN)
    assert len(series(reference, LATENCY)) == 120
    assert sum(series(reference, FAILED)) == 4  # every 25th request of 120 answered 503
    precision = {"run.csv": 1, "run-rfc3339.csv.gz": 1, "run-unix_milli.csv.gz": 1e-3}
    for name in ["run.json.gz", "run.csv"] + [
        f"run-{f}.csv.gz"
        for f in ("unix_milli", "unix_micro", "unix_nano", "rfc3339", "rfc3339_nano")
    ]:
        got = records(FIXTURES / "k6" / name)
        assert series(got, LATENCY) == series(reference, LATENCY), name
        assert series(got, FAILED) == series(reference, FAILED), name
        for mine, theirs in zip(times(got), times(reference), strict=True):
            assert theirs - precision.get(name, 2e-6) <= mine <= theirs + 2e-6, name


def test_k6_times_keep_their_offset() -> None:
    # k6 ran with TZ=Asia/Kolkata: "2026-...T18:37:47.5+05:30" is 13:07:47.5 UTC
    first_line = next(line for line in K6_RUN.read_text().splitlines() if '"Point"' in line)
    assert "+05:30" in first_line
    first = times(records(K6_RUN))[0]
    assert 1_700_000_000 < first < 1_900_000_000


def test_the_fast_reader_and_the_line_reader_agree_on_real_output() -> None:
    # after k6's last Metric declaration (a piece with declarations takes the line reader)
    text = K6_RUN.read_bytes()
    start = text.index(b"\n", text.rfind(b'{"type":"Metric"'))
    piece = k6_format._Piece(text, start, len(text))
    lines = text.count(b"\n", start + 1)
    fast = k6_format._fast(piece, lines)
    slow = k6_format._slow(K6_RUN, 1, piece)
    assert fast is not None
    mine, theirs = list(each_sample(fast)), list(each_sample(slow))
    assert len(mine) == len(theirs) > 200

    def key(s: Sample) -> tuple[str, float, float]:
        return (s.series, s.ts or 0, s.value)

    for a, b in zip(sorted(mine, key=key), sorted(theirs, key=key), strict=True):
        assert (a.series, a.value) == (b.series, b.value)
        assert a.ts == pytest.approx(b.ts, abs=1e-6)


def test_the_fast_reader_leaves_anything_unusual_to_the_line_reader() -> None:
    text = K6_RUN.read_bytes()
    start = text.index(b"\n", text.rfind(b'{"type":"Metric"'))
    points = text[start:]

    def fast(data: bytes) -> list[MinuteBatch] | None:
        return k6_format._fast(k6_format._Piece(data, 0, len(data)), data.count(b"\n") - 1)

    assert fast(points) is not None
    duration = points.index(b'{"metric":"http_req_duration"')
    for old, new in [
        (b'"value":', b'"value":-'),  # refused: the line reader says why
        (b'"time":"2026', b'"time":"1999'),
        (b'+05:30"', b'"'),  # no offset: the line reader takes it as UTC
        (b'+05:30"', b'+05:30 "'),  # not a time
        (b'"value":', b'"val":'),  # no value
        (b'"type":"Point",', b'"type":"Point" ,\n'),  # an object across two lines
        (b'"}}}', b'"}}} {}'),  # two objects on one line
        (b'"}}}\n', b'"}}}\n\n'),  # an empty line
        (b'"}}}\n', b'"}}}\n \n'),  # a blank line
        (b'"}}}', b'"}}}x'),  # trailing garbage
        (b'"}}}', b'"}}'),  # a line cut short
        (b',"tags":{', b',"tags":{"a":tru,'),  # bad JSON inside a kept point's data
        (b'"data":{', b'"data":{"x":[1,}],'),
        (b'"value":', b'"value":1e999,"v":'),  # out of range
        (b'"value":', b'"value":"1",'),  # not a number
        (b'"data":{', b'"data":[{'),  # data not an object
    ]:
        changed = points[:duration] + points[duration:].replace(old, new, 1)
        assert fast(changed) is None, new
    # The data of lines perfdash does not keep is checked as well (left as bytes, not read).
    blocked = points.index(b'{"metric":"http_req_blocked"')
    for old, new in [
        (b',"tags":{', b',"tags":{"a":tru,'),
        (b'"data":{', b'"data":{"x":[1,}],'),
        (b'"}}}', b'"}}'),
        (b'"}}}', b'"}}}x'),
    ]:
        changed = points[:blocked] + points[blocked:].replace(old, new, 1)
        assert fast(changed) is None, new
    # A name written with an escape is still that name: read, not missed.
    escaped = points.replace(b'"metric":"http_req_duration"', b'"metric":"http_req_d\\u0075ration"')
    found = fast(escaped)
    assert found is not None and len(list(each_sample(found))) == len(
        list(each_sample(fast(points) or []))
    )


@pytest.mark.parametrize(
    ("moments", "minutes"),
    [
        # one UTC minute, written in two offsets: a time's second and microsecond are UTC's
        (["2026-11-01T04:00:01.25Z", "2026-11-01T09:30:02.000001+05:30"], [4 * 60]),
        # across a minute's end, out of order
        (
            [
                "2026-11-01T09:29:59.999999+05:30",
                "2026-11-01T09:30:00.000001+05:30",
                "2026-11-01T04:00:00.5Z",
                "2026-11-01T09:29:59.25+05:30",
            ],
            [3 * 60 + 59, 4 * 60],
        ),
    ],
)
def test_the_fast_reader_puts_points_in_utc_minutes_as_the_line_reader_times_them(
    moments: list[str], minutes: list[int]
) -> None:
    lines = [
        f'{{"metric":"http_req_duration","type":"Point","data":{{"time":"{moment}",'
        f'"value":{index}}}}}'
        for index, moment in enumerate(moments)
    ]
    data = ("\n" + "\n".join(lines) + "\n").encode()
    piece = k6_format._Piece(data, 0, len(data))
    fast = k6_format._fast(piece, len(lines))
    assert fast is not None
    day = datetime(2026, 11, 1, tzinfo=UTC).timestamp()
    assert [(b.minute / 1e6 - day) / 60 for b in fast] == minutes
    assert all(0 <= offset < 60_000_000 for b in fast for offset in b.offsets)
    mine = sorted((s.value, s.ts) for s in each_sample(fast))
    theirs = sorted(
        (s.value, s.ts) for s in each_sample(k6_format._slow(Path("k6.json"), 1, piece))
    )
    assert [v for v, _ in mine] == [v for v, _ in theirs] == list(range(len(moments)))
    for (_, a), (_, b) in zip(mine, theirs, strict=True):
        assert a == pytest.approx(b, abs=1e-6)


def test_k6_lines_in_another_key_order_are_read_too(tmp_path: Path) -> None:
    path = tmp_path / "reordered.json"
    path.write_text(
        '{"type":"Point","data":{"tags":{"value":"9"},"value":42.5,'
        '"time":"2024-05-06T09:30:00.123456789Z"},"metric":"http_req_duration"}\n'
        '{"data":{"time":"2024-05-06T09:30:00Z","value":1},"metric":"http_req_failed",'
        '"type":"Point"}\n'
    )
    recs = records(path, "k6")
    assert series(recs, LATENCY) == [42.5] and series(recs, FAILED) == [1.0]
    assert times(recs) == [pytest.approx(1714987800.123456789)]


def test_k6_summary_export_and_handle_summary_report_failed_thresholds() -> None:
    for name in ("summary-export.json", "handle-summary.json"):
        notes = [r.value for r in records(FIXTURES / "k6" / name) if isinstance(r, Meta)]
        assert "k6 threshold failed: http_req_duration p(95)<15" in notes, name
        assert "k6 threshold failed: http_req_duration p(99)<1000" not in notes, name


def test_go_names_keep_their_own_dash_numbers() -> None:
    def names(name: str) -> set[str]:
        recs = records(FIXTURES / "go" / name)
        return {r.series.rsplit(".", 1)[0] for r in each_sample(recs)}

    expected = {"BenchmarkSort/len-100", "BenchmarkSort/len-10000", "BenchmarkEncode"}
    assert names("gobench.txt") == expected  # GOMAXPROCS=2: "-2" removed from every name
    assert names("gobench.json") == expected
    assert names("gobench-cpu1.txt") == expected  # no suffix: len-100 stays len-100
    assert names("gobench-cpu1-2.txt") == expected | {f"{n}-2" for n in expected}


def test_go_json_events_give_the_same_results_as_the_text() -> None:
    recs = records(FIXTURES / "go" / "gobench.json")
    assert len(series(recs, "BenchmarkSort/len-100.ns/op")) == 3
    assert {r.key for r in recs if isinstance(r, Meta)} >= {"env.cpu", "env.gomaxprocs"}


# -- integrity --------------------------------------------------------------------------------


def _copy(tmp_path: Path, source: Path, old: str, new: str) -> tuple[Path, int]:
    text = source.read_text()
    assert old in text
    path = tmp_path / source.name
    path.write_text(text.replace(old, new, 1))
    line = next(
        i for i, t in enumerate(path.read_text().splitlines(), 1) if new.split("\n")[0] in t
    )
    return path, line


def _k6_point(metric: str, value: str) -> str:
    return next(
        line for line in K6_RUN.read_text().splitlines()
        if line.startswith(f'{{"metric":"{metric}","type":"Point"')
        and f'"value":{value},' in line
    )  # fmt: skip


@pytest.mark.parametrize(
    ("replace", "message"),
    [
        (('"value":', '"value":"slow",'), "data.value: expected a number"),
        (('"value":', '"value":1e999,'), "data.value: expected a finite number"),
        (('"value":', '"value":-1,'), "data.value: expected a duration (0 or more)"),
        (('"time":"2026', '"time":"0000'), "data.time: expected an ISO 8601 time"),
        (('"time":"2026', '"time":"9999'), "not a time between 2000 and 2100"),
        (("}}}", "}}"), "not a complete JSON object"),
    ],
)
def test_a_bad_kept_k6_point_names_its_line(
    tmp_path: Path, replace: tuple[str, str], message: str
) -> None:
    lines = K6_RUN.read_text().splitlines(keepends=True)
    index = max(i for i, t in enumerate(lines) if t.startswith('{"metric":"http_req_duration"'))
    old, new = replace
    if old == '"value":':
        head, rest = lines[index].split('"value":', 1)
        lines[index] = head + new + rest.split(",", 1)[1]
    else:
        lines[index] = lines[index].replace(old, new, 1)
    path = tmp_path / "run.json"
    path.write_text("".join(lines))
    with pytest.raises(ResultFileError) as caught:
        records(path, "k6")
    assert caught.value.line == index + 1
    assert message in caught.value.message


def test_a_broken_line_of_a_metric_perfdash_does_not_keep_is_an_error(tmp_path: Path) -> None:
    lines = K6_RUN.read_text().splitlines(keepends=True)
    index = max(i for i, t in enumerate(lines) if '"metric":"data_received","type"' in t)
    lines[index] = lines[index][:60] + "\n"  # cut mid-object
    path = tmp_path / "run.json"
    path.write_text("".join(lines))
    with pytest.raises(ResultFileError) as caught:
        records(path, "k6")
    assert caught.value.line == index + 1
    assert "not a complete JSON object" in caught.value.message


@pytest.mark.parametrize("name", ["run.json", "run.csv", "run.json.gz"])
def test_a_k6_file_cut_mid_line_is_refused(tmp_path: Path, name: str) -> None:
    data = (FIXTURES / "k6" / name).read_bytes()
    if name.endswith(".gz"):
        data = gzip.decompress(data)
    cut = data[: data.rfind(b"\n", 0, len(data) // 2) + 40]
    path = tmp_path / name
    path.write_bytes(gzip.compress(cut) if name.endswith(".gz") else cut)
    with pytest.raises(ResultFileError, match="cut short"):
        records(path)


def test_a_gzip_file_cut_short_is_refused(tmp_path: Path) -> None:
    data = (FIXTURES / "k6" / "run.json.gz").read_bytes()
    path = tmp_path / "run.json.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ResultFileError, match="gzip data is damaged or cut short"):
        records(path, "k6")


@pytest.mark.parametrize(
    ("fixture", "old", "new", "message"),
    [
        ("k6/run.csv", "http_req_duration,", "http_req_duration,99999999999999999999", "timestamp"),
        ("jmeter/results-header.jtl", ",true,", ",maybe,", "success: expected true or false"),
        ("jmeter/results.xml.jtl", 's="true"', 's="yes"', "expected true or false"),
        ("jmeter/results.xml.jtl", 't="', 't="-', "expected a duration"),
        ("hyperfine/hyperfine.json", '"times": [\n', '"times": [\n  -1,\n', "times: expected"),
        ("locust/locust.json", '"num_requests": ', '"num_requests": -', "num_requests"),
    ],
)
def test_bad_values_name_file_and_line(
    tmp_path: Path, fixture: str, old: str, new: str, message: str
) -> None:
    path, line = _copy(tmp_path, FIXTURES / fixture, old, new)
    with pytest.raises(ResultFileError) as caught:
        records(path, detect_format(FIXTURES / fixture))
    assert str(caught.value).startswith(f"{path}:")
    assert message in caught.value.message
    if not fixture.endswith(".json"):
        assert caught.value.line == line


def test_a_csv_row_missing_columns_is_an_error(tmp_path: Path) -> None:
    lines = (FIXTURES / "k6" / "run.csv").read_text().splitlines(keepends=True)
    lines[7] = lines[7].split(",", 3)[0] + ",1\n"  # a row of another metric, cut short
    path = tmp_path / "run.csv"
    path.write_text("".join(lines))
    with pytest.raises(ResultFileError, match=r"run.csv:8: expected 19 columns, found 2"):
        records(path)


def test_a_one_gib_line_is_refused_without_reading_it_into_memory(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as handle:
        handle.write(b'{"type":"Point","metric":"x","data":{"v":"')
        handle.truncate(1 << 30)  # sparse: 1 GiB of zero bytes, no newline
    for fmt in ("k6", "k6-csv", "jmeter", "gobench", "wrk", "locust"):
        with pytest.raises(ResultFileError, match=r"longer than 1 MiB|not|no |empty"):
            records(path, fmt)
    os.remove(path)


def test_summary_documents_have_a_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "summary.json"
    with path.open("wb") as handle:
        handle.write(b"{")
        handle.truncate(65 << 20)
    with pytest.raises(ResultFileError, match="over 64 MiB"):
        records(path, "k6-summary")


def test_a_dtd_in_a_jtl_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomb.jtl"
    path.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE t [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>\n<testResults version="1.2">&b;</testResults>\n'
    )
    with pytest.raises(ResultFileError, match="DTDs and entities are not allowed"):
        records(path, "jmeter")


@pytest.fixture
def parallel_k6(monkeypatch: pytest.MonkeyPatch) -> None:
    """Big plain k6 files are read by worker processes, a part each: here every file is
    "big" and parts are 64 KiB, so that a small file spans many parts."""
    monkeypatch.setattr(k6_format, "PARALLEL_FROM", 0)
    monkeypatch.setattr(k6_format, "PART", 64 << 10)
    monkeypatch.setenv("PERFDASH_JOBS", "2")


def _real_shaped(tmp_path: Path, requests: int = 400) -> Path:
    path = tmp_path / "run.json"
    write_k6_real_shape(path, requests)
    return path


def _sequential(path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Record]:
    with monkeypatch.context() as patch:
        patch.setattr(k6_format, "PARALLEL_FROM", 1 << 62)
        return records(path, "k6")


def _sorted_samples(recs: list[Record]) -> list[tuple[str, float | None, float]]:
    return sorted((s.series, s.ts, s.value) for s in each_sample(recs))


def test_workers_reading_parts_give_every_sample_once(
    parallel_k6: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _real_shaped(tmp_path)
    assert path.stat().st_size > 10 * k6_format.PART
    parts = []
    real_parts = k6_format._parts

    def counted(*args: Any) -> Iterator[Any]:
        for part in real_parts(*args):
            parts.append(part.lines)
            yield part

    monkeypatch.setattr(k6_format, "_parts", counted)
    parallel = _sorted_samples(records(path, "k6"))
    assert len(parts) > 10 and sum(parts) == path.read_bytes().count(b"\n")
    assert parallel == _sorted_samples(_sequential(path, monkeypatch))
    assert len(parallel) == 800


@pytest.mark.parametrize("where", [0.1, 0.5, 0.97])
def test_a_bad_line_read_by_a_worker_names_its_line_in_the_file(
    parallel_k6: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: float
) -> None:
    lines = _real_shaped(tmp_path).read_text().splitlines(keepends=True)
    index = int(len(lines) * where)
    lines[index] = lines[index][: len(lines[index]) // 2] + "\n"  # cut mid-object
    path = tmp_path / "bad.json"
    path.write_text("".join(lines))
    with pytest.raises(ResultFileError) as parallel:
        records(path, "k6")
    with pytest.raises(ResultFileError) as sequential:
        _sequential(path, monkeypatch)
    assert parallel.value.line == sequential.value.line == index + 1
    assert parallel.value.message == sequential.value.message


def test_a_file_cut_short_or_a_huge_line_is_refused_by_the_workers_too(
    parallel_k6: None, tmp_path: Path
) -> None:
    data = _real_shaped(tmp_path).read_bytes()
    cut = tmp_path / "cut.json"
    cut.write_bytes(data[:-100])
    with pytest.raises(ResultFileError, match="cut short") as caught:
        records(cut, "k6")
    assert caught.value.line == data.count(b"\n")
    huge = tmp_path / "huge.json"
    middle = data.index(b"\n", len(data) // 2) + 1
    huge.write_bytes(
        data[:middle] + b'{"metric":"x","v":"' + b"a" * (3 << 20) + b'"}\n' + data[middle:]
    )
    with pytest.raises(ResultFileError, match="longer than 1 MiB") as long_line:
        records(huge, "k6")
    assert long_line.value.line == data.count(b"\n", 0, middle) + 1
