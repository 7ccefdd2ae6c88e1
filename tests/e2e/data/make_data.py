"""Writes the binary / non-UTF-8 files of the e2e scenarios (run once; the output is committed).

Hand-made agency sources nobody on the team has seen: a Latin-1 ``;`` CSV registry with
Spanish / Hungarian / Haitian names and European dates, a Windows-1250 Czech file, and
Parquet files with typed date, timestamp and nested struct columns (Vietnamese, Chinese,
Ethiopian, Afghan names). The JSONL scenario is plain text and lives next to this file.

    .venv/bin/python tests/e2e/data/make_data.py
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).parent


def latin1_csv() -> None:
    d = HERE / "latin1_csv"
    registro = """Expediente;Apellidos;Nombres;Fecha Nac.;Nacionalidad;Sexo;Num. A;Domicilio;Ciudad;Estado;CP
R-001;GARCÍA LÓPEZ;María Fernanda;14/03/1985;México;F;A-012-345-678;1200 Main St Apt 4;Houston;TX;77002
R-002;HERNÁNDEZ RUIZ;José Luis;22/07/1979;Guatemala;M;A-023-456-789;77 Pecan Ave;San Antonio;TX;78205
R-003;SZABÓ;Éva;05/12/1990;Hungary;F;A-034-567-890;9 Birch Rd;Chicago;IL;60601
R-004;PIERRE-LOUIS;Jean-Baptiste;02/04/1988;Haïti;M;A 045 678 901;310 NE 2nd Ave;Miami;FL;33132
R-005;MARTÍNEZ GÓMEZ;Ana Sofía;15/06/1995;Colombia;F;A-056-789-012;45 Oak St Apt 2;Newark;NJ;07102
R-006;MARTÍNEZ GÓMEZ;Lucía Isabel;15/06/1995;Colombia;F;A-067-890-123;45 Oak St Apt 2;Newark;NJ;07102
R-007;PÉREZ;Juan;10/02/1980;México;M;;5 Elm St;Dallas;TX;75201
R-008;PÉREZ;Juan;30/09/1975;México;M;;88 Cedar Ln;Austin;TX;78701
=2+3;+cmd|' /C calc'!A0;@SUM(1+1);01/01/1970;Ecuador;M;A-078-901-234;"=HYPERLINK(""http://x.example/?q=1"";""click"")";Houston;TX;77002
R-010;NÚÑEZ;Íñigo;31/02/1991;España;M;N/A;1 Plaza Mayor;El Paso;TX;79901
;SINID;Nadie;01/01/1990;México;M;;;;;
R-012;DEMASIADAS;Celdas;01/01/1990;México;M;;;;;;extra;cells
"""
    (d / "registro.csv").write_bytes(registro.encode("latin-1"))
    ordenes = """Nº Orden;Nombre completo;F. nacimiento;Número A;Fecha de la orden;Tipo;En ausencia;Apelación renunciada
O-1;GARCÍA, María Fernanda;14.03.1985;A012345678;01.02.2024;Removal;no;yes
O-2;HERNÁNDEZ RUIZ, José Luis;22.07.1979;A-023-456-789;10.05.2023;deportation;yes;no
O-3;SZABÓ, Éva;05.12.1990;034567890;15.01.2022;removal;no;yes
O-4;PIERRE-LOUIS, Jean Baptiste;02.04.1988;A-045-678-901;10.01.2025;REMOVAL;Y;N
O-5;MARTÍNEZ GÓMEZ, Ana Sofía;15.06.1995;A-056-789-012;03.03.2025;removal;N;Y
O-6;PÉREZ, Juan;10.02.1980;;20.06.2024;removal;0;1
O-7;"+cmd|' /C calc'!A0, @SUM(1+1)";01.01.1970;A-078-901-234;01.06.2024;removal;1;0
O-8;DVORAK, Jiri;08.08.1970;A-089-012-345;12.12.2023;removal;no;yes
O-9;NADIE, Fecha;01.01.1990;;31.02.2024;removal;no;yes
"""
    (d / "ordenes.csv").write_bytes(ordenes.encode("latin-1"))
    eventos = """ID Evento;Nº Orden;Apellidos y nombre;F. nacimiento;Número A;Tipo de evento;Fecha;Resultado;Fin de suspensión;Autoridad
E-1;O-2;HERNÁNDEZ RUIZ, José Luis;22/07/1979;A-023-456-789;Stay Granted;01/09/2026;;01/03/2027;Corte de Apelaciones
"""
    (d / "eventos.csv").write_bytes(eventos.encode("latin-1"))
    estatus = """Ref;Nombre;Nacimiento;Número A;Estatus;Fecha
S-1;Éva Szabó;1990-12-05;034567890;Naturalization;2025-06-30
"""
    (d / "estatus.csv").write_bytes(estatus.encode("latin-1"))
    cesky = """ID;Příjmení;Jméno;Datum narození;Státní příslušnost;Číslo A
