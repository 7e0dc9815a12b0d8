from shared.identity import is_valid_nhs_number, nhs_number_problem, normalise_nhs_number, with_check_digit


def test_a_valid_nhs_number_passes_the_modulus_11_check() -> None:
    assert is_valid_nhs_number("9434765919")
    assert is_valid_nhs_number("943 476 5919")


def test_a_wrong_check_digit_is_refused_with_the_reason() -> None:
    assert nhs_number_problem("9434765918") == "the NHS number's check digit is wrong (modulus 11)"


def test_a_number_whose_check_would_be_10_is_never_valid() -> None:
    # 1000000010 would need check digit 10, which does not exist
    assert with_check_digit("100000001") is None
    assert not any(is_valid_nhs_number(f"100000001{d}") for d in range(10))


def test_numbers_that_are_not_ten_digits_are_refused() -> None:
    for bad in ["", "12345", "94347659190", "94347659a9"]:
        assert nhs_number_problem(bad) == "an NHS number is 10 digits"


def test_check_digit_generation_round_trips() -> None:
    number = with_check_digit("943476591")
    assert number == "9434765919"
    assert normalise_nhs_number("943-476-5919") == "9434765919"
