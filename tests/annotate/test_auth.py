"""The annotators file: scrypt hashes only, checks, and a hand-edited file's clear error."""

from __future__ import annotations

import json

import pytest

from tvhighlights.annotate.auth import Annotators, add_annotator
from tvhighlights.errors import AnnotatorsFileError, InvalidArgumentError


def test_add_and_check(tmp_path):
    path = add_annotator(tmp_path / "users.json", "alice", "s3cret pass")
    add_annotator(path, "bob", "other")
    text = path.read_text()
    assert "s3cret" not in text and "other" not in text
    entry = json.loads(text)["annotators"]["alice"]
    assert set(entry) == {"scrypt", "salt", "n", "r", "p"}
    check = Annotators(path)
    assert check.names == ["alice", "bob"]
    assert check("alice", "s3cret pass") and check("bob", "other")
    assert not check("alice", "other") and not check("carol", "x") and not check("alice", "")
    add_annotator(path, "alice", "new one")  # a new password replaces the old
    assert Annotators(path)("alice", "new one") and not Annotators(path)("alice", "s3cret pass")


def test_bad_names_and_passwords(tmp_path):
    with pytest.raises(InvalidArgumentError, match="annotator name"):
        add_annotator(tmp_path / "u.json", "../root", "pw")
    with pytest.raises(InvalidArgumentError, match="password"):
        add_annotator(tmp_path / "u.json", "alice", "")
    assert not (tmp_path / "u.json").exists()


def test_a_hand_edited_file_names_its_problem(tmp_path):
    path = add_annotator(tmp_path / "users.json", "alice", "pw")
    lines = path.read_text().splitlines()
    lines.insert(3, "  oops,")
    path.write_text("\n".join(lines))
    with pytest.raises(AnnotatorsFileError, match=r"(?s)users.json.*line 4: not JSON"):
        Annotators(path)
    path.write_text(json.dumps({"annotators": {"alice": {"scrypt": "zz"}, "../x": {}}}))
    with pytest.raises(AnnotatorsFileError) as e:
        Annotators(path)
    assert "annotator 'alice': expected the fields" in str(e.value)
    assert "annotator '../x'" in str(e.value)
    with pytest.raises(AnnotatorsFileError, match="file not found"):
        Annotators(tmp_path / "none.json")
