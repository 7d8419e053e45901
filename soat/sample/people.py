"""Vectorised people: names, birth dates, citizen IDs, addresses (numpy object arrays)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from soat.sample import names as N
from soat.vocab import PROVINCE_CODES

HOME_PPP = "086"  # Vĩnh Long: most people were registered here
OTHER_PPP = np.array([c for c in PROVINCE_CODES if c != HOME_PPP], dtype=object)
CLEAN_SERIAL_SPAN = 900_000  # clean serials are < 900000; defects use 9xxxxx
_STEP = 7919  # prime, coprime with CLEAN_SERIAL_SPAN: a permutation of serials per group


def obj(values) -> np.ndarray:
    arr = np.empty(len(values), dtype=object)
    arr[:] = list(values)
    return arr


def isin(values: np.ndarray, allowed) -> np.ndarray:
    """np.isin for object (string) arrays, hashed instead of sorted."""
    return pl.Series(values.tolist(), dtype=pl.String).is_in(list(allowed)).to_numpy()


def zfill(values: np.ndarray, width: int) -> np.ndarray:
    return (
        pl.Series(values.astype(np.int64))
        .cast(pl.String)
        .str.zfill(width)
        .to_numpy()
        .astype(object)
    )


def concat(*parts) -> np.ndarray:
    """Element-wise string concatenation of object arrays and plain strings."""
    n = next(len(p) for p in parts if isinstance(p, np.ndarray))
    cols = {}
    for i, p in enumerate(parts):
        cols[f"c{i}"] = (
            pl.Series(list(p), dtype=pl.String)
            if isinstance(p, np.ndarray)
            else pl.repeat(p, n, eager=True)
        )
    df = pl.DataFrame(cols)
    return df.select(pl.concat_str(list(df.columns)).alias("s"))["s"].to_numpy().astype(object)


def full_names(rng: np.random.Generator, male: np.ndarray) -> np.ndarray:
    n = len(male)
    w = np.array(N.FAMILY_WEIGHTS, dtype=float)
    fam = obj(N.FAMILY_NAMES)[rng.choice(len(w), n, p=w / w.sum())]
    mid = np.where(
        male,
        obj(N.MIDDLE["Nam"])[rng.integers(0, len(N.MIDDLE["Nam"]), n)],
        obj(N.MIDDLE["Nữ"])[rng.integers(0, len(N.MIDDLE["Nữ"]), n)],
    )
    giv = np.where(
        male,
        obj(N.GIVEN["Nam"])[rng.integers(0, len(N.GIVEN["Nam"]), n)],
        obj(N.GIVEN["Nữ"])[rng.integers(0, len(N.GIVEN["Nữ"]), n)],
    )
    return concat(fam, " ", mid, " ", giv)


def birth_dates(rng: np.random.Generator, years: np.ndarray) -> np.ndarray:
    """datetime64[D] dates in the given years (day of year uniform, never 29 Feb issues)."""
    start = (years - 1970).astype("datetime64[Y]").astype("datetime64[D]")
    return start + rng.integers(0, 365, len(years)).astype("timedelta64[D]")


def ddmmyyyy(dates: np.ndarray) -> np.ndarray:
    return pl.Series(dates).dt.strftime("%d/%m/%Y").to_numpy().astype(object)


def gender_digit(male: bool, year: int) -> int:
    century = (year - 1900) // 100  # 1900s: 0, 2000s: 1, 2100s: 2
    return century * 2 + (0 if male else 1)


def citizen_ids(
    rng: np.random.Generator, male: np.ndarray, years: np.ndarray, salt: int = 0
) -> np.ndarray:
    """PPP G YY NNNNNN, unique within the call (serial is a permutation inside each group)."""
    n = len(male)
    home = rng.random(n) < 0.9
    ppp = np.where(home, HOME_PPP, OTHER_PPP[rng.integers(0, len(OTHER_PPP), n)])
    g = ((years - 1900) // 100) * 2 + np.where(male, 0, 1)
    yy = years % 100
    df = pl.DataFrame({"ppp": pl.Series(list(ppp), dtype=pl.String), "g": g, "yy": yy})
    rank = df.select(pl.int_range(pl.len()).over(["ppp", "g", "yy"]).alias("r"))["r"].to_numpy()
    h = (
        yy * 37 + g * 1009 + df["ppp"].cast(pl.Int64).to_numpy() * 101 + salt * 7777
    ) % CLEAN_SERIAL_SPAN
    serial = (rank * _STEP + h) % CLEAN_SERIAL_SPAN
    return concat(ppp, zfill(g, 1), zfill(yy, 2), zfill(serial, 6))


def addresses(rng: np.random.Generator, n: int, communes: list[str]) -> np.ndarray:
    house = rng.integers(1, 300, n)
    street = obj(N.STREETS)[rng.integers(0, len(N.STREETS), n)]
    hamlet = obj(N.HAMLETS)[rng.integers(0, len(N.HAMLETS), n)]
    commune = obj(communes)[rng.integers(0, len(communes), n)]
    in_town = rng.random(n) < 0.4
    first = np.where(in_town, concat(zfill(house, 1), " ", street), hamlet)
    return concat(first, ", ", commune, ", tỉnh Vĩnh Long")


def choose(rng: np.random.Generator, n: int, mix) -> np.ndarray:
    vals = obj([v for v, _ in mix])
    p = np.array([w for _, w in mix], dtype=float)
    return vals[rng.choice(len(vals), n, p=p / p.sum())]


def to_date(d: np.datetime64) -> dt.date:
    return d.astype("datetime64[D]").astype(dt.date)
