"""Legacy Vietnamese encodings still found in office files.

Two kinds:
- **8-bit code pages** a whole CSV file is saved in: Windows-1258 (Vietnamese Windows:
  base letter + combining tone mark) and Windows-1252 (English Windows: the Vietnamese
  letters it lacks are lost, written '?'). Told apart from UTF-8 and from each other on a
  sample of the file's bytes (`eight_bit`); the file is then transcoded with a warning.
- **Font encodings** of text typed with the old fonts, stored inside Unicode (or UTF-8)
  text as Latin-1 letters and symbols: TCVN3 (ABC, ".VnTime": 'Së GD&§T Qu¶ng TrÞ' is
  'Sở GD&ĐT Quảng Trị') and VNI ("VNI-Times": 'Tröôøng' is 'Trường'). A cell is such text
  when every character is at most U+00FF and it holds a character Vietnamese Unicode text
  never has (`SUSPECT_RE`); which of the two it is, is decided per file on a sample of
  those cells: the conversion whose results are Vietnamese syllables (one tone mark at
  most, no stray combining mark) wins (`decide`). Cells are converted in SQL (`sql`).

The TCVN3 table is TCVN 5712:1993 (as glibc's TCVN5712-1) for the lower-case letters and
the seven upper-case base letters the ABC fonts have; VNI-Windows writes a base letter
followed by its marks as Latin-1 letters, converted here into combining marks and
composed (NFC).
"""

from __future__ import annotations

import re
import unicodedata

# ---- TCVN3 (ABC) ---------------------------------------------------------------------

# byte (as the Latin-1 character it shows as) -> Vietnamese letter
TCVN3 = dict(
    zip(
        "¡¢£¤¥¦§¨©ª«¬\xad®µ¶·¸¹»¼½¾ÆÇÈÉÊËÌÎÏÐÑÒÓÔÕÖ×ØÜÝÞßáâãäåæçèéêëìíîïñòóôõö÷øùúûüýþ",
        "ĂÂÊÔƠƯĐăâêôơưđàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ",
        strict=True,
    )
)

# ---- VNI-Windows ---------------------------------------------------------------------

_GRAVE, _ACUTE, _HOOK, _TILDE, _DOT = "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"
_CIRC, _BREVE = "\u0302", "\u0306"
# Latin-1 character -> what it stands for after a base letter (marks) or alone (letters)
VNI = {
    # tone marks
    "ù": _ACUTE, "ø": _GRAVE, "û": _HOOK, "õ": _TILDE, "ï": _DOT,
    "Ù": _ACUTE, "Ø": _GRAVE, "Û": _HOOK, "Õ": _TILDE, "Ï": _DOT,
    # circumflex, alone or with a tone
    "â": _CIRC, "á": _CIRC + _ACUTE, "à": _CIRC + _GRAVE, "å": _CIRC + _HOOK,
    "ã": _CIRC + _TILDE, "ä": _CIRC + _DOT,
    "Â": _CIRC, "Á": _CIRC + _ACUTE, "À": _CIRC + _GRAVE, "Å": _CIRC + _HOOK,
    "Ã": _CIRC + _TILDE, "Ä": _CIRC + _DOT,
    # breve, alone or with a tone
    "ê": _BREVE, "é": _BREVE + _ACUTE, "è": _BREVE + _GRAVE, "ú": _BREVE + _HOOK,
    "ü": _BREVE + _TILDE, "ë": _BREVE + _DOT,
    "Ê": _BREVE, "É": _BREVE + _ACUTE, "È": _BREVE + _GRAVE, "Ú": _BREVE + _HOOK,
    "Ü": _BREVE + _TILDE, "Ë": _BREVE + _DOT,
    # letters of their own
    "ô": "ơ", "ö": "ư", "ñ": "đ", "í": "í", "ì": "ì", "æ": "ỉ", "ó": "ĩ", "ò": "ị", "î": "ỵ",
    "Ô": "Ơ", "Ö": "Ư", "Ñ": "Đ", "Í": "Í", "Ì": "Ì", "Æ": "Ỉ", "Ó": "Ĩ", "Ò": "Ị", "Î": "Ỵ",
}  # fmt: skip

# Characters Vietnamese Unicode text never has, but TCVN3 or VNI text does. (À Á Â Ã È É
# Ê Ì Í Ò Ó Ô Õ Ù Ú Ý and their lower case are Vietnamese letters in Unicode too.)
_VIETNAMESE_LATIN1 = set("ÀÁÂÃÈÉÊÌÍÒÓÔÕÙÚÝàáâãèéêìíòóôõùúý")
SUSPECT_CHARS = "".join(
    sorted((set(TCVN3) | set(VNI)) - _VIETNAMESE_LATIN1 - {"\xad"}, key=ord)
)  # soft hyphen (TCVN3 'ư') is left out: it hides in Unicode text too
SUSPECT_RE = "[" + re.escape(SUSPECT_CHARS) + "]"
WIDE_RE = "[\u0100-\U0010ffff]"  # a character above Latin-1: the cell is Unicode text


def is_suspect(text: str) -> bool:
    """A cell that may be TCVN3 or VNI text: Latin-1 only, with a character Vietnamese
    Unicode text never has."""
    return bool(re.search(SUSPECT_RE, text)) and not re.search(WIDE_RE, text)


def from_tcvn3(text: str) -> str:
    return "".join(TCVN3.get(c, c) for c in text)


def from_vni(text: str) -> str:
    return unicodedata.normalize("NFC", "".join(VNI.get(c, c) for c in text))


