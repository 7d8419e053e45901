"""Every check's `reads` metadata names the columns it needs: a snapshot loaded without one
of them reports the check "not run (thiếu cột …)", never "ran, 0 findings".

Enforced on the sample province a week later (compared with the week before, so the
`trend.*` checks fire too), on which every check of the catalogue fires: each column of
each table of the later week is emptied in turn (as a source without that column loads
it: NULL), and a check whose findings drop must list the column in its `reads`."""

from __future__ import annotations

import pytest

from loaders.contract import OPTIONAL_COLUMNS, RAW_KINDS, TABLES
from loaders.load import load_source
from soat import store
from soat.engine import discover, run_checks
from soat.snapshot import next_snapshot_id


def _counts(con, sid: int) -> dict[str, int]:
    return dict(
        con.execute(
            "SELECT check_id, count(*) FROM findings WHERE snapshot_id = $s GROUP BY ALL",
            {"s": sid},
        ).fetchall()
    )


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    from soat.sample import generate

    week1 = tmp_path_factory.mktemp("reads") / "province"
    week2 = generate(week1).week2_dir  # the committed sample and the week after it
    con = store.connect(":memory:")
    for folder in (week1, week2):
        sid = load_source(con, str(folder)).snapshot_id
        run_checks(con, sid)
    counts = _counts(con, sid)
    # the copies made below must compare with week 1, as week 2 did: week 2 is set aside
    # (the runner compares with checked snapshots only)
    con.execute("UPDATE snapshots SET checked_at = NULL WHERE snapshot_id = $s", {"s": sid})
    yield con, sid, counts
    con.close()


def _copy_without(con, sid: int, empty: set[tuple[str, str]]) -> int:
    """A new snapshot: a copy of `sid` with the given (table, column)s emptied."""
    new = next_snapshot_id(con)
    for name in TABLES:
        cols = [
            r[0]
            for r in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = $t "
                "AND database_name = current_database() ORDER BY column_index",
                {"t": name},
            ).fetchall()
        ]
        gone = {c for t, col in empty if t == name for c in (col, f"{col}_raw")}
        select = ", ".join(
            "$new" if c == "snapshot_id" else ("NULL" if c in gone else f'"{c}"') for c in cols
        )
        con.execute(
            f'INSERT INTO "{name}" SELECT {select} FROM "{name}" WHERE snapshot_id = $s',
            {"s": sid, "new": new},
        )
    for table in ("snapshot_tables", "unit_closure"):
        con.execute(
            f"""INSERT INTO {table} SELECT $new, * EXCLUDE (snapshot_id)
                FROM {table} WHERE snapshot_id = $s""",
            {"s": sid, "new": new},
        )
    con.execute(
        """INSERT INTO snapshots SELECT * REPLACE ($new AS snapshot_id)
           FROM snapshots WHERE snapshot_id = $s""",
        {"s": sid, "new": new},
    )
    return new


def _findings_without(con, sid: int, empty: set[tuple[str, str]], checks) -> dict[str, int]:
    new = _copy_without(con, sid, empty)
    try:
        run_checks(con, new, checks=checks)
        return _counts(con, new)
    finally:
        for name in (*TABLES, "findings", "check_runs", "snapshot_tables", "unit_closure"):
            con.execute(f'DELETE FROM "{name}" WHERE snapshot_id = $s', {"s": new})
        con.execute("DELETE FROM snapshots WHERE snapshot_id = $s", {"s": new})


def _touches(check, table: str) -> bool:
    return table in check.requires or any(r.split(".")[0] == table for r in check.reads)


COLUMNS = [
    (t.name, c.name)
    for t in TABLES.values()
    for c in t.columns
    # a status column the source lacks takes its default; an optional column left out
    # means empty on every row (the checks then read it as such)
    if c.default is None and (t.name, c.name) not in OPTIONAL_COLUMNS
]


def test_every_check_fires_on_the_sample(sample):
    _con, _sid, counts = sample
    quiet = sorted(c.id for c in discover() if not counts.get(c.id))
    assert quiet == [], "checks that find nothing on the sample cannot be tested here"


def _groups(checks) -> list[set[tuple[str, str]]]:
    """Columns to empty together: a column X is judged for a check C (C touches X's table
    and does not list X) on a run where no column C lists is emptied too, so the columns
    are coloured greedily on that conflict."""
    judged = {
        x: [c for c in checks if _touches(c, x[0]) and ".".join(x) not in c.reads] for x in COLUMNS
    }
    groups: list[set[tuple[str, str]]] = []
    for x in COLUMNS:
        for g in groups:
            clash = any(".".join(y) in c.reads for c in judged[x] for y in g) or any(
                ".".join(x) in c.reads for y in g for c in judged[y]
            )
            if not clash:
                g.add(x)
                break
        else:
            groups.append({x})
    return groups


def test_a_column_a_check_needs_is_in_its_reads(sample):
    """Columns are emptied a group at a time (_groups); when a check's findings drop, each
    column of the group it does not list is emptied alone to name the one it needs."""
    con, sid, base = sample
    checks = discover()
    suspects: dict[tuple[str, str], set[str]] = {}
    for group in _groups(checks):
        got = _findings_without(con, sid, group, checks)
        for c in checks:
            if got.get(c.id, 0) < base.get(c.id, 0):
                for x in group:
                    if _touches(c, x[0]) and ".".join(x) not in c.reads:
                        suspects.setdefault(x, set()).add(c.id)
    wrong = []
    for column, ids in sorted(suspects.items()):
        these = [c for c in checks if c.id in ids]
        got = _findings_without(con, sid, {column}, these)
        for c in these:
            if got.get(c.id, 0) < base.get(c.id, 0):
                wrong.append(
                    f"{c.id} reads {'.'.join(column)} ({base[c.id]} -> {got.get(c.id, 0)})"
                )
    assert not wrong, "checks whose findings drop without a column they do not list:\n" + (
        "\n".join(wrong)
    )


def test_reads_name_real_columns():
    for c in discover():
        for r in c.reads:
            table, _, column = r.partition(".")
            assert table in TABLES, (c.id, r)
            if column:
                assert column in TABLES[table].column_names, (c.id, r)
                assert column not in {f"{x}_raw" for x in RAW_KINDS}
