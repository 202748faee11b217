"""GB 11643 identity numbers: check character, 15→18 conversion, cross-checks against the record."""

from __future__ import annotations

import datetime as dt

import pytest

from fuwu.residents import idnumber
from fuwu.residents.idnumber import IdNumberError

TODAY = dt.date(2026, 1, 1)
TAIZHOU = {"city_prefixes": {"3310"}, "known_counties": {"331002", "331003", "331004"}}


@pytest.mark.parametrize(
    "raw",
    [
        "11010519491231002X",  # the standard's own example, check character X
        "11010519491231002x",  # lower-case x is accepted and normalised
        "331002195003121231",
        " 3310 0219 5003 1212 31 ",  # spaces as people copy them
        "33100219480506019X",
    ],
)
def test_valid_numbers_parse(raw: str) -> None:
    number = idnumber.parse(raw, today=TODAY)
    assert len(number.value) == 18
    assert number.value == number.value.upper()
    assert idnumber.check_char(number.value[:17]) == number.value[17]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("110105194912310021", "the check character is 1 but should be X; a digit was mistyped"),
        ("331002195003121230", "the check character is 0 but should be 1; a digit was mistyped"),
        ("33100219500312123", "this has 17"),
        ("3310021950031212311", "this has 19"),
        ("33100219500312123A", "the last is a digit or X"),
        ("X31002195003121231", "the last is a digit or X"),
        ("991002195003121231", "does not start with a province code"),
        ("331002195013121231", "19501312 is not a real date of birth"),
        ("331002203001011231", "out of range"),
        ("33100250031212A", "a 15-digit number has digits only"),
    ],
)
def test_invalid_numbers_say_why(raw: str, message: str) -> None:
    with pytest.raises(IdNumberError, match=message) as info:
        idnumber.parse(raw, today=TODAY)
    # Problem and fix are separate, for the import report's two columns.
    assert info.value.problem
    assert info.value.fix
    assert str(info.value) == f"{info.value.problem}; {info.value.fix}"


def test_the_check_character_example_from_the_brief() -> None:
    # A clerk's typo in the last character: the report must say what it should be.
    with pytest.raises(IdNumberError) as info:
        idnumber.parse("331002194805060191", today=TODAY)
    assert str(info.value).startswith("the check character is 1 but should be X; a digit was mistyped")


def test_fifteen_digit_numbers_are_converted() -> None:
    number = idnumber.parse("130503670401001", today=TODAY)
    assert number.value == "130503196704010016"
    assert number.birth_date == dt.date(1967, 4, 1)
    assert number.sex == "male"  # 15-digit numbers keep the sex in their last digit, now the 17th
    assert idnumber.is_legacy("130503670401001")
    assert not idnumber.is_legacy(number.value)
    # The converted number equals the one the person holds today, so both find the same record.
    assert idnumber.parse("130503196704010016", today=TODAY) == number


def test_fields_and_masking() -> None:
    number = idnumber.parse("11010519491231002X", today=TODAY)
    assert number.area_code == "110105"
    assert number.birth_date == dt.date(1949, 12, 31)
    assert number.sex == "female"
    assert number.masked() == "110105********002X"
    assert number.masked()[:6] + number.masked()[-4:] == "110105002X"
    assert "19491231" not in number.masked()


def test_make_builds_valid_numbers_of_either_sex() -> None:
    man = idnumber.make("331002", dt.date(1950, 3, 12), 123)
    woman = idnumber.make("331002", dt.date(1950, 3, 12), 124)
    assert idnumber.parse(man.value, today=TODAY) == man
    assert (man.sex, woman.sex) == ("male", "female")


def test_cross_check_agreeing_record() -> None:
    number = idnumber.make("331002", dt.date(1950, 3, 12), 123)
    check = idnumber.cross_check(
        number, birth_date=dt.date(1950, 3, 12), sex="male", hukou_area="331002001901", **TAIZHOU
    )
    assert check.errors == ()
    assert not check.area_differs


def test_cross_check_birth_date_and_sex_mismatches_are_errors() -> None:
    number = idnumber.make("331002", dt.date(1950, 3, 12), 123)
    check = idnumber.cross_check(
        number, birth_date=dt.date(1950, 3, 21), sex="female", hukou_area="331002001901", **TAIZHOU
    )
    assert [f.field for f in check.errors] == ["birth_date", "sex"]
    assert check.errors[0].problem == "1950-03-21 but the identity number says 1950-03-12"
    assert "17th digit 3 is odd, which means male" in check.errors[1].problem


