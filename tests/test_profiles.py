"""Profiles: which scale a chapter runs at, why, and the book's seed."""

import pytest

from collapse_utils import profiles


@pytest.fixture
def no_profile(monkeypatch):
    monkeypatch.delenv(profiles.PROFILE_ENV, raising=False)
    monkeypatch.delenv(profiles.SEED_ENV, raising=False)


@pytest.mark.parametrize("cuda, expected", [(False, "book"), (True, "gpu")])
def test_default_follows_the_machine(monkeypatch, no_profile, cuda, expected):
    """Bug guarded: a Colab GPU reader silently gets the CPU-sized book profile (or a CPU reader the GPU one)."""
    monkeypatch.setattr(profiles, "cuda_available", lambda: cuda)
    assert profiles.current() == expected
    why = profiles.reason()
    assert f"profile '{expected}'" in why
    assert ("a CUDA GPU is present" if cuda else "no CUDA GPU is present") in why
    assert profiles.PROFILE_ENV in why  # says how to choose another


@pytest.mark.parametrize("cuda", [False, True])
@pytest.mark.parametrize("name", profiles.PROFILES)
def test_the_variable_wins_over_the_machine(monkeypatch, cuda, name):
    """Bug guarded: a detected GPU overrides the reader's explicit choice (e.g. quick in CI on a GPU box)."""
    monkeypatch.setattr(profiles, "cuda_available", lambda: cuda)
    monkeypatch.setenv(profiles.PROFILE_ENV, f" {name.upper()} ")
    assert profiles.current() == name
    assert f"set by {profiles.PROFILE_ENV}" in profiles.reason()


@pytest.mark.parametrize("name", profiles.PROFILES)
def test_choose_follows_the_profile(monkeypatch, name):
    """Bug guarded: choose() returns the set of a different profile than the active one."""
    monkeypatch.setenv(profiles.PROFILE_ENV, name)
    sets = {"quick": {"g": 1}, "book": {"g": 2}, "paper": {"g": 3}, "gpu": {"g": 4}}
    assert profiles.choose(**sets) == sets[name]


def test_gpu_defaults_to_paper_and_paper_to_book(monkeypatch):
    """Bug guarded: a chapter without a gpu set crashes or silently runs the quick set under gpu."""
    monkeypatch.setenv(profiles.PROFILE_ENV, "gpu")
    assert profiles.choose(quick={"g": 1}, book={"g": 2}, paper={"g": 3}) == {"g": 3}
    assert profiles.choose(quick={"g": 1}, book={"g": 2}) == {"g": 2}
    monkeypatch.setenv(profiles.PROFILE_ENV, "paper")
    assert profiles.choose(quick={"g": 1}, book={"g": 2}, gpu={"g": 4}) == {"g": 2}


def test_unknown_profile_is_a_clear_error(monkeypatch):
    monkeypatch.setenv(profiles.PROFILE_ENV, "huge")
    with pytest.raises(ValueError, match="COLLAPSE_PROFILE.*quick, book, gpu, paper"):
        profiles.current()
    with pytest.raises(ValueError, match="profile must be one of"):
        profiles.choose(quick={}, book={}, profile="huge")


def test_profiles_must_share_their_keys():
    """Bug guarded: a parameter that exists in one profile only (KeyError in another profile's build)."""
    with pytest.raises(ValueError, match="expected"):
        profiles.choose(quick={"a": 1}, book={"a": 1, "b": 2})
    with pytest.raises(ValueError, match="'gpu'"):
        profiles.choose(quick={"a": 1}, book={"a": 1}, gpu={"a": 1, "b": 2})


def test_report_prints_profile_reason_and_every_parameter(monkeypatch, capsys):
    """Bug guarded: the header names another profile than the one that ran, or drops parameters."""
    monkeypatch.setenv(profiles.PROFILE_ENV, "quick")
    monkeypatch.delenv(profiles.SEED_ENV, raising=False)
    text = profiles.report("Chapter X", {"runs": 10, "seed": 0}, device="cpu")
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == f"Chapter X: {profiles.reason()}"
    assert "profile 'quick'" in lines[0]
    assert "device cpu" in lines[1]
    assert any(line.split() == ["runs", "=", "10"] for line in lines)
    assert any(line.split() == ["seed", "=", "0"] for line in lines)
    assert text.strip() == out.strip()


def test_seed_is_shifted_by_the_variable(monkeypatch):
    """Bug guarded: COLLAPSE_SEED ignored (the book cannot be rebuilt at another seed), or two seeds collide."""
    monkeypatch.delenv(profiles.SEED_ENV, raising=False)
    assert profiles.seed(3) == 3 and profiles.seed() == 0
    monkeypatch.setenv(profiles.SEED_ENV, "2")
    shifted = [profiles.seed(k) for k in range(100)]
    assert shifted[3] != 3
    assert len(set(shifted)) == 100
    monkeypatch.setenv(profiles.SEED_ENV, "1")
    assert not set(shifted) & {profiles.seed(k) for k in range(100)}


@pytest.mark.parametrize("value", ["-1", "two", "1.5"])
def test_bad_seed_variable_is_a_clear_error(monkeypatch, value):
    monkeypatch.setenv(profiles.SEED_ENV, value)
    with pytest.raises(ValueError, match="COLLAPSE_SEED must be an integer >= 0"):
        profiles.seed(0)


@pytest.mark.parametrize("base", [-1, 1.0, True, "1"])
def test_bad_seed_base_is_a_clear_error(base):
    with pytest.raises(ValueError, match="base must be an integer >= 0"):
        profiles.seed(base)


