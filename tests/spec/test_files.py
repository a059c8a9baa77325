"""Finding and reading declaration files: links confined, sizes checked before reading."""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path

import pytest

from perfdash.errors import Problem, SpecError
from perfdash.spec import load_fleet
from perfdash.spec.files import MAX_FILE_BYTES, declaration_candidates
from tests.helpers import MINIMAL_SERVICE, write_declaration


def test_a_link_inside_the_folder_is_read_once_under_its_real_name(tmp_path: Path) -> None:
    slos = tmp_path / "slos"
    write_declaration(slos / "real", "checkout.yaml", MINIMAL_SERVICE)
    (slos / "alias.yaml").symlink_to(slos / "real" / "checkout.yaml")
    (slos / "again").symlink_to(slos / "real")  # a folder link inside: not walked twice
    fleet = load_fleet([slos], root=tmp_path)
    assert [s.source for s in fleet.services] == ["slos/real/checkout.yaml"] or [
        s.source for s in fleet.services
    ] == ["slos/alias.yaml"]


def test_links_leaving_the_folder_are_refused_without_being_opened(tmp_path: Path) -> None:
    secret = tmp_path / "secret.yaml"
    secret.write_text("password: hunter2\n")
    secret.chmod(0)  # even if it were opened (root reads it anyway), nothing is read here
    slos = tmp_path / "slos"
    slos.mkdir()
    (slos / "leak.yaml").symlink_to(secret)
    (slos / "etc").symlink_to("/etc")
    found = declaration_candidates([slos], root=tmp_path)
    assert found.candidates == []
    assert found.problems == [
        Problem("slos/etc", 0, 0, "", f"symbolic link to a folder outside {slos}/; not followed"),
        Problem("slos/leak.yaml", 0, 0, "", f"symbolic link to a file outside {slos}/; not read"),
    ]


def test_a_file_named_on_the_command_line_is_read_even_through_a_link(tmp_path: Path) -> None:
    write_declaration(tmp_path / "elsewhere", "checkout.yaml", MINIMAL_SERVICE)
    (tmp_path / "link.yaml").symlink_to(tmp_path / "elsewhere" / "checkout.yaml")
    fleet = load_fleet([tmp_path / "link.yaml"], root=tmp_path)
    assert [s.name for s in fleet.services] == ["checkout"]


def test_a_fifo_is_refused_not_waited_on(tmp_path: Path) -> None:
    slos = tmp_path / "slos"
    slos.mkdir()
    os.mkfifo(slos / "pipe.yaml")
    os.mkfifo(tmp_path / "named.yaml")
    with pytest.raises(SpecError) as caught:
        load_fleet([slos, tmp_path / "named.yaml"], root=tmp_path)
    assert caught.value.problems == (
        Problem("named.yaml", 0, 0, "", "not a regular file; not read"),
        Problem("slos/pipe.yaml", 0, 0, "", "not a regular file; not read"),
    )


def test_a_50_mib_declaration_is_refused_before_a_byte_of_it_is_read(tmp_path: Path) -> None:
    slos = tmp_path / "slos"
    slos.mkdir()
    with (slos / "huge.yaml").open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)  # sparse: 50 MiB long, nothing written
    tracemalloc.start()
    try:
        with pytest.raises(SpecError) as caught:
            load_fleet([slos], root=tmp_path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert caught.value.problems == (
        Problem(
            "slos/huge.yaml",
            0,
            0,
            "",
            "file is 50.0 MiB, more than the 2 MiB a declaration file may have; not read "
            "(split it into several files)",
        ),
    )
    assert peak < MAX_FILE_BYTES  # the file was never read whole


def test_a_file_at_the_limit_is_read(tmp_path: Path) -> None:
    text = MINIMAL_SERVICE + "#" * (MAX_FILE_BYTES - len(MINIMAL_SERVICE) - 1) + "\n"
    write_declaration(tmp_path / "slos", "checkout.yaml", text)
    assert len(load_fleet([tmp_path / "slos"], root=tmp_path).services) == 1
