from datetime import date

import pytest

from apps.core.errors import RuleViolation
from apps.core.idnumbers import check_agreement, parse_id_number


def test_a_real_number_stdnum_would_refuse_for_its_birthplace_is_accepted():
    # Born 1950 in 大城县, whose code dates from 1988 (DESIGN §5).
    parsed = parse_id_number("131025195003070013")
    assert parsed.number == "131025195003070013"
    assert parsed.birth_date == date(1950, 3, 7)
    assert parsed.sex == "M"


@pytest.mark.parametrize(
    "raw",
    ["１３１０２５１９５００３０７００１３", " 131025 19500307 0013 ", "131025-19500307-0013", "131025195003070013.0"],
)
def test_full_width_digits_spaces_and_dashes_are_normalised(raw):
    assert parse_id_number(raw).number == "131025195003070013"


def test_lower_case_x_is_upper_cased():
    assert parse_id_number("11010519491231002x").number == "11010519491231002X"


def test_numbers_of_the_team_sample_sheet_are_valid():
    from python_calamine import CalamineWorkbook

    from tests.conftest import SHARED

    rows = CalamineWorkbook.from_path(str(SHARED / "data" / "persons_clean.xlsx")).get_sheet_by_index(0).to_python()
    numbers = [row[0] for row in rows[1:201]]
    assert [parse_id_number(n).number for n in numbers] == numbers


def test_fifteen_digit_numbers_are_upgraded():
    parsed = parse_id_number("131025500307001")
    assert parsed.number == "131025195003070013"
    assert parsed.upgraded_from_15


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("1.31025E+17", "身份证号被Excel转换成了科学计数法"),
        (1.31025195003070e17, "身份证号被Excel存成了数字，后几位已丢失"),
        ("13102519500307001", "身份证号只有17位，缺少最后一位"),
        ("131025195003070014", "身份证号校验位不正确"),
        ("131025195002300016", "身份证号中的出生日期不存在"),
        ("1310251950030700", "身份证号应为18位（前17位为数字，最后一位为数字或X），实际为16个字符"),
        ("", "身份证号为空"),
    ],
)
def test_bad_numbers_get_a_message_that_says_what_happened(raw, message):
    with pytest.raises(RuleViolation) as exc:
        parse_id_number(raw)
    assert message in exc.value.message
    assert "131025195003070" not in exc.value.message  # the number itself never goes into the message


def test_birth_date_and_sex_must_agree_with_the_number():
    parsed = parse_id_number("131025195003070013")
    check_agreement(parsed, birth_date=date(1950, 3, 7), sex="M")
    with pytest.raises(RuleViolation, match="出生日期1950-03-08与身份证号中的出生日期1950-03-07不一致"):
        check_agreement(parsed, birth_date=date(1950, 3, 8), sex="M")
    with pytest.raises(RuleViolation, match="性别与身份证号不一致"):
        check_agreement(parsed, birth_date=None, sex="F")