_TONES = set(_GRAVE + _ACUTE + _HOOK + _TILDE + _DOT)
_NUCLEI = set(
    "a ă â e ê i o ô ơ u ư y ai ao au ay âu ây eo êu ia iê iu oa oă oe oi oo ôi ơi ua uâ uê "
    "ui uô uơ uy ưa ưi ưu ươ yê iêu oai oay oeo uây uôi uya uyê uyu ươi ươu yêu".split()
)
_SYLLABLE = re.compile(
    r"(ngh|ng|gh|gi|kh|nh|ph|qu|th|tr|ch|[bcdđghklmnprstvx])?"
    r"([aăâeêioôơuưy]{1,3})(ng|nh|ch|[cmnpt])?"
)


def _syllable_ok(word: str) -> bool:
    """A possible Vietnamese syllable: (initial) vowel nucleus (final), at most one tone
    mark, and that on a vowel; no combining mark left over."""
    nfd = unicodedata.normalize("NFD", word.lower())
    tones = [c for c in nfd if c in _TONES]
    base = unicodedata.normalize("NFC", "".join(c for c in nfd if c not in _TONES))
    if len(tones) > 1 or any(unicodedata.combining(c) for c in base):
        return False
    m = _SYLLABLE.fullmatch(base)
    if not m:
        return False
    nucleus = m.group(2)
    if m.group(1) in ("gi", "qu") and nucleus not in _NUCLEI:
        return ("i" + nucleus if m.group(1) == "gi" else "u" + nucleus) in _NUCLEI
    return nucleus in _NUCLEI or (m.group(1) == "g" and "i" + nucleus in _NUCLEI)


def _readable(text: str) -> tuple[int, int]:
    """(Vietnamese-looking words, words with a non-ASCII letter) of a converted cell."""
    ok = total = 0
    for word in re.findall(r"[^\W\d_]+", text):
        bare = unicodedata.normalize("NFD", word.lower())
        if word.isascii() or not any(c in "aeiouy" for c in bare):
            continue  # ASCII, or an acronym without a vowel ("ĐT", "GDĐT")
        total += 1
        ok += _syllable_ok(word)
    return ok, total


def decide(samples: list[str]) -> str | None:
    """'tcvn3', 'vni' or None (neither reads as Vietnamese) for a file's suspect cells:
    the conversion whose words are Vietnamese syllables (at least 80 %, and more than
    the other's)."""
    scores = {}
    for name, conv in (("tcvn3", from_tcvn3), ("vni", from_vni)):
        ok = total = 0
        for s in samples:
            o, t = _readable(conv(s))
            ok, total = ok + o, total + t
        scores[name] = ok / total if total else 0.0
    best = max(scores, key=lambda k: scores[k])
    return best if scores[best] >= 0.8 and scores[best] > min(scores.values()) else None


def _sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


VNI_RE = "[" + re.escape("".join(sorted(VNI, key=ord))) + "]"
COMBINING_RE = "[\u0300-\u036f]"


def sql(kind: str, x: str) -> str:
    """SQL that converts cell `x` (Latin-1 text only) of a file decided to be in `kind`.
    TCVN3: cells with a character Vietnamese Unicode never has (is_suspect), mapped one
    character for one. VNI: cells with any VNI mark (its marks are Latin-1 letters, also
    Vietnamese ones: 'Nguyeãn'), composed; a result with a mark left over (a mark after a
    consonant: the cell was Unicode after all, 'Hà') keeps the cell as it was."""
    latin1 = f"NOT regexp_matches({x}, {_sql_str(WIDE_RE)})"
    if kind == "tcvn3":
        keys = "".join(TCVN3)
        conv = f"translate({x}, {_sql_str(keys)}, {_sql_str(''.join(TCVN3[k] for k in keys))})"
        return (
            f"CASE WHEN regexp_matches({x}, {_sql_str(SUSPECT_RE)}) AND {latin1} "
            f"THEN {conv} ELSE {x} END"
        )
    conv = x
    for k, v in VNI.items():
        conv = f"replace({conv}, {_sql_str(k)}, {_sql_str(v)})"
    guarded = (
        f"list_transform([nfc_normalize({conv})], lambda y: "
        f"CASE WHEN regexp_matches(y, {_sql_str(COMBINING_RE)}) THEN {x} ELSE y END)[1]"
    )
    return f"CASE WHEN regexp_matches({x}, {_sql_str(VNI_RE)}) AND {latin1} THEN {guarded} ELSE {x} END"


# ---- 8-bit code pages ----------------------------------------------------------------

_VOWELS = set("aeiouyAEIOUYăâêôơưĂÂÊÔƠƯ")
_COMBINING_TONES = _TONES


def eight_bit(data: bytes) -> tuple[str, bool]:
    """(codec, lost) for bytes that are not UTF-8: 'cp1258' when Windows-1258 reads them
    as Vietnamese (tone marks after vowels), else 'cp1252'; `lost` when the text shows the
    '?' Windows-1252 writes for the Vietnamese letters it lacks ('Nguy?n')."""
    t1258 = data.decode("cp1258", errors="replace")
    after_vowel = after_other = 0
    for prev, c in zip(t1258, t1258[1:], strict=False):
        if c in _COMBINING_TONES:
            if prev in _VOWELS or unicodedata.normalize("NFD", prev)[0] in _VOWELS:
                after_vowel += 1
            else:
                after_other += 1
    lost = bool(re.search(r"[^\W\d_]\?[^\W\d_]", data.decode("cp1252", errors="replace")))
    if after_vowel and after_vowel >= after_other:
        return "cp1258", False
    return "cp1252", lost
