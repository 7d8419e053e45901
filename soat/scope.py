"""What a user may see: units (with every unit below them), levels, one school, and
whether personal data (citizen ID, birth date, address) is shown unmasked.

Every query of the dashboard's query layer and of the exports takes a Scope and filters
in SQL with `SCOPE_SQL` (named parameters only), so no row outside it can come back,
whatever the page shows or hides. The command line runs as `Scope.admin()`.

Usage in SQL over a table aliased `t` with `school_code`, `unit_code` and `level`:

    WHERE t.snapshot_id = $snapshot_id AND {scope_sql('t')}
    params = {**scope.params(), "snapshot_id": sid}
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Scope:
    units: tuple[str, ...] | None = None  # None: whole province; else these units and below
    levels: tuple[str, ...] | None = None  # None: every level
    school: str | None = None  # a school account's own school
    unmasked: bool = False  # may see citizen IDs, birth dates, addresses in clear
    user: str = "local"  # for the audit log
    role: str = "admin"
    extra: dict = field(default_factory=dict, compare=False)

    @classmethod
    def admin(cls) -> Scope:
        return cls(unmasked=True, user="local", role="admin")

    def params(self) -> dict:
        return {
            "scope_all_units": self.units is None,
            "scope_units": list(self.units or ()),
            "scope_all_levels": self.levels is None,
            "scope_levels": list(self.levels or ()),
            "scope_school": self.school,
        }


def scope_sql(
    alias: str,
    *,
    level_col: str | None = "level",
    school_col: str = "school_code",
    unit_col: str = "unit_code",
) -> str:
    """SQL predicate (identifiers only, values are parameters) restricting rows to a Scope.

    A row's unit is matched through unit_closure (the unit or any unit above it is in
    scope). A NULL level (school-wide row) passes a level filter when the school has one
    of the scope's levels. Pass level_col=None for tables without a level."""
    a = alias
    unit_pred = (
        f"($scope_all_units OR {a}.{unit_col} IN (SELECT uc.unit_code FROM unit_closure uc "
        f"WHERE uc.snapshot_id = {a}.snapshot_id AND list_contains($scope_units, uc.ancestor_code)))"
    )
    school_pred = f"($scope_school IS NULL OR {a}.{school_col} = $scope_school)"
    if level_col is None:
        level_pred = (
            f"($scope_all_levels OR EXISTS (SELECT 1 FROM schools ss WHERE ss.snapshot_id = {a}.snapshot_id "
            f"AND ss.school_code = {a}.{school_col} AND len(list_intersect(ss.levels, $scope_levels)) > 0))"
        )
    else:
        level_pred = (
            f"($scope_all_levels OR list_contains($scope_levels, {a}.{level_col}) OR "
            f"({a}.{level_col} IS NULL AND EXISTS (SELECT 1 FROM schools ss WHERE ss.snapshot_id = {a}.snapshot_id "
            f"AND ss.school_code = {a}.{school_col} AND len(list_intersect(ss.levels, $scope_levels)) > 0)))"
        )
    return f"({unit_pred} AND {school_pred} AND {level_pred})"


# Citizen IDs masked in SQL (first 4 and last 2 kept: 0793******23), for exports and pages.
MASK_ID_SQL = (
    "CASE WHEN {col} IS NULL THEN NULL WHEN length({col}) <= 6 THEN repeat('*', length({col})) "
    "ELSE left({col}, 4) || repeat('*', length({col}) - 6) || right({col}, 2) END"
)

PERSONAL_FIELDS = ("citizen_id", "birth_date", "permanent_address")


def masked_value_sql(field_col: str, value_col: str) -> str:
    """SQL expression masking a findings-style (field, value) pair when the caller may not see
    personal data. Use with the boolean parameter $unmasked (Scope.unmasked):
        citizen_id -> '0793******23'; birth_date -> '**/**/2018' (year kept, for age checks);
        permanent_address -> '***'."""
    mask_id = MASK_ID_SQL.format(col=value_col)
    return (
        f"CASE WHEN $unmasked OR {value_col} IS NULL THEN {value_col} "
        f"WHEN {field_col} = 'citizen_id' THEN {mask_id} "
        f"WHEN {field_col} = 'birth_date' THEN "
        f"coalesce('**/**/' || regexp_extract({value_col}, '(\\d{{4}})', 1), '***') "
        f"WHEN {field_col} = 'permanent_address' THEN '***' "
        f"ELSE {value_col} END"
    )


# Message parts that come from personal data, per check, cut for masked scopes (SQL
# regexp_replace patterns and replacements, RE2 syntax). A finding whose field is personal
# (citizen_id, birth_date, permanent_address) already has its value masked wherever the
# message quotes it (masked_message_sql); these are the parts a check derives otherwise.
MESSAGE_MASKS: dict[str, tuple[tuple[str, str], ...]] = {
    # "… (đủ 60 tuổi 3 tháng, từ tháng 03/2020) …": the retirement month is birth + age
    "staff.retired_on_payroll": ((", từ tháng [0-9]{1,2}/[0-9]{4}", ""),),
    # "chữ số thứ 5–6 là 18 nhưng năm sinh là 2017": digits 5–6 are masked in the ID
    "student.id_mismatch": (("(chữ số thứ 5–6 là )[0-9]+", "\\1**"),),
    "staff.id_mismatch": (("(chữ số thứ 5–6 là )[0-9]+", "\\1**"),),
}