C-1;Dvořák;Jiří;8.8.1970;CZE;A-089-012-345
C-2;Nováková;Kateřina;23.4.1986;CZE;
"""
    (d / "cesky.csv").write_bytes(cesky.encode("cp1250"))


def parquet_typed() -> None:
    d = HERE / "parquet_typed"
    addr = pa.struct([("line", pa.string()), ("city", pa.string()), ("state", pa.string()),
                      ("zip", pa.string())])
    persons = pa.table({
        "pid": pa.array([1, 2, 3, 4, 5, 6, 7], pa.int64()),
        "ho": ["Nguyễn", "Trần", "Wang", "Li", "Tesfaye", "Gebremariam", "Zarifa"],
        "ten": ["Văn An", "Thị Mai", "Xiaoming", "Na", "Abebe Bikila", "Mulugeta Haile", None],
        "dob": pa.array([dt.date(1979, 11, 2), dt.date(1992, 5, 17), dt.date(1983, 2, 14),
                         dt.date(1987, 9, 9), dt.date(1991, 1, 30), dt.date(1985, 10, 10),
                         dt.date(1980, 3, 3)], pa.date32()),
        "quoc_tich": ["VNM", "VNM", "CHN", "CHN", "ETH", "ETH", "AFG"],
        "anum": pa.array([98765432, 112233445, 223344556, 334455667, 445566778, 556677889,
                          667788990], pa.int64()),
        "addr": pa.array([
            {"line": "55 Elm St", "city": "Dallas", "state": "TX", "zip": "75201"},
            {"line": "12 Bay St", "city": "Houston", "state": "TX", "zip": "77003"},
            {"line": "400 Grand St", "city": "New York", "state": "NY", "zip": "10002"},
            {"line": "19 Mott St", "city": "New York", "state": "NY", "zip": "10013"},
            {"line": "801 U St NW", "city": "Washington", "state": "DC", "zip": "20001"},
            {"line": "66 Fern Ave", "city": "Seattle", "state": "WA", "zip": "98101"},
            {"line": "3 Lake Rd", "city": "Sacramento", "state": "CA", "zip": "95814"},
        ], addr),
    })
    pq.write_table(persons, d / "persons.parquet")
    ts = pa.timestamp("ms")
    orders = pa.table({
        "order_no": ["ORD-1", "ORD-2", "ORD-3", "ORD-4", "ORD-5", "ORD-6", "ORD-7"],
        "respondent": ["NGUYEN, VAN AN", "TRAN, THI MAI", "WANG, XIAOMING", "LI, NA",
                       "TESFAYE, ABEBE BIKILA", "GEBREMARIAM, MULUGETA HAILE", "ZARIFA"],
        "born": pa.array([dt.datetime(1979, 11, 2), dt.datetime(1992, 5, 17),
                          dt.datetime(1983, 2, 14), dt.datetime(1987, 9, 9),
                          dt.datetime(1991, 1, 30), dt.datetime(1985, 10, 10),
                          dt.datetime(1980, 3, 3)], ts),
        "alien_no": ["A098765432", "A-112-233-445", "223344556", "A334455667", "A445566778",
                     "A556677889", "A667788990"],
        "ordered": pa.array([dt.date(2024, 3, 1), dt.date(2024, 8, 15), dt.date(2023, 11, 11),
                             dt.date(2024, 1, 20), dt.date(2025, 6, 1), dt.date(2026, 10, 20),
                             dt.date(2024, 5, 5)], pa.date32()),
        "absentia": [False, True, False, False, True, False, False],
        "waived": [True, False, True, True, False, False, True],
    })
    pq.write_table(orders, d / "orders.parquet")
    tz = pa.timestamp("s", tz="Asia/Shanghai")
    exits = pa.table({
        "exit_id": ["X-1", "X-2"],
        "traveller": ["Xiaoming WANG", "Thi Mai Tran"],
        "dob": pa.array([dt.date(1983, 2, 14), dt.date(1992, 5, 17)], pa.date32()),
        "anum": ["223344556", None],
        "departed": pa.array([dt.datetime(2026, 7, 20, 15, 30), dt.datetime(2026, 8, 1, 2, 0)],
                             pa.timestamp("s", tz="UTC")).cast(tz),
        "channel": ["AIR", "app"],
        "port": ["JFK", None],
        "carrier": ["CA", None],
        "dest": ["CHN", "Viet Nam"],
    })
    pq.write_table(exits, d / "exits.parquet")
    status = pa.table({
        "case_ref": ["T-1"],
        "given": ["Na"], "family": ["LI"],
        "dob": pa.array([dt.date(1987, 9, 9)], pa.date64()),
        "anum": ["A-334-455-667"],
        "kind": ["T visa"],
        "filed": pa.array([dt.date(2025, 12, 1)], pa.date64()),
    })
    pq.write_table(status, d / "status.parquet")


def hard_links() -> None:
    """Blocking evidence on records that do not share an identifier with the order."""
    d = HERE / "hard_links"
    orders = ("Case management export\tgenerated 2026-11-01\n"
              "FOR OFFICIAL USE\n"
              "Order ID\tRespondent\tDOB\tA-Number\tOrder Date\tWaived\n"
              "H-1\tRODRIGUEZ PEREZ, CARMEN\t19840304\tA111-000-111\t20240115\tY\n"
              "H-2\tQURESHI, BILAL MOHAMMED\t19901010\tA222-000-222\t20240115\tY\n"
              "H-3\tNGUYEN, TUAN ANH\t19750505\tA333-000-333\t20240115\tY\n"
              "H-4\tKOVALENKO, OKSANA\t19880808\tA456-000-789\t20240115\tY\n"
              "H-5\tBEKELE, DAWIT ALEMU\t19920202\tA555-000-555\t20240115\tY\n"
              "H-6\tFIFITA, SIOSAIA\t19860606\tA666-000-666\t20240115\tY\n"
              "H-7\tJOHNSON, MICHAEL\t19800101\tA777-000-777\t20240115\tY\n")
    (d / "orders.txt").write_bytes(b"\xff\xfe" + orders.encode("utf-16-le"))


if __name__ == "__main__":
    latin1_csv()
    parquet_typed()
    hard_links()
    print("written")
