"""Identity of organisations: unified social credit codes and name normalisation."""
from __future__ import annotations

import functools
import random
import re
import string
import unicodedata

import numpy as np

# GB 32100-2015: the 31 characters a credit code may use (no I, O, S, V, Z).
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]
_USCC_VALUE = {c: i for i, c in enumerate(USCC_CHARS)}
_USCC_SHAPE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$", re.ASCII)  # ASCII digits only

# GB 11714-1997: the organisation code embedded at positions 9–17.
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def _org_value(ch: str) -> int:
    return int(ch) if ch.isdigit() else ord(ch) - ord("A") + 10


def uscc_check_char(first17: str) -> str:
    """The GB 32100-2015 check character for the first 17 characters."""
    total = sum(_USCC_VALUE[c] * w for c, w in zip(first17, _USCC_WEIGHTS))
    return USCC_CHARS[(31 - total % 31) % 31]


def org_check_char(body8: str) -> str:
    """The GB 11714-1997 check character for an 8-character organisation code body."""
    total = sum(_org_value(c) * w for c, w in zip(body8, _ORG_WEIGHTS))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def normalize_uscc(value: object) -> str:
    """Upper-case, strip spaces and full-width forms; does not validate."""
    text = unicodedata.normalize("NFKC", str(value or "")).strip().upper()
    return re.sub(r"[\s\-]", "", text)


def uscc_problem(code: str) -> str | None:
    """Why a credit code is invalid (Chinese, for messages), or None when it is valid."""
    if len(code) != 18:
        return f"应为 18 位，实际 {len(code)} 位"
    if not _USCC_SHAPE.match(code):
        bad = [c for c in code if c not in USCC_CHARS]
        if bad:
            return f"含有不允许的字符“{bad[0]}”（代码中不使用 I、O、S、V、Z）"
        return "第 3–8 位应为行政区划数字代码"
    if uscc_check_char(code[:17]) != code[17]:
        return "末位校验码不正确（GB 32100-2015）"
    if org_check_char(code[8:16]) != code[16]:
        return "其中的组织机构代码（第 9–17 位）校验码不正确（GB 11714-1997）"
    return None


def valid_usccs(codes: list) -> np.ndarray:
    """Whether each code is a valid credit code (``uscc_problem`` finds nothing), a whole column at once."""
    ok = np.zeros(len(codes), dtype=bool)
    shaped = [i for i, code in enumerate(codes)
              if isinstance(code, str) and len(code) == 18 and _USCC_SHAPE.match(code)]
    if not shaped:
        return ok
    grid = np.frombuffer("".join(codes[i] for i in shaped).encode("ascii"), dtype=np.uint8).reshape(-1, 18)
    values = _USCC_NUMBERS[grid]
    check = (31 - (values[:, :17] @ np.array(_USCC_WEIGHTS)) % 31) % 31
    org = 11 - (_ORG_NUMBERS[grid[:, 8:16]] @ np.array(_ORG_WEIGHTS)) % 11
    org_char = np.where(org == 10, ord("X"), np.where(org == 11, ord("0"), ord("0") + org))
    ok[shaped] = (check == values[:, 17]) & (org_char == grid[:, 16])
    return ok


# Character (byte) → value, for valid_usccs: the credit-code alphabet, and digits and letters of organisation codes.
_USCC_NUMBERS = np.zeros(256, dtype=np.int64)
_USCC_NUMBERS[[ord(c) for c in USCC_CHARS]] = np.arange(len(USCC_CHARS))
_ORG_NUMBERS = np.zeros(256, dtype=np.int64)
for _char in string.digits + string.ascii_uppercase:
    _ORG_NUMBERS[ord(_char)] = _org_value(_char)


def make_uscc(rng: random.Random, region: str = "310115", kind: str = "91") -> str:
    """A random credit code whose both check characters are valid (for samples and tests)."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    while True:
        body = "".join(rng.choice(alphabet[:10] if i < 2 else alphabet) for i in range(8))
        org = body + org_check_char(body)
        if org[-1] in USCC_CHARS:  # 'X' is not a credit-code character
            break
    first17 = kind + region + org
    return first17 + uscc_check_char(first17)


# Suffix variants that name the same legal form.
_SUFFIXES = (("有限责任公司", "有限公司"), ("股份有限公司", "股份公司"), ("(集团)", "集团"))


def normalize_name(value: object) -> str:
    """The name a customer is matched by: NFKC, brackets and spaces unified, suffix variants folded."""
    return _normalized(value if isinstance(value, str) else str(value or ""))


@functools.lru_cache(maxsize=1 << 13)  # a file names its customers again on each of its sheets
def _normalized(name: str) -> str:
    text = unicodedata.normalize("NFKC", name).strip()
    text = text.replace("【", "(").replace("】", ")").replace("〔", "(").replace("〕", ")")
    text = re.sub(r"\s+", "", text)
    for variant, canonical in _SUFFIXES:
        text = text.replace(variant, canonical)
    return text.lower()
