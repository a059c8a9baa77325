"""``perfdash test`` on a large fleet: from cold, after one service changed, unchanged.

For N services x 4 SLOs (``testing.fleet``), as a user or CI would, with the real CLI
and the real promtool:

1. ``perfdash build``, then ``perfdash test`` with an empty record (cold: every shape's
   promtool test runs once, every rule file is checked);
2. one service's objective changed, ``perfdash build`` + ``perfdash test`` (timed: test);
3. ``perfdash test`` again, nothing changed.

Each step prints its wall time and how many promtool tests ran.

    python -m benchmarks.test_scale 1000
    python -m benchmarks.test_scale 1000 --compare c8f911c   # and the no-op at c8f911c

It also prints the CPU of the model fingerprints the no-op computes (one process).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from perfdash.spec.fleet import load_fleet
from perfdash.verify.fingerprint import code_fingerprint, model_fingerprint
from testing.fleet import write_fleet

RAN = re.compile(r"promtool ran (\d+) tests")
REPO = Path(__file__).resolve().parent.parent


def perfdash(
    args: list[str], cwd: Path, record: Path, *, source: Path | None = None
) -> tuple[float, str]:
    """Run the real CLI (perfdash from ``source`` when given); its wall time and stdout."""
    environment = {**os.environ, "XDG_CACHE_HOME": str(record)}
    if source is not None:
        environment["PYTHONPATH"] = str(source)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "perfdash", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env=environment,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(
            f"perfdash {' '.join(args)} exited {done.returncode}:\n{done.stderr[-3000:]}"
        )
    return seconds, done.stdout


def fingerprint_cost(root: Path) -> str:
    """CPU of the model fingerprints the no-op step computes (one process, median of 3)."""
    fleet = load_fleet([root / "slos"], root=root, jobs=1)
    code = code_fingerprint()
    times = []
    for _ in range(3):
        started = time.process_time()
        for service in fleet.services:
            model_fingerprint(service, code)
        times.append(time.process_time() - started)
    median = sorted(times)[1]
    return f"model fingerprints of {len(fleet.services)} services: {median:.3f} s of CPU"


def compare_no_op(root: Path, revision: str) -> str:
    """``perfdash test`` with nothing changed, this perfdash and ``revision``'s
    interleaved, 3 runs each, on the same fleet and record: the medians."""
    source = root / "at-revision"
    source.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", revision, "perfdash"], capture_output=True
    )
    if archive.returncode != 0:
        raise SystemExit(f"--compare {revision}: {archive.stderr.decode().strip()}")
    subprocess.run(["tar", "-x", "-C", str(source)], input=archive.stdout, check=True)
    ours, theirs = [], []
    for _ in range(3):
        ours.append(perfdash(["test"], root, root / "cache")[0])
        theirs.append(perfdash(["test"], root, root / "cache", source=source)[0])
    return (
        f"nothing changed, interleaved, median of 3: this perfdash {sorted(ours)[1]:.2f} s, "
        f"{revision} {sorted(theirs)[1]:.2f} s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("services", nargs="?", type=int, default=1000)
    parser.add_argument(
        "--compare",
        metavar="REV",
        help="also time the no-op at this git revision, interleaved (one that has the "
        "test record, e.g. c8f911c; an older one would run every test)",
    )
    args = parser.parse_args(argv)
    commit = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    print(
        f"{args.services} services x 4 SLOs; perfdash {commit}; {os.cpu_count()} CPUs; "
        f"load average {', '.join(f'{x:.1f}' for x in os.getloadavg())} at start\n"
    )
    print("| step | wall s | promtool test runs |\n| --- | --- | --- |")
    with tempfile.TemporaryDirectory(prefix="perfdash-test-scale-") as tmp:
        root = Path(tmp)
        write_fleet(args.services, root / "slos")
        perfdash(["build"], root, root / "cache")
        for step in ("cold: empty record", "one service changed", "nothing changed"):
            if step == "one service changed":
                files = sorted((root / "slos").glob("*.yaml"))
                declaration = files[len(files) // 2]
                text = declaration.read_text()
                declaration.write_text(text.replace("objective: 99.9\n", "objective: 99.8\n", 1))
                perfdash(["build"], root, root / "cache")
            seconds, out = perfdash(["test"], root, root / "cache")
            runs = RAN.search(out)
            print(f"| {step} | {seconds:.1f} | {runs.group(1) if runs else '?'} |", flush=True)
        print(f"\n{fingerprint_cost(root)}")
        if args.compare:
            print(compare_no_op(root, args.compare))
    print(f"\nload average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
