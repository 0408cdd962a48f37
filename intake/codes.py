"""Unified social credit codes (统一社会信用代码, GB 32100-2015) and the organisation codes
inside them (GB 11714-1997): check characters and validation."""

from __future__ import annotations

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, S, V, Z
_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_CHARSET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# Letters that GB 32100 leaves out of the charset, so on paper they can only be misprints or
# misreadings of the digits they resemble.
OCR_CONFUSIONS = str.maketrans({"O": "0", "I": "1", "Z": "2", "S": "5", "V": "U"})


def check_char(first17: str) -> str:
    """The 18th (check) character for the first 17 characters of a credit code."""
    if len(first17) != 17 or any(c not in CHARSET for c in first17):
        raise ValueError(f"not 17 credit-code characters: {first17!r}")
    total = sum(CHARSET.index(c) * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def org_check_char(first8: str) -> str:
    """The check character of a 9-character organisation code (GB 11714)."""
    total = sum(_ORG_CHARSET.index(c) * w for c, w in zip(first8, _ORG_WEIGHTS, strict=True))
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def is_valid_credit_code(code: str) -> bool:
    """True when ``code`` is 18 charset characters whose check character is right."""
    code = code.strip().upper()
    if len(code) != 18 or any(c not in CHARSET for c in code):
        return False
    return check_char(code[:17]) == code[17]


def make_credit_code(registration: str, division: str, org_body: str) -> str:
    """Build a valid credit code from its parts.

    ``registration``: 2 characters (e.g. "91" a company registered with 市场监管, "12" a public
    institution); ``division``: 6-digit administrative division code; ``org_body``: the first 8
    characters of the organisation code (its check character is computed).
    """
    org = org_body + org_check_char(org_body)
    first17 = registration + division + org
    return first17 + check_char(first17)


def credit_code_problem(code: str) -> str | None:
    """What is wrong with a credit code, in Chinese for the reviewer; None when it is valid.

    ``code`` is taken as printed or stored, only stripped and upper-cased: reading letters that
    GB 32100 leaves out as the digits they resemble is the caller's choice.
    """
    code = code.strip().upper()
    if len(code) != 18:
        return f"应为18位，实为{len(code)}位"
    bad = [c for c in code if c not in CHARSET]
    if bad:
        return f"含有GB 32100-2015不允许的字符“{''.join(dict.fromkeys(bad))}”"
    want = check_char(code[:17])
    if want != code[17]:
        return f"校验码应为“{want}”，实为“{code[17]}”"
    return None
