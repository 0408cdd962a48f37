import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from intake.codes import (
    CHARSET,
    check_char,
    credit_code_problem,
    is_valid_credit_code,
    make_credit_code,
)
from intake.normalize import canonical_credit_code


@pytest.mark.parametrize("code", ["91350100M000100Y43", "911101081000012381"])
def test_known_valid_codes_pass(code):
    assert is_valid_credit_code(code)


def test_every_single_character_change_is_caught():
    code = "91350100M000100Y43"
    for i in range(18):
        for c in CHARSET:
            if c != code[i]:
                assert not is_valid_credit_code(code[:i] + c + code[i + 1:])


def test_generated_codes_are_valid_and_letters_outside_the_charset_are_refused():
    rng = random.Random(7)
    for _ in range(200):
        body = "".join(rng.choice("0123456789") for _ in range(8))
        assert is_valid_credit_code(make_credit_code("91", "310000", body))
    assert not is_valid_credit_code("91350100M000100YO3")
    with pytest.raises(ValueError, match="17 credit-code"):
        check_char("9135")


# Properties of the GB 32100-2015 check character. ----------------------------------------

first17 = st.text(alphabet=st.sampled_from(CHARSET), min_size=17, max_size=17)


@given(first17)
def test_the_check_character_completes_any_17_characters_to_a_valid_code(body):
    code = body + check_char(body)
    assert is_valid_credit_code(code)
    assert credit_code_problem(code) is None
    assert canonical_credit_code(code) == code


@given(first17, st.integers(min_value=0, max_value=17), st.sampled_from(CHARSET))
def test_any_single_character_change_is_caught_and_explained(body, i, c):
    code = body + check_char(body)
    changed = code[:i] + c + code[i + 1:]
    assert is_valid_credit_code(changed) == (changed == code)
    if changed != code:
        assert "校验码应为" in (credit_code_problem(changed) or "")


@given(first17, st.integers(min_value=0, max_value=16), st.integers(min_value=0, max_value=16))
def test_any_two_characters_swapped_in_the_body_are_caught(body, i, j):
    # The weights are distinct modulo the prime 31, so every transposition changes the sum.
    code = body + check_char(body)
    chars = list(code)
    chars[i], chars[j] = chars[j], chars[i]
    swapped = "".join(chars)
    assert is_valid_credit_code(swapped) == (swapped == code)


@given(first17)
def test_letters_outside_the_charset_read_as_the_digits_they_resemble(body):
    code = body + check_char(body)
    misread = code.replace("0", "O").replace("1", "I").replace("5", "S")
    assert canonical_credit_code(misread) == code
    assert canonical_credit_code(canonical_credit_code(misread)) == code


def test_problems_name_the_length_the_charset_and_the_check_character():
    assert credit_code_problem("9135") == "应为18位，实为4位"
    assert "“O”" in (credit_code_problem("91350100M000100YO3") or "")
    assert credit_code_problem("91350100M000100Y44") == "校验码应为“3”，实为“4”"
    assert credit_code_problem(" 91350100m000100y43 ") is None
