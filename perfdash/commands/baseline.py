"""``perfdash baseline``: store load-test and benchmark runs and compare them (CLI only).

Command bodies turn options into values, call one library function and print; errors are
``PerfdashError``s that ``perfdash.cli`` maps to exit codes. What they print carries values
from the store, the result files and the command line (benchmark and branch names, notes,
paths): it goes through ``perfdash.commands.options.echo``, which shows control characters
instead of letting the terminal act on them; ``--format json`` is printed as it is (exact
JSON, which escapes them itself).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

import click

from perfdash.baseline.formats import FORMATS
from perfdash.commands.options import echo
from perfdash.durations import Duration
from perfdash.errors import RegressionFound

F = TypeVar("F", bound=Callable[..., Any])
EXIT_CODES_HELP = """\b
Exit status:
  0    success (compare: no regression, or --fail-on-regression not given)
  1    bad input or files, the database refused, no baseline, or (with
       --fail-on-regression) a regression
  2    usage error
  70   internal error (a bug: please report it)
  130  interrupted
"""


def dsn_option(function: F) -> F:
    return click.option(
        "--dsn",
        envvar="PERFDASH_DSN",
        show_envvar=True,
        help="PostgreSQL connection string (keep the password in PERFDASH_DSN, ~/.pgpass or "
        "PGPASSWORD, not on the command line). Without one: the local store in "
        "$PERFDASH_HOME (default ~/.local/share/perfdash), needs perfdash[local].",
    )(function)


@contextmanager
def _open(dsn: str | None, *, initialise: bool = True) -> Iterator[Any]:
    """The store: the server named by --dsn/PERFDASH_DSN, else the local one."""
    from perfdash.baseline.local import open_store

    with open_store(dsn, os.environ, initialise=initialise) as opened:
        if opened.local is not None and opened.local.created:
            echo(f"note: created the local store in {opened.local.home}", err=True)
        yield opened


@click.group(epilog=EXIT_CODES_HELP)
def baseline() -> None:
    """Store load-test and benchmark results in PostgreSQL and compare runs.

    The store is the PostgreSQL (or TimescaleDB) named by PERFDASH_DSN. Without one,
    perfdash uses a local PostgreSQL of its own (pip install 'perfdash[local]'), kept in
    $PERFDASH_HOME (default ~/.local/share/perfdash), started for each command and stopped
    after it: nothing to set up to try it.

    \b
    Example:
      perfdash baseline ingest --benchmark checkout-api --branch main run.json
      export PERFDASH_DSN=postgresql://perfdash@db.example.com/perf
      perfdash baseline init
      perfdash baseline compare --benchmark checkout-api --branch my-change
    """


@baseline.command(epilog=EXIT_CODES_HELP)
@dsn_option
def init(dsn: str | None) -> None:
    """Create or upgrade the store's schema (idempotent) and report the storage mode:
    TimescaleDB when the server preloads the extension, plain PostgreSQL otherwise (and
    why, e.g. how to preload an extension that is installed but not loaded). The local
    store (no PERFDASH_DSN) sets itself up; init reports where it is.

    \b
    Example:
      PERFDASH_DSN=postgresql://perfdash@localhost/perf perfdash baseline init
      perfdash baseline init     # the local store
    """
    with _open(dsn, initialise=False) as opened:
        report = opened.store.init()
        version = opened.store.server_version
    if opened.local is not None:
        echo(
            f"store: local PostgreSQL {version} in {opened.local.home} (no PERFDASH_DSN; "
            "started for each command, stopped after)"
        )
    done = f"applied {', '.join(map(str, report.applied))}" if report.applied else "up to date"
    echo(f"schema version {report.version}: {done}")
    echo(f"storage: {report.mode_note}")


def _env_pairs(values: tuple[str, ...]) -> dict[str, str]:
    pairs = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {item!r}", param_hint="--env")
        pairs[key] = value
    return pairs


@baseline.command(epilog=EXIT_CODES_HELP)
@dsn_option
@click.option("--benchmark", required=True, help="Name the run is stored under.")
@click.option("--format", "format_name", type=click.Choice(sorted(FORMATS)),
              help="The tool's output format (default: detected from the files).")  # fmt: skip
@click.option("--branch", help="Git branch the run measured (pytest-benchmark files say it).")
@click.option("--git-sha", help="Commit the run measured.")
@click.option("--env", "env", multiple=True, metavar="KEY=VALUE",
              help="Context of the run (repeatable): machine, region, ...")  # fmt: skip
@click.option("--config", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="The test's configuration file: its hash is stored with the run.")  # fmt: skip
@click.argument("files", nargs=-1, required=True,
                type=click.Path(dir_okay=False, exists=True, path_type=Path))  # fmt: skip
def ingest(
    dsn: str | None,
    benchmark: str,
    format_name: str | None,
    branch: str | None,
    git_sha: str | None,
    env: tuple[str, ...],
    config: Path | None,
    files: tuple[Path, ...],
) -> None:
    """Store one run: FILES are one tool's output for one run (Locust: stats and history).

    All or nothing: a malformed file (reported as FILE:LINE) stores nothing. Ingesting the
    same content again is a no-op that says so.

    \b
    Example:
      k6 run --out json=run.json script.js
      perfdash baseline ingest --benchmark checkout-api --branch main --git-sha "$SHA" run.json
      perfdash baseline ingest --benchmark codec --format gobench bench.txt
    """
    from perfdash.baseline.workflow import ingest_files

    pairs = _env_pairs(env)
    with _open(dsn) as opened:
        result = ingest_files(opened.store, benchmark=benchmark, paths=files, format_name=format_name,
                              branch=branch, git_sha=git_sha, env=pairs, config=config)  # fmt: skip
    if result.duplicate:
        echo(f"already ingested as run {result.run_id} of {benchmark}: nothing stored")
        return
    for note in result.notes:
        echo(f"note: {note}", err=True)
    when = result.started_at.isoformat() if result.started_at else "unknown"
    echo(
        f"stored run {result.run_id} of {benchmark}: {result.samples} samples, "
        f"{result.metrics} metrics, started {when}"
    )


def _thresholds(values: tuple[str, ...]) -> dict[str, Decimal]:
    out = {}
    for item in values:
        metric, sep, number = item.partition("=")
        try:
            out[metric] = Decimal(number.rstrip("%"))
        except InvalidOperation:
            sep = ""
        if not sep or not metric:
            raise click.BadParameter(
                f"expected METRIC=PERCENT, got {item!r}", param_hint="--threshold"
            )
    return out


def _window(text: str) -> timedelta:
    try:
        return timedelta(seconds=Duration.parse(text).seconds)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--window") from exc


def _declared(slos: Path | None, benchmark: str) -> tuple[tuple[str, ...], dict[str, Decimal]]:
    """Metrics and thresholds of the declaration's ``baselines:`` entry for the benchmark."""
    from perfdash.baseline.compare import declared_baseline
    from perfdash.spec import load_fleet

    path = slos or (Path("slos") if Path("slos").is_dir() else None)
    if path is None:
        return (), {}
    found = declared_baseline(load_fleet([path]), benchmark)
    return (found.metrics, dict(found.thresholds)) if found else ((), {})


