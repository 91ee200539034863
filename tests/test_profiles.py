import pytest

from collapse_utils import profiles


def test_default_is_book(monkeypatch):
    monkeypatch.delenv(profiles.PROFILE_ENV, raising=False)
    assert profiles.current() == "book"


@pytest.mark.parametrize("name", profiles.PROFILES)
def test_choose_follows_the_variable(monkeypatch, name):
    monkeypatch.setenv(profiles.PROFILE_ENV, name.upper())
    chosen = profiles.choose(quick={"g": 1}, book={"g": 2}, paper={"g": 3})
    assert chosen == {"g": {"quick": 1, "book": 2, "paper": 3}[name]}


def test_paper_defaults_to_book(monkeypatch):
    monkeypatch.setenv(profiles.PROFILE_ENV, "paper")
    assert profiles.choose(quick={"g": 1}, book={"g": 2}) == {"g": 2}


def test_unknown_profile_is_a_clear_error(monkeypatch):
    monkeypatch.setenv(profiles.PROFILE_ENV, "huge")
    with pytest.raises(ValueError, match="COLLAPSE_PROFILE.*quick, book, paper"):
        profiles.current()
    with pytest.raises(ValueError, match="profile must be one of"):
        profiles.choose(quick={}, book={}, profile="huge")


def test_profiles_must_share_their_keys():
    with pytest.raises(ValueError, match="expected"):
        profiles.choose(quick={"a": 1}, book={"a": 1, "b": 2})


def test_report_prints_profile_and_parameters(monkeypatch, capsys):
    monkeypatch.setenv(profiles.PROFILE_ENV, "quick")
    text = profiles.report("Chapter X", {"n": 10, "seed": 0}, device="cpu")
    out = capsys.readouterr().out
    assert "profile 'quick'" in out and "n" in out and "seed = 0" in out and "device cpu" in out
    assert text.strip() == out.strip()
