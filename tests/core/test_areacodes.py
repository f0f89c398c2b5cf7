import pytest

from apps.core.areacodes import CodeLevel, code_range, contains, level_of, township_of


@pytest.mark.parametrize(
    ("code", "level", "low", "high"),
    [
        ("131025000000", CodeLevel.COUNTY, "131025000000", "131026000000"),
        ("131025100000", CodeLevel.TOWNSHIP, "131025100000", "131025101000"),
        ("131025100201", CodeLevel.VILLAGE, "131025100201", "131025100202"),
        ("131000000000", CodeLevel.CITY, "131000000000", "131100000000"),
        ("130000000000", CodeLevel.PROVINCE, "130000000000", "140000000000"),
    ],
)
def test_code_range_by_level(code, level, low, high):
    assert level_of(code) == level
    assert code_range(code) == (low, high)


def test_contains_is_the_half_open_range():
    assert contains("131025100000", "131025100201")
    assert contains("131025100000", "131025100000")
    assert not contains("131025100000", "131025101000")  # the next township
    assert not contains("131025100201", "131025100202")
    assert township_of("131025100201") == "131025100000"


@pytest.mark.parametrize("bad", ["", "13102510020", "1310251002011", "13102510020x", None])
def test_level_of_rejects_malformed_codes(bad):
    with pytest.raises(ValueError, match="12-digit"):
        level_of(bad)
