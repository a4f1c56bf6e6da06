"""Whole-or-nothing writes: what they leave has the permissions a plain open() or mkdir() would give."""

import os
import stat

import pytest

from erniem.files import staged_directory, write_text


def test_written_files_and_folders_get_the_usual_permissions(tmp_path):
    umask = os.umask(0)
    os.umask(umask)
    write_text(tmp_path / "a.txt", "x")
    (tmp_path / "b.txt").write_text("x")
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == stat.S_IMODE((tmp_path / "b.txt").stat().st_mode)
    with staged_directory(tmp_path / "model") as staging:
        (staging / "config.json").write_text("{}")
    (tmp_path / "plain").mkdir()
    assert stat.S_IMODE((tmp_path / "model").stat().st_mode) == stat.S_IMODE((tmp_path / "plain").stat().st_mode)
    assert stat.S_IMODE((tmp_path / "model").stat().st_mode) == 0o777 & ~umask


def test_a_failed_write_leaves_the_old_file(tmp_path):
    write_text(tmp_path / "a.txt", "old")
    with pytest.raises(TypeError):
        write_text(tmp_path / "a.txt", None)
    assert (tmp_path / "a.txt").read_text() == "old" and os.listdir(tmp_path) == ["a.txt"]