@baseline.command(epilog=EXIT_CODES_HELP)
@dsn_option
@click.option("--benchmark", required=True, help="The benchmark to compare.")
@click.option("--branch", help="Candidate: this branch's runs in the window (default: the latest "
              "run of the baseline branch).")  # fmt: skip
@click.option("--run", "run_ids", multiple=True, type=int, help="Candidate: these run ids.")
@click.option("--baseline-branch", default="main", show_default=True)
@click.option("--baseline-run", "baseline_ids", multiple=True, type=int,
              help="Pin the baseline to these run ids instead of the branch's recent runs.")  # fmt: skip
@click.option("--window", default="7d", show_default=True, help="How far back runs count.")
@click.option("--last", "last", default=20, show_default=True, type=click.IntRange(min=1),
              help="At most this many baseline runs (the newest).")  # fmt: skip
@click.option("--metric", "metrics", multiple=True,
              help="Gate on these metrics (repeatable; default: the declaration's "
              "baselines[].metrics, else p95, error_rate and rps). Every other measured "
              "metric is reported as informative and never fails the comparison.")  # fmt: skip
@click.option("--threshold", "thresholds", multiple=True, metavar="METRIC=PERCENT",
              help="Practical threshold override, e.g. p95=10.")  # fmt: skip
@click.option("--slos", type=click.Path(exists=True, path_type=Path),
              help="Declarations whose baselines: give metrics and thresholds (default: slos/).")  # fmt: skip
@click.option("--format", "fmt", type=click.Choice(["table", "markdown", "json"]), default="table",
              show_default=True)  # fmt: skip
@click.option("--fail-on-regression", is_flag=True, help="Exit 1 when a gate regressed.")
@click.option("--pushgateway", metavar="URL", help="Push the verdict to this Pushgateway.")
@click.option("--record/--no-record", default=True, show_default=True,
              help="Keep the verdict in the store for the dashboards.")  # fmt: skip
