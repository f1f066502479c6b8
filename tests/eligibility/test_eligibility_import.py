"""`manage.py import_companies FILE`: ops load the company registry from CSV (DESIGN §8)."""

import io

import pytest
from django.core.management import CommandError, call_command
from stdnum.br import cnpj as stdnum_cnpj

from eligibility import importer
from eligibility.importer import ImportCounts, import_companies
from eligibility.models import Company, Subscription
from tests.factories import ProductFactory

HEADER = "country,tax_id,legal_name,status,products,paid_by"


def cnpj(root: str, branch: str = "0001") -> str:
    base = root + branch
    return base + stdnum_cnpj.calc_check_digits(base)


@pytest.fixture
def products(db):
    for code, name in [
        ("wellhub-standard", "Wellhub Standard"),
        ("family-members", "Family Members"),
        ("wellhub-plus", "Wellhub+"),
    ]:
        ProductFactory(code=code, name=name)


def write(tmp_path, *lines, name="companies.csv", encoding="utf-8", newline="\n"):
    path = tmp_path / name
    path.write_bytes(newline.join(lines).encode(encoding) + newline.encode())
    return str(path)


def run(path, *args, invalid=0):
    """Run the command; with invalid rows it loads the rest and exits with an error."""
    out, err = io.StringIO(), io.StringIO()
    if invalid:
        with pytest.raises(CommandError, match=f"{invalid} invalid rows were skipped"):
            call_command("import_companies", path, *args, stdout=out, stderr=err)
    else:
        call_command("import_companies", path, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def registry():
    return {
        (c.country, c.tax_id): (c.legal_name, c.status)
        for c in Company.objects.order_by("country", "tax_id")
    }


def subscriptions():
    return sorted(
        (s.company.tax_id, s.product.code, s.paid_by_partner.name if s.paid_by_partner else None)
        for s in Subscription.objects.select_related("company", "product", "paid_by_partner")
    )


GOOD = [
    HEADER,
    "BR,45.723.174/0001-10,Academia Paulista Ltda,client,wellhub-standard|family-members,client",
    "BR,28391765000119,Construtora Horizonte SA,client,wellhub-standard,acme resellers",
    "MX,GFA-010203-CX4,Grupo Ferretero Azteca,prospect,,",
    "BR,90.246.183/0001-12,Mineradora Serra Alta,blocked,,",
]


def test_good_file_loads_companies_in_compact_form_with_their_subscriptions(
    tmp_path, products, partner
):
    out, err = run(write(tmp_path, *GOOD))
    assert registry() == {
        ("BR", "28391765000119"): ("Construtora Horizonte SA", "client"),
        ("BR", "45723174000110"): ("Academia Paulista Ltda", "client"),
        ("BR", "90246183000112"): ("Mineradora Serra Alta", "blocked"),
        ("MX", "GFA010203CX4"): ("Grupo Ferretero Azteca", "prospect"),
    }
    assert subscriptions() == [
        ("28391765000119", "wellhub-standard", "Acme Resellers"),
        ("45723174000110", "family-members", None),
        ("45723174000110", "wellhub-standard", None),
    ]
    assert "4 created" in out and "0 invalid" in out and "3 created, 0 updated" in out
    assert err == ""
    # Branch lookups work on imported companies: the root is filled in.
    assert Company.objects.get(tax_id="45723174000110").root == "45723174"


def test_rerunning_the_same_file_changes_nothing(tmp_path, products, partner):
    path = write(tmp_path, *GOOD)
    run(path)
    before = (registry(), subscriptions(), list(Company.objects.values_list("pk", flat=True)))
    out, _ = run(path)
    after = (registry(), subscriptions(), list(Company.objects.values_list("pk", flat=True)))
    assert after == before
    assert "0 created, 0 updated, 4 unchanged" in out


def test_rerun_with_changes_updates_companies_and_their_products(tmp_path, products, partner):
    run(write(tmp_path, *GOOD))
    out, _ = run(
        write(
            tmp_path,
            HEADER,
            "BR,45723174000110,Academia Paulista S.A.,client,wellhub-plus|wellhub-standard,"
            "Acme Resellers",
            "BR,28391765000119,Construtora Horizonte SA,client,wellhub-standard,acme resellers",
            name="second.csv",
        )
    )
    assert registry()[("BR", "45723174000110")] == ("Academia Paulista S.A.", "client")
    assert Company.objects.count() == 4  # never duplicated
    assert subscriptions() == [
        ("28391765000119", "wellhub-standard", "Acme Resellers"),
        ("45723174000110", "wellhub-plus", "Acme Resellers"),
        ("45723174000110", "wellhub-standard", "Acme Resellers"),
    ]
    assert "0 created, 1 updated, 1 unchanged" in out
    assert "1 created, 1 updated, 1 removed" in out


def test_invalid_rows_are_reported_with_line_numbers_and_valid_rows_still_load(
    tmp_path, products, partner
):
    path = write(
        tmp_path,
        HEADER,
        "BR,11.222.333/0001-82,Wrong Digit,prospect,,",
        "BR,11222333000181,Good One,prospect,,",
        "ZZ,123,Nowhere,prospect,,",
        "BR,16727230000197,Bad Status,customer,,",
        "BR,35068427000106,Bad Product,client,gold-plan,client",
        "BR,61350842000168,Bad Partner,client,wellhub-standard,Globex",
        "BR,77420519000153,No Payer,client,wellhub-standard,",
        "BR,90246183000112,Too,Many,Columns,here,really",
        "BR,,Empty,prospect,,",
    )
    out, err = run(path, invalid=8)
    assert registry() == {("BR", "11222333000181"): ("Good One", "prospect")}
    lines = err.splitlines()
    assert lines[0].startswith("line 2: ") and "check digit" in lines[0]
    assert lines[1].startswith("line 4: ") and "country" in lines[1]
    assert lines[2].startswith("line 5: ") and "customer" in lines[2]
    assert lines[3].startswith("line 6: ") and "gold-plan" in lines[3]
    assert lines[4].startswith("line 7: ") and "Globex" in lines[4]
    assert lines[5].startswith("line 8: ") and "who pays" in lines[5]
    assert lines[6].startswith("line 9: ") and "Expected 6 values, found 7" in lines[6]
    assert lines[7].startswith("line 10: ") and "Tax ID" in lines[7]
    assert "1 created" in out and "8 invalid" in out


def test_every_problem_of_a_row_is_reported_at_once(tmp_path, products):
    _, err = run(write(tmp_path, HEADER, "ZZ,1,x,weird,nope,Nobody"), invalid=1)
    assert err.count("line 2:") == 1
    for word in ("country", "weird", "nope", "Nobody"):
        assert word in err


def test_utf8_with_bom_and_crlf_and_quoted_fields_is_read(tmp_path, products):
    path = write(
        tmp_path,
        HEADER,
        'BR,45723174000110,"Academia Paulista, Filial ""Centro""",prospect,,',
        "MX,GFA010203CX4,Ferretería Ñandú,prospect,,",
        "",
        "",
        encoding="utf-8-sig",
        newline="\r\n",
    )
    out, err = run(path)
    assert registry() == {
        ("BR", "45723174000110"): ('Academia Paulista, Filial "Centro"', "prospect"),
        ("MX", "GFA010203CX4"): ("Ferretería Ñandú", "prospect"),
    }
    assert err == "" and "2 rows" in out


def test_semicolon_delimited_file_from_a_spreadsheet_is_read(tmp_path, products):
    path = write(tmp_path, HEADER.replace(",", ";"), "BR;45.723.174/0001-10;Academia;prospect;;")
    run(path)
    assert registry() == {("BR", "45723174000110"): ("Academia", "prospect")}


def test_header_in_another_order_and_case_is_accepted(tmp_path, products):
    path = write(
        tmp_path,
        "Tax_ID,Country,Status,Legal_Name,Paid_By,Products",
        "45723174000110,br,CLIENT,A,,",
    )
    run(path)
    assert registry() == {("BR", "45723174000110"): ("A", "client")}


def test_repeated_company_in_one_file_is_loaded_once_and_the_later_line_wins(tmp_path, products):
    path = write(
        tmp_path,
        HEADER,
        "BR,45723174000110,First,prospect,,",
        "BR,45.723.174/0001-10,Second,client,,",
    )
    out, err = run(path)
    assert registry() == {("BR", "45723174000110"): ("Second", "client")}
    assert "line 3: Same company as line 2" in err
    assert "1 created" in out and "1 repeated" in out


def test_dry_run_validates_and_counts_but_writes_nothing(tmp_path, products, partner):
    out, err = run(write(tmp_path, *GOOD, "BR,1,Bad,prospect,,"), "--dry-run", invalid=1)
    assert Company.objects.count() == 0 and Subscription.objects.count() == 0
    assert "Dry run" in out and "4 created" in out and "1 invalid" in out
    assert "line 6:" in err


def test_missing_file_is_a_clear_error(tmp_path, db):
    with pytest.raises(CommandError, match="No such file"):
        run(str(tmp_path / "nope.csv"))


def test_directory_is_a_clear_error(tmp_path, db):
    with pytest.raises(CommandError, match="directory"):
        run(str(tmp_path))


def test_binary_file_is_refused_and_nothing_is_written(tmp_path, db):
    path = tmp_path / "image.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(CommandError, match="not a CSV"):
        run(str(path))
    assert Company.objects.count() == 0


def test_empty_file_is_refused(tmp_path, db):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(CommandError, match="empty"):
        run(str(path))


@pytest.mark.parametrize(
    "header", ["country,tax_id,legal_name", "pais,cnpj,nome,status,products,paid_by", "tax_id"]
)
def test_missing_columns_are_named_and_nothing_is_written(tmp_path, products, header):
    path = write(tmp_path, header, "BR,45723174000110,A,prospect,,")
    with pytest.raises(CommandError, match="misses the columns") as error:
        run(path)
    assert "country,tax_id,legal_name,status,products,paid_by" in str(error.value)
    assert Company.objects.count() == 0


def test_windows_1252_file_from_a_spreadsheet_is_read(tmp_path, products):
    path = write(
        tmp_path,
        HEADER,
        "BR,45723174000110,São Paulo Ginástica — Ltda,prospect,,",
        "MX,GFA010203CX4,Ferretería,prospect,,",
        encoding="cp1252",
        newline="\r\n",
    )
    out, err = run(path)
    assert registry() == {
        ("BR", "45723174000110"): ("São Paulo Ginástica — Ltda", "prospect"),
        ("MX", "GFA010203CX4"): ("Ferretería", "prospect"),
    }
    assert err == "" and "2 created" in out


def test_tab_delimited_file_with_a_bom_is_read(tmp_path, products):
    path = write(
        tmp_path,
        HEADER.replace(",", "\t"),
        "BR\t45.723.174/0001-10\tAcademia, Centro\tclient\twellhub-standard\tclient",
        encoding="utf-8-sig",
    )
    run(path)
    assert registry() == {("BR", "45723174000110"): ("Academia, Centro", "client")}
    assert subscriptions() == [("45723174000110", "wellhub-standard", None)]


def test_semicolon_delimited_windows_1252_file_with_quoted_fields_is_read(tmp_path, products):
    path = write(
        tmp_path,
        HEADER.replace(",", ";"),
        'BR;45723174000110;"Açaí; Cia ""Centro""";prospect;;',
        encoding="cp1252",
        newline="\r\n",
    )
    run(path)
    assert registry() == {("BR", "45723174000110"): ('Açaí; Cia "Centro"', "prospect")}


def test_bytes_that_no_encoding_can_read_are_refused_and_nothing_is_written(tmp_path, products):
    # 0x81 is undefined in Windows-1252 and invalid on its own in UTF-8.
    path = tmp_path / "companies.csv"
    path.write_bytes(
        f"{HEADER}\nBR,45723174000110,Good,prospect,,\n".encode() + b"MX,1,Caf\x81,,,\n"
    )
    with pytest.raises(CommandError, match="characters we cannot read"):
        run(str(path))
    assert Company.objects.count() == 0


def test_a_huge_field_is_refused_as_not_a_csv(tmp_path, products):
    path = write(tmp_path, HEADER, "BR,45723174000110," + "x" * 200_000 + ",prospect,,")
    with pytest.raises(CommandError, match="not a valid CSV"):
        run(path)
    assert Company.objects.count() == 0


def test_too_long_legal_name_is_a_row_error(tmp_path, products):
    _, err = run(
        write(tmp_path, HEADER, "BR,45723174000110," + "x" * 300 + ",prospect,,"), invalid=1
    )
    assert "line 2:" in err and "legal name" in err
    assert Company.objects.count() == 0


def test_binary_data_after_the_start_of_the_file_is_a_row_error(tmp_path, products):
    rows = [HEADER] + [
        f"BR,{cnpj(f'{50000000 + i:08d}')},Filler {i},prospect,," for i in range(2000)
    ]
    rows.append("BR,45723174000110,Bad\x00Name,prospect,,")
    _, err = run(write(tmp_path, *rows), invalid=1)
    assert "line 2002:" in err and "binary" in err
    assert Company.objects.count() == 2000


def test_hostile_text_is_stored_as_text(tmp_path, products):
    run(write(tmp_path, HEADER, "BR,45723174000110,<script>alert(1)</script>'; DROP--,prospect,,"))
    assert registry() == {
        ("BR", "45723174000110"): ("<script>alert(1)</script>'; DROP--", "prospect")
    }


def test_bad_chunk_size_is_refused(tmp_path, db):
    with pytest.raises(CommandError, match="chunk-size"):
        run(write(tmp_path, HEADER), "--chunk-size", "0")


def test_rows_are_loaded_in_batches_with_a_constant_number_of_queries_per_batch(
    tmp_path, products, partner, django_assert_max_num_queries
):
    rows = [HEADER]
    for i in range(120):
        payer = "client" if i % 2 else "Acme Resellers"
        rows.append(f"BR,{cnpj(f'{40000000 + i:08d}')},Company {i},client,wellhub-standard,{payer}")
    path = write(tmp_path, *rows)
    # 3 batches of 50: catalog (2) + per batch: lookup, subscriptions lookup, inserts (2);
    # the savepoint of the whole-file transaction adds a couple more.
    with django_assert_max_num_queries(2 + 3 * 4 + 4):
        run(path, "--chunk-size", "50")
    assert Company.objects.count() == 120 and Subscription.objects.count() == 120


def test_service_streams_problems_as_it_finds_them(db, products):
    seen = []
    counts = import_companies(
        stream=io.BytesIO(f"{HEADER}\nBR,1,a,prospect,,\nBR,2,b,prospect,,\n".encode()),
        on_problem=lambda line, message: seen.append(line),
    )
    assert seen == [2, 3]
    assert counts == ImportCounts(rows=2, invalid=2)


def test_a_big_load_refreshes_the_planner_statistics_without_failing(
    tmp_path, products, monkeypatch
):
    monkeypatch.setattr(importer, "_ANALYZE_AFTER_ROWS", 1)
    out, _ = run(write(tmp_path, HEADER, "BR,45723174000110,A,prospect,,"))
    assert "1 created" in out
