"""Child identity rules: the NHS number is the consistent identifier (BRIEF §3)."""

from __future__ import annotations

import re

_NHS_DIGITS = re.compile(r"^\d{10}$")
_WEIGHTS = range(10, 1, -1)


def normalise_nhs_number(raw: str) -> str:
    """Strip the spaces and dashes people write NHS numbers with ("943 476 5919")."""
    return re.sub(r"[\s-]", "", raw)


def nhs_number_problem(raw: str) -> str | None:
    """Why `raw` is not a valid NHS number, or None if it is (10 digits, modulus-11 check digit)."""
    number = normalise_nhs_number(raw)
    if not _NHS_DIGITS.match(number):
        return "an NHS number is 10 digits"
    check = _check_digit(number[:9])
    if check is None or check != ord(number[9]) - 48:
        return "the NHS number's check digit is wrong (modulus 11)"
    return None


def is_valid_nhs_number(raw: str) -> bool:
    return nhs_number_problem(raw) is None


def with_check_digit(nine_digits: str) -> str | None:
    """The full NHS number for nine leading digits, or None where no check digit fits (remainder 10)."""
    check = _check_digit(nine_digits)
    return None if check is None else nine_digits + str(check)


def _check_digit(nine_digits: str) -> int | None:
    """Modulus 11 over weights 10..2; None where the remainder gives 10, which no number may use."""
    total = sum([(ord(d) - 48) * w for d, w in zip(nine_digits, _WEIGHTS, strict=True)])
    check = 11 - total % 11
    if check == 10:
        return None
    return 0 if check == 11 else check