def test_a_number_from_another_county_is_a_flag_not_an_error() -> None:
    # Born in 黄岩, hukou now in 椒江: people move; the number keeps the first registration.
    number = idnumber.make("331003", dt.date(1950, 3, 12), 123)
    check = idnumber.cross_check(number, birth_date=None, sex=None, hukou_area="331002001901", **TAIZHOU)
    assert check.errors == ()
    assert check.area_differs


def test_a_number_from_another_province_is_accepted() -> None:
    number = idnumber.make("110105", dt.date(1950, 3, 12), 123)
    check = idnumber.cross_check(number, birth_date=None, sex=None, hukou_area="331002001901", **TAIZHOU)
    assert check.errors == ()
    assert check.area_differs


def test_a_taizhou_code_that_is_no_county_is_an_error() -> None:
    number = idnumber.make("331099", dt.date(1950, 3, 12), 123)
    check = idnumber.cross_check(number, birth_date=None, sex=None, hukou_area="331002001901", **TAIZHOU)
    assert [f.field for f in check.errors] == ["id_number"]
    assert "331099" in check.errors[0].problem
    assert "331002, 331003, 331004" in check.errors[0].problem


@pytest.mark.parametrize(
    ("typed", "position"),
    [
        ("33100²195003121231", "character 6 is '²'"),  # a superscript two
        ("331002195003①21231", "character 13 is '①'"),
        ("33100٢195003121231", "character 6 is '٢'"),  # an Arabic-Indic two
        ("33100᧒195003121231", "character 6 is '᧒'"),  # a New Tai Lue two, which int() cannot read
    ],
)
def test_special_digits_are_named_not_read_or_crashed_on(typed: str, position: str) -> None:
    with pytest.raises(IdNumberError) as info:
        idnumber.parse(typed, today=TODAY)
    assert info.value.problem.startswith(position)
    assert "ordinary digits 0–9" in info.value.problem
    assert info.value.fix.startswith(f"type {position.split(' is ')[0]} again")


def test_full_width_digits_are_named_as_such() -> None:
    full_width = "331002195003121231".translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    for typed in (full_width, "11010519491231002Ｘ"):
        with pytest.raises(IdNumberError) as info:
            idnumber.parse(typed, today=TODAY)
        assert info.value.problem == "the number is typed in full-width characters (such as １ or Ｘ)"
        assert "half-width (半角)" in info.value.fix


@pytest.mark.parametrize(
    ("former", "hukou_county"),
    [
        ("331021", "331083"),  # 玉环县 before it became 玉环市 in 2017
        ("332627", "331083"),  # 玉环县 under 台州地区, 1982–1993
        ("332623", "331081"),  # 温岭县 under 台州地区
        ("339020", "331081"),  # 温岭市 in the 1994 table
        ("332602", "331082"),  # 临海市 under 台州地区, 1986–1993
        ("332621", "331082"),  # 临海县 until 1985
        ("332603", "331004"),  # 黄岩市, part of which became 路桥区 in 1994
        ("332601", "331002"),  # 椒江市
        ("332724", "331024"),  # 仙居县 before 1982
        ("331001", "331003"),  # 台州市市辖区
    ],
)
def test_former_taizhou_codes_are_accepted_as_the_county_they_became(former: str, hukou_county: str) -> None:
    number = idnumber.make(former, dt.date(1960, 5, 1), 123)
    counties = {"331002", "331003", "331004", "331022", "331023", "331024", "331081", "331082", "331083"}
    check = idnumber.cross_check(
        number,
        birth_date=None,
        sex=None,
        hukou_area=f"{hukou_county}100901",
        city_prefixes={"3310"},
        known_counties=counties,
    )
    assert check.errors == ()
    assert not check.area_differs
    # Still a flag when the number's former county is not the hukou county.
    elsewhere = idnumber.cross_check(
        number,
        birth_date=None,
        sex=None,
        hukou_area="331023100901" if hukou_county != "331023" else "331022100901",
        city_prefixes={"3310"},
        known_counties=counties,
    )
    assert elsewhere.errors == ()
    assert elsewhere.area_differs == (former not in {"331000"})


def test_every_former_code_names_current_counties() -> None:
    counties = {"331002", "331003", "331004", "331022", "331023", "331024", "331081", "331082", "331083"}
    for code, former in idnumber.FORMER_AREA_CODES.items():
        assert len(code) == 6
        assert code[:2] == "33"
        assert code not in counties
        assert set(former.now) <= counties, code