# Checks that read a personal field and whose message needs nothing beyond the masked
# value, with the reason (tests/access/test_masking_messages.py holds every check of the
# catalogue reading a personal field to MESSAGE_MASKS or this list).
MESSAGES_WITHOUT_PERSONAL_PARTS = {
    "student.id_format": "quotes the ID (masked) and its length",
    "staff.id_format": "quotes the ID (masked) and its length",
    "student.id_province": "the province code is the ID's first digits, shown by the mask",
    "staff.id_province": "the province code is the ID's first digits, shown by the mask",
    "student.duplicate_id": "quotes the ID (masked) and a count",
    "staff.duplicate_payroll": "quotes the ID (masked) and a count",
    "student.dob_invalid": "quotes the date (masked) and an age from the birth year",
    "staff.dob_invalid": "quotes the date (masked) and an age from the birth year",
    "student.age_grade": "an age from the birth year (shown by the mask) and the grade",
    "student.missing_field": "names the empty field",
    "staff.missing_field": "names the empty field",
}


def _sql_text(text: str) -> str:
    """A constant of this module as an SQL string literal (never data)."""
    return "'" + text.replace("'", "''") + "'"


def masked_message_sql(alias: str) -> str:
    """SQL for a finding's message as a scope may read it (param $unmasked): for a masked
    scope the personal value is masked wherever the message quotes it, like the value
    itself, and the parts in MESSAGE_MASKS are cut. `alias` is a findings table alias."""
    a = alias
    masked = masked_value_sql(f"{a}.field", f"{a}.value")
    personal = ", ".join(_sql_text(f) for f in PERSONAL_FIELDS)
    text = (
        f"CASE WHEN {a}.value IS NULL OR {a}.value = '' OR {a}.field NOT IN ({personal}) "
        f"THEN {a}.message ELSE replace({a}.message, {a}.value, {masked}) END"
    )
    branches = []
    for check_id, rules in MESSAGE_MASKS.items():
        expr = text
        for pattern, replacement in rules:
            expr = f"regexp_replace({expr}, {_sql_text(pattern)}, {_sql_text(replacement)}, 'g')"
        branches.append(f"WHEN {a}.check_id = {_sql_text(check_id)} THEN {expr}")
    return f"CASE WHEN $unmasked THEN {a}.message " + " ".join(branches) + f" ELSE {text} END"


@functools.cache
def personal_header_keys() -> tuple[str, ...]:
    """Every accepted header of a personal field, as soat.vocab.name_key folds it: rejects
    record the source's own header ('Ngày sinh', 'Số CCCD', 'birth_date'), not the field."""
    from loaders.contract import TABLES
    from soat.vocab import name_key

    keys = set()
    for table in TABLES.values():
        for c in table.columns:
            if c.name in PERSONAL_FIELDS:
                keys.update(name_key(h) for h in c.all_headers)
    return tuple(sorted(keys))


# name_key in SQL: casefold, diacritics (and đ) removed, spaces, '-' and '_' dropped.
HEADER_KEY_SQL = (
    "regexp_replace(strip_accents(replace(lower({col}), 'đ', 'd')), '[\\s_-]', '', 'g')"
)


def masked_load_message_sql(column_col: str, message_col: str) -> str:
    """A load message as a scope may read it (params $unmasked, $personal_keys): the
    loader quotes examples of a column's values in single quotes ("cột 'Ngày sinh' ghi lẫn
    ngày/tháng ('31/02/2015') và tháng/ngày ('04/19/2016')"); when the column is a personal
    field and the scope masked, every quoted text but the column's own name becomes '***'.
    The name is set aside as chr(1) while the quotes are replaced."""
    key = HEADER_KEY_SQL.format(col=column_col)
    name = f"'''' || {column_col} || ''''"
    cut = (
        f"replace(regexp_replace(replace({message_col}, {name}, chr(1)), "
        f"'''[^'']*''', '''***''', 'g'), chr(1), {name})"
    )
    return (
        f"CASE WHEN $unmasked OR {column_col} IS NULL OR {message_col} IS NULL "
        f"OR NOT list_contains($personal_keys, {key}) THEN {message_col} ELSE {cut} END"
    )


def masked_reject_value_sql(column_col: str, value_col: str) -> str:
    """Mask a rejected value whose source column is a personal field (param $personal_keys,
    from personal_header_keys()) unless $unmasked: the whole value becomes '***'."""
    key = HEADER_KEY_SQL.format(col=column_col)
    return (
        f"CASE WHEN $unmasked OR {value_col} IS NULL THEN {value_col} "
        f"WHEN list_contains($personal_keys, {key}) THEN '***' ELSE {value_col} END"
    )
