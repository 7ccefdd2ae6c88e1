"""The matching input: one row per person-bearing current record, with matching keys.

``resolve_input`` (a warehouse table owned by this room) is what Splink reads. It is
derived from ``current_records`` each run: names split from ``full_name`` when the parts
are absent, transliteration and phonetic keys, identifiers cleaned to a comparable form,
dates split into the parts the date levels need, and the cognate groups of the given
name (``given_cog``: Mykola, Nikolai and Nicholas share one, see ``names.cognate_groups``).
"""

from __future__ import annotations

import pandas as pd

from casegraph.ontology import NON_PERSON_KINDS
from casegraph.resolve import names
from casegraph.resolve.address import address_key_sql, house_number_sql
from casegraph.workspace import Workspace

INPUT_TABLE = "resolve_input"

#: Columns of ``resolve_input`` that Splink compares (plus ``unique_id``).
MATCH_COLUMNS = (
    "given_norm", "family_norm", "given_key", "given_tk", "given_first", "given_toks",
    "given_cog",
    "family_key", "family_toks", "given_ph", "family_ph", "dob", "birth_year", "sex", "nationality", "birth_country",
    "a_number", "passport", "fbi", "national_id", "phone", "email", "street_address",
    "street_num", "postcode", "locality",
)

_NORM_SQL = "nullif(trim(regexp_replace(regexp_replace(lower(strip_accents({x})), " \
            "'[^a-z0-9 ]', ' ', 'g'), ' +', ' ', 'g')), '')"


def _norm(expr: str) -> str:
    return _NORM_SQL.format(x=expr)


def _ident(expr: str) -> str:
    """Identifier comparable form: upper case letters and digits only."""
    return f"nullif(regexp_replace(upper(cast({expr} as varchar)), '[^A-Z0-9]', '', 'g'), '')"


def base_sql(where: str = "true") -> str:
    """SQL selecting the cleaned, not-yet-keyed matching columns from ``current_records``."""
    kinds = ", ".join(f"'{k}'" for k in NON_PERSON_KINDS)
    has_comma = "coalesce(full_name, '') like '%,%'"
    split_family = (f"case when {has_comma} then split_part(full_name, ',', 1) "
                    "else regexp_extract(trim(full_name), '(\\S+)$', 1) end")
    split_given = (f"case when {has_comma} then substr(full_name, strpos(full_name, ',') + 1) "
                   "else regexp_replace(trim(full_name), '\\s*\\S+$', '') end")
    a_digits = "regexp_replace(cast(a_number as varchar), '[^0-9]', '', 'g')"
    return f"""
    select record_key as unique_id, source, record_id, kind, loaded_at, batch_id,
        coalesce(given_name, case when family_name is null then nullif(trim({split_given}), '') end
                 ) as given_display,
        coalesce(family_name, case when given_name is null then nullif(trim({split_family}), '') end
                 ) as family_display,
        coalesce(given_name_norm, {_norm('given_name')},
                 case when given_name is null and family_name is null then {_norm(split_given)} end
                 ) as given_norm,
        coalesce(family_name_norm, {_norm('family_name')},
                 case when given_name is null and family_name is null then {_norm(split_family)} end
                 ) as family_norm,
        birth_date as dob,
        year(birth_date) as birth_year,
        strftime(birth_date, '%m%d') as birth_md,
        month(birth_date) as birth_month,
        least(month(birth_date), day(birth_date)) * 100
            + greatest(month(birth_date), day(birth_date)) as birth_md_sorted,
        upper(sex) as sex,
        upper(nationality) as nationality,
        upper(birth_country) as birth_country,
        case when length({a_digits}) between 8 and 9
                  and replace({a_digits}, left({a_digits}, 1), '') <> ''
                  and lpad({a_digits}, 9, '0') not in ('000000000', '123456789', '999999999')
             then lpad({a_digits}, 9, '0') end as a_number,
        {_ident('passport_number')} as passport,
        {_ident('fbi_number')} as fbi,
        {_ident('national_id')} as national_id,
        nullif(right(regexp_replace(phone, '[^0-9]', '', 'g'), 10), '') as phone,
        nullif(lower(trim(email)), '') as email,
        {address_key_sql(_address_sql())} as street_address,
        {_ident('postcode')} as postcode,
        coalesce(locality_norm, {_norm('locality')}) as locality
    from current_records
    where kind not in ({kinds}) and ({where})
    """


def _address_sql() -> str:
    """The record's street address, normalised (the ingest's, else built from its parts)."""
    return ("coalesce(street_address_norm, "
            + _norm("concat_ws(' ', street_number, coalesce(street_norm, street))") + ")")


_KEY_COLUMNS = ["norm", "key", "first_key", "ph", "toks", "last_key", "first_tok", "cog"]


def _name_keys(values: list[str]) -> pd.DataFrame:
    rows = []
    for v in values:
        toks = names.tokens(v)
        rows.append((v, names.name_key(v), names.first_token_key(v), names.phonetic(v),
                     names.token_keys(v), names.translit_token(toks[-1]) if toks else None,
                     toks[0] if toks else None, names.cognate_groups(v)))
    return pd.DataFrame(rows, columns=_KEY_COLUMNS)


def build_input(ws: Workspace, *, table: str = INPUT_TABLE, where: str = "true") -> int:
    """(Re)build the matching input table; returns its row count."""
    con = ws.con
    con.execute(f"create or replace temp table _resolve_base as {base_sql(where)}")
    vals = con.execute(
        "select distinct v from (select given_norm v from _resolve_base union all "
        "select family_norm from _resolve_base) where v is not null").fetchall()
    keys = _name_keys([v for (v,) in vals])
    if keys.empty:
        keys = pd.DataFrame({c: pd.Series(dtype="object" if c in ("toks", "cog") else "str")
                             for c in _KEY_COLUMNS})
    con.register("_resolve_name_keys_df", keys)
    con.execute("create or replace temp table _resolve_name_keys as "
                "select norm, key, first_key, ph, cast(toks as varchar[]) as toks, last_key, "
                "first_tok, cast(cog as varchar[]) as cog "
                "from _resolve_name_keys_df")
    con.unregister("_resolve_name_keys_df")
    con.execute(f"""
        create or replace table {table} as
        select b.unique_id, b.source, b.record_id, b.kind, b.loaded_at, b.batch_id,
            b.given_display, b.family_display,
            b.given_norm, b.family_norm,
            g.key as given_key, g.first_key as given_tk, g.ph as given_ph,
            g.first_tok as given_first, g.toks as given_toks, g.cog as given_cog,
            f.key as family_key, f.toks as family_toks, f.ph as family_ph,
            f.first_key as family_first, f.last_key as family_last,
            b.dob, b.birth_year, b.birth_md, b.birth_month, b.birth_md_sorted, b.sex, b.nationality, b.birth_country,
            b.a_number, b.passport, b.fbi, b.national_id, b.phone, b.email,
            b.street_address, {house_number_sql('b.street_address')} as street_num,
            b.postcode, b.locality,
            -- how many records carry this name (keys): blocking on a name alone is only
            -- done for names rare enough for that to be linear in the data (and to mean
            -- something). In the same statement: a second pass rewrote the wide table
            count(*) over (partition by g.first_key, f.key) as name_n
        from _resolve_base b
        left join _resolve_name_keys g on g.norm = b.given_norm
        left join _resolve_name_keys f on f.norm = b.family_norm
        order by b.unique_id
    """)
    con.execute("drop table if exists _resolve_base")
    con.execute("drop table if exists _resolve_name_keys")
    return con.execute(f"select count(*) from {table}").fetchall()[0][0]
