import random

import pytest

from intake.codes import CHARSET, check_char, is_valid_credit_code, make_credit_code


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
