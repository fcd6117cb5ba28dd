"""Import N rows (half of them companies already listed, written otherwise) into an N-account workbook.

    .venv/bin/python benchmarks/bench_import.py 10000
    .venv/bin/python benchmarks/bench_import.py 100000

Prints the wall and CPU time of ``import_files`` (reading the CSV and the
workbook, mapping, duplicate search, the save; pandas is already imported),
each step's wall time, the peak memory of the process, and how well the
planted duplicates were found.
"""
from __future__ import annotations

import random
import resource
import sys
import tempfile
import time
from pathlib import Path

from maillon.addin.filemode.importing import import_files
from maillon.addin.filemode.read import read_tables
from maillon.engine.normalise import name_key
from maillon.workbook_templates.build import build_demo

FORMS = ["", " SARL", " SAS", " S.A.", " et Cie"]


def main(n: int) -> None:
    rnd = random.Random(5)
    with tempfile.TemporaryDirectory() as tmp:
        book = Path(tmp) / "team.xlsx"
        build_demo(book, n_accounts=n, seed=3)
        accounts = read_tables(book, ["tblAccounts"])["tblAccounts"].data
        lines = ["Nom du compte;Ville;Effectif;Chiffre d'affaires annuel"]
        for name, city in zip(accounts["Account name"][: n // 2], accounts["City"][: n // 2]):
            lines.append(f"{str(name).upper()}{rnd.choice(FORMS)};{city};{rnd.randint(1, 900)};"
                         f"{rnd.randint(1, 900)}\u00a0000")
        for i in range(n - n // 2):
            lines.append(f"Nouvelle Société {i:06d}{rnd.choice(FORMS)};Ville {i % 300};12;")
        csv = Path(tmp) / "export.csv"
        csv.write_bytes("\r\n".join(lines).encode("cp1252"))
        start, cpu = time.perf_counter(), time.process_time()
        steps = []
        s = import_files(book, [csv], accept=True,
                         progress=lambda m: steps.append((time.perf_counter() - start, m)))
        seconds = time.perf_counter() - start
        cpu = time.process_time() - cpu
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"import {n:,} rows into {n:,} accounts: {seconds:.1f} s wall, {cpu:.1f} s CPU "
              f"(all threads; on a shared machine the wall time is the CPU time's share), "
              f"peak {peak:,.0f} MB "
              f"(new {s.new:,}, matched {s.matched:,}, to review {s.to_review:,})")
        for (t0, m), (t1, _) in zip(steps, steps[1:] + [(seconds, "")]):
            print(f"  {t1 - t0:5.1f} s  {m}")
        # the first half are accounts already listed (upper case, another legal form): held
        # for review against an account of the same name and city is right; any other hold
        # is a false alarm
        review = read_tables(book, ["tblImportReview"])["tblImportReview"].data
        key = {a: (name_key(x), str(c)) for a, x, c in zip(accounts["Account ID"],
                                                          accounts["Account name"],
                                                          accounts["City"])}
        source = [(name_key(x), str(c)) for x, c in zip(accounts["Account name"][: n // 2],
                                                         accounts["City"][: n // 2])]
        held = [(int(r) - 2, a) for r, a in zip(review["Incoming: row"], review["Account ID"])]
        right = sum(1 for i, a in held if i < n // 2 and key.get(a) == source[i])
        print(f"  duplicates planted {n // 2:,}: held against the right account {right:,} "
              f"(recall {right / (n // 2):.3f}), precision {right / max(1, len(held)):.3f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
