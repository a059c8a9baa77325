"""Model fingerprints: equal only for models the generators cannot tell apart."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import sysconfig
from decimal import Decimal
from pathlib import Path

from perfdash.model.fleet import Service
from perfdash.spec.fleet import load_fleet
from perfdash.verify.fingerprint import GENERATION_LIBRARIES, code_fingerprint, model_fingerprint
from tests.conftest import REPO
from tests.helpers import MINIMAL_SERVICE, write_declaration


def minimal_service(tmp_path: Path) -> Service:
    path = write_declaration(tmp_path / "slos", "checkout.yaml", MINIMAL_SERVICE)
    (service,) = load_fleet([path], root=tmp_path, jobs=1).services
    return service


def test_a_change_anywhere_in_the_model_changes_the_fingerprint(tmp_path: Path) -> None:
    service = minimal_service(tmp_path)
    code = code_fingerprint()
    first = model_fingerprint(service, code)
    assert first is not None and len(first) == 64
    assert model_fingerprint(minimal_service(tmp_path / "again"), code) == first
    slo = service.slos[0]
    changed = [
        dataclasses.replace(service, name="checkout2"),
        dataclasses.replace(service, source="slos/other.yaml"),
        dataclasses.replace(service, slos=(dataclasses.replace(slo, objective=Decimal("99.8")),)),
        dataclasses.replace(service, slos=(dataclasses.replace(slo, objective=Decimal("99.90")),)),
        dataclasses.replace(service, tier=service.tier + 1),
        dataclasses.replace(service, labels=(*service.labels, ("a", "b"))),
    ]
    prints = {model_fingerprint(other, code) for other in changed}
    assert first not in prints and len(prints) == len(changed)
    assert model_fingerprint(service, "another perfdash") != first


def test_a_value_it_cannot_encode_exactly_gives_no_fingerprint(tmp_path: Path) -> None:
    service = dataclasses.replace(minimal_service(tmp_path), tier=1.0)  # type: ignore[arg-type]
    assert model_fingerprint(service, code_fingerprint()) is None


def test_the_generators_use_no_library_outside_the_fingerprint(tmp_path: Path) -> None:
    """Every third-party module the rule and test generators import, or load while
    generating, is one whose version the fingerprint holds (else an upgrade of it
    could change the output unseen)."""
    path = write_declaration(tmp_path / "slos", "checkout.yaml", MINIMAL_SERVICE)
    script = f"""
import json, sys
def loaded():
    return {{n: getattr(m, "__file__", None) for n, m in sys.modules.items()}}
import perfdash.prometheus.rules, perfdash.prometheus.rule_tests, perfdash.verify.units
imported = loaded()
from perfdash.spec.fleet import load_fleet
(service,) = load_fleet([{str(path)!r}], jobs=1).services
before = loaded()
perfdash.prometheus.rules.rule_file(service, perfdash.prometheus.rules.service_groups(service))
assert all(perfdash.verify.units.slo_unit(service, slo) for slo in service.slos)
print(json.dumps([imported, {{n: f for n, f in loaded().items() if n not in before}}]))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True
    )
    site = (sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"])
    used = {
        name.split(".")[0]
        for modules in json.loads(done.stdout)
        for name, file in modules.items()
        if file and file.startswith(site) and not name.startswith("_")
    }
    assert used == set(GENERATION_LIBRARIES)