def compare(dsn: str | None, benchmark: str, branch: str | None, run_ids: tuple[int, ...],
            baseline_branch: str, baseline_ids: tuple[int, ...], window: str, last: int,
            metrics: tuple[str, ...], thresholds: tuple[str, ...], slos: Path | None, fmt: str,
            fail_on_regression: bool, pushgateway: str | None, record: bool) -> None:  # fmt: skip
    """Is the candidate a regression? Judges the gate metrics run set against run set:
    Welch's t on the runs' log values (a t prediction interval for a single candidate
    run), the error rate on request counts with the runs' overdispersion; one-sided at 5%,
    FDR-adjusted over the gates. A regression is significant and beyond the threshold.

    \b
    Example:
      perfdash baseline compare --benchmark checkout-api --branch my-change --fail-on-regression
      perfdash baseline compare --benchmark checkout-api --run 42 --format markdown
    """
    from perfdash.baseline.push import push_verdict
    from perfdash.baseline.report import render
    from perfdash.baseline.workflow import Selection, compare_benchmark, record_report

    declared_metrics, declared_thresholds = _declared(slos, benchmark)
    selection = Selection(
        benchmark, branch, run_ids, baseline_branch, baseline_ids, _window(window), last,
        metrics=metrics or declared_metrics,
        thresholds={**declared_thresholds, **_thresholds(thresholds)},
    )  # fmt: skip
    with _open(dsn) as opened:
        report = compare_benchmark(opened.store, selection, now=datetime.now(UTC))
        if record:
            record_report(opened.store, report)
    rendered = render(report, fmt)
    if fmt == "json":
        click.echo(rendered, nl=False)  # machine output: exact JSON
    else:
        echo(rendered, nl=False)
    if pushgateway:
        push_verdict(pushgateway, report)
    if fail_on_regression and report.regressions:
        names = ", ".join(v.test.metric for v in report.regressions)
        raise RegressionFound(f"regression in {names} of {benchmark}")


@baseline.command(epilog=EXIT_CODES_HELP)
@dsn_option
@click.option("--benchmark", required=True, help="The benchmark to chart.")
@click.option("--branch", help="Candidate: this branch's runs in the window.")
@click.option("--run", "run_ids", multiple=True, type=int, help="Candidate: these run ids.")
@click.option("--baseline-branch", default="main", show_default=True)
@click.option("--window", default="7d", show_default=True, help="How far back runs count.")
@click.option("--last", "last", default=20, show_default=True, type=click.IntRange(min=1),
              help="At most this many baseline runs (the newest).")  # fmt: skip
@click.option(
    "--metric",
    "metrics",
    multiple=True,
    help="Gate on these metrics, as compare does; every measured metric is charted.",
)
@click.option("--slos", type=click.Path(exists=True, path_type=Path),
              help="Declarations whose baselines: give metrics and thresholds (default: slos/).")  # fmt: skip
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("report.html"), show_default=True, help="The HTML report.")  # fmt: skip
@click.option("--png", is_flag=True, help="Also a screenshot next to it (headless Chromium).")
@click.option("--report-url", help="Where the report will be served, for the Markdown's link "
              "(default: the --out path).")  # fmt: skip
def report(dsn: str | None, benchmark: str, branch: str | None, run_ids: tuple[int, ...],
           baseline_branch: str, window: str, last: int, metrics: tuple[str, ...],
           slos: Path | None, out: Path, png: bool, report_url: str | None) -> None:  # fmt: skip
    """Chart a comparison as an offline HTML page: per metric, every baseline and candidate
    run over time with the baseline band, both run sets' distributions, the verdict and
    its reason. Prints the Markdown verdict, linking to the page.

    \b
    Example:
      perfdash baseline report --benchmark checkout-api --branch my-change --out report.html
      perfdash baseline report --benchmark checkout-api --branch my-change --png \\
          --report-url "$CI_ARTIFACTS/report.html" >> comment.md
    """
    from perfdash.baseline.report import render
    from perfdash.baseline.workflow import Selection, compare_benchmark
    from perfdash.output import write_file
    from perfdash.preview.baseline_report import markdown_with_link, report_height, report_page
    from perfdash.preview.screenshot import screenshot

    declared_metrics, declared_thresholds = _declared(slos, benchmark)
    selection = Selection(benchmark, branch, run_ids, baseline_branch, (), _window(window), last,
                          metrics=metrics or declared_metrics, thresholds=declared_thresholds)  # fmt: skip
    with _open(dsn) as opened:
        compared = compare_benchmark(opened.store, selection, now=datetime.now(UTC))
    link = report_url or str(out)
    write_file(out, report_page(compared, markdown_link=link))
    if png:
        screenshot(out, out.with_suffix(".png"), width=1210, height=report_height(compared))
        echo(f"wrote {out.with_suffix('.png')}", err=True)
    echo(f"wrote {out}", err=True)
    echo(markdown_with_link(render(compared, "markdown"), link), nl=False)
