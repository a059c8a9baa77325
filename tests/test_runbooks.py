"""perfdash runbooks: stubs with a section per SLO, never overwriting."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import MINIMAL_SERVICE, run_cli, write_declaration


def test_runbooks_writes_a_stub_per_service_with_a_section_per_slo(tmp_path: Path) -> None:
    write_declaration(tmp_path / "slos", "checkout.yaml", MINIMAL_SERVICE)
    result = run_cli(["runbooks", "--grafana-url", "https://grafana.example.com/"], cwd=tmp_path)
    assert result.exit_code == 0
    assert result.stdout == "wrote docs/runbooks/checkout.md\n"
    text = (tmp_path / "docs/runbooks/checkout.md").read_text()
    assert "\n## availability\n" in text  # the anchor alerts link to: <runbook>#availability
    assert "[checkout SLOs](https://grafana.example.com/d/pd-checkout)" in text
    assert (
        "| page 1h/5m | burn > 14.4x (error ratio > 1.44%) over both windows | 2% | 52s | 2d2h |"
        in text
    )
    assert 'slo:sli_error:ratio_rate1h{service="checkout", slo="availability"}' in text
    assert "43m12s of total outage per 30d" in text


def test_runbooks_never_overwrites_an_existing_runbook(tmp_path: Path) -> None:
    write_declaration(tmp_path / "slos", "checkout.yaml", MINIMAL_SERVICE)
    (tmp_path / "docs/runbooks").mkdir(parents=True)
    (tmp_path / "docs/runbooks/checkout.md").write_text("# ours\n")
    result = run_cli(["runbooks"], cwd=tmp_path)
    assert result.stdout == "kept docs/runbooks/checkout.md (exists)\n"
    assert (tmp_path / "docs/runbooks/checkout.md").read_text() == "# ours\n"


def test_runbooks_takes_a_users_template_and_reports_its_errors(tmp_path: Path) -> None:
    write_declaration(tmp_path / "slos", "checkout.yaml", MINIMAL_SERVICE)
    (tmp_path / "mine.md.j2").write_text(
        "{{ service.name }}: {% for s in slos %}{{ s.slo.name }}{% endfor %}\n"
    )
    assert run_cli(["runbooks", "--template", "mine.md.j2"], cwd=tmp_path).exit_code == 0
    assert (tmp_path / "docs/runbooks/checkout.md").read_text() == "checkout: availability\n"
    (tmp_path / "bad.md.j2").write_text("{{ nope }}\n")
    (tmp_path / "docs/runbooks/checkout.md").unlink()
    result = run_cli(["runbooks", "--template", "bad.md.j2"], cwd=tmp_path)
    assert result.exit_code == 1
    assert result.stderr == "Error: bad.md.j2: template: 'nope' is undefined\n"
