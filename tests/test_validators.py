import pytest
from django.core.exceptions import ValidationError

from exchange.validators import (
    credit_code_check_character,
    credit_code_problem,
    validate_credit_code,
)


def test_known_real_format_code_is_valid():
    # Given a code built with the GB 32100-2015 check character
    code = "91350100M000100Y4" + credit_code_check_character("91350100M000100Y4")
    # Then it validates
    assert credit_code_problem(code) is None
    assert code == "91350100M000100Y43"


@pytest.mark.parametrize("code,fragment", [
    ("91350100M000100Y4", "must be 18 characters, got 17"),
    ("91350100M000100Y44", "check character is '4' but GB 32100-2015 requires '3'"),
    ("91350100M000100I43", "not allowed by GB 32100-2015: I"),
    ("", "must be 18 characters, got 0"),
])
def test_invalid_codes_name_the_problem(code, fragment):
    assert fragment in credit_code_problem(code)


def test_model_validator_raises_with_message():
    with pytest.raises(ValidationError, match="Invalid unified social credit code"):
        validate_credit_code("123")
