"""`upwatch status` names the database it reads and never creates one."""

from __future__ import annotations

from pathlib import Path

import pytest

from upwatch.cli import main


def test_status_on_a_missing_sqlite_file_names_it_and_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "upwatch.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{missing}")
    monkeypatch.chdir(tmp_path)
    assert main(["status", "-c", str(tmp_path / "absent.yaml")]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f"upwatch: no database at {missing}: run `upwatch migrate` or start `upwatch run` first\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_status_names_the_database_it_read_without_its_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "upwatch.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{database}")
    assert main(["migrate"]) == 0
    capsys.readouterr()
    assert main(["status", "-c", str(tmp_path / "absent.yaml")]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"database: sqlite+aiosqlite:///{database}"
    assert "(no monitors yet" in out