def test_building_book_reads_the_variable(monkeypatch):
    """Bug guarded: progress widgets left in the built pages because the build is not recognised."""
    monkeypatch.delenv(profiles.BUILD_ENV, raising=False)
    assert not profiles.building_book()
    monkeypatch.setenv(profiles.BUILD_ENV, "1")
    assert profiles.building_book()
    monkeypatch.setenv(profiles.BUILD_ENV, "0")
    assert not profiles.building_book()


def test_only_profiles_reads_the_variables(root):
    """Bug guarded: a module reads COLLAPSE_PROFILE/COLLAPSE_SEED itself and disagrees with profiles.py."""
    offenders = []
    for path in list((root / "collapse_utils").rglob("*.py")) + list((root / "notebooks").glob("*.py")):
        if path.name == "profiles.py":
            continue
        text = path.read_text()
        for name in ("COLLAPSE_PROFILE", "COLLAPSE_SEED", "COLLAPSE_BOOK_BUILD"):
            if f'environ.get("{name}"' in text or f"environ['{name}'" in text or f'environ["{name}"' in text \
                    or f'getenv("{name}"' in text:
                offenders.append(f"{path.relative_to(root)} reads {name}")
    assert not offenders, offenders


@pytest.mark.parametrize("value, expected", [("1", True), ("true", True), (" TRUE ", True), ("yes", True),
                                             ("On", True), ("", False), ("0", False), ("false", False),
                                             ("no", False), ("off", False), ("  ", False)])
def test_building_book_true_only_for_true_words(monkeypatch, value, expected):
    """Bug guarded: any non-empty value read as true ('0', 'false', 'off' hide every progress bar of a notebook),
    or the words compared without trimming and case-folding."""
    monkeypatch.setenv(profiles.BUILD_ENV, value)
    assert profiles.building_book() is expected


@pytest.mark.parametrize("where", ["quick", "book", "paper", "gpu"])
@pytest.mark.parametrize("change", ["missing", "extra"])
def test_every_profile_must_have_exactly_the_books_keys(where, change):
    """Bugs guarded: a profile with a key missing accepted (only extra keys checked), or one profile (paper,
    gpu) not checked at all. The error names the profile."""
    sets = {name: {"a": 1, "b": 2} for name in ("quick", "book", "paper", "gpu")}
    if change == "missing":
        del sets[where]["b"]
    else:
        sets[where]["c"] = 3
    if where == "book":  # the book's keys are the reference: every other profile then disagrees
        with pytest.raises(ValueError, match="has keys"):
            profiles.choose(**sets, profile="quick")
        return
    with pytest.raises(ValueError, match=f"profile '{where}' has keys"):
        profiles.choose(**sets, profile="book")


def test_choose_returns_a_copy_and_the_explicit_profile_wins(monkeypatch):
    """Bugs guarded: ``profile=`` ignored (the environment's profile used), or the chapter's dict returned
    itself (a chapter that edits its parameters edits the profile's definition)."""
    monkeypatch.setenv(profiles.PROFILE_ENV, "quick")
    book = {"g": 2}
    got = profiles.choose(quick={"g": 1}, book=book, profile="book")
    assert got == {"g": 2}
    got["g"] = 5
    assert book == {"g": 2}
    assert profiles.choose(quick={"g": 1}, book={"g": 2}, paper={"g": 3}, profile="gpu") == {"g": 3}


@pytest.mark.parametrize("offset", [0, 1, 2, 7])
def test_seeds_are_distinct_across_bases_and_offsets(monkeypatch, offset):
    """Bug guarded: the offset added without its prime factor (seed(1) at offset 0 equals seed(0) at offset 1),
    so that two chapters' seeds, or two rebuilds of the book, share their random numbers."""
    seen = {}
    for off in (0, offset + 1, offset + 2):
        monkeypatch.setenv(profiles.SEED_ENV, f" {off} ")
        for base in range(0, 200):
            s = profiles.seed(base)
            assert s not in seen, (s, seen.get(s), (off, base))
            seen[s] = (off, base)
    monkeypatch.setenv(profiles.SEED_ENV, str(offset))
    assert profiles.seed(5) - profiles.seed(0) == 5  # the bases keep their spacing
    assert profiles.seed_offset() == offset


def test_report_names_the_seed_offset_and_device_only_when_set(monkeypatch, capsys):
    """Bug guarded: the header hides that the seeds were shifted (a reader cannot reproduce the page), or claims
    a device that was not given."""
    monkeypatch.setenv(profiles.PROFILE_ENV, "book")
    monkeypatch.setenv(profiles.SEED_ENV, "3")
    text = profiles.report("Chapter Y", {"n": 1})
    assert "seeds shifted by COLLAPSE_SEED=3" in text and "device" not in text
    monkeypatch.delenv(profiles.SEED_ENV)
    text = profiles.report("Chapter Y", {"n": 1}, device="cuda")
    assert "COLLAPSE_SEED" not in text.splitlines()[1] and "device cuda" in text
    capsys.readouterr()


def test_reason_when_the_variable_is_set_and_unset(monkeypatch):
    """Bug guarded: the reason says the profile was chosen for the machine when the reader set it (or the
    reverse)."""
    monkeypatch.setattr(profiles, "cuda_available", lambda: False)
    monkeypatch.setenv(profiles.PROFILE_ENV, "paper")
    assert profiles.reason().startswith("profile 'paper', set by COLLAPSE_PROFILE")
    monkeypatch.setenv(profiles.PROFILE_ENV, "  ")
    assert profiles.current() == "book"
    assert profiles.reason().startswith("profile 'book', chosen because no CUDA GPU is present")
