"""`import_companies`: payers changing, --dry-run, --delete-missing, interruptions, progress.

These run on whichever database the suite runs on: SQLite (the ORM path) or PostgreSQL (COPY
and set-based statements, eligibility.sql.registry), with the same expectations.
"""

import io

import pytest
from django.core.management import CommandError, call_command

from eligibility.importer import import_companies
from eligibility.models import Company, Product, Subscription
from tests.eligibility.test_eligibility_import import (
    HEADER,
    cnpj,
    registry,
    run,
    subscriptions,
    write,
)
from tests.factories import CompanyFactory, ProductFactory, SubscriptionFactory

KEPT = cnpj("45723174")
GONE_CLIENT = cnpj("28391765")
GONE_BLOCKED = cnpj("90246183")
GONE_PROSPECT = cnpj("35068427")


@pytest.fixture
def products(db):
    return {
        code: ProductFactory(code=code, name=code.title())
        for code in ("wellhub-standard", "family-members", "wellhub-plus")
    }


def models():
    return sorted(
        (s.company.tax_id, s.product.code, s.paid_by_partner_id, s.business_model)
        for s in Subscription.objects.select_related("company", "product")
    )


def snapshot():
    """Everything an import may change, with ids and timestamps."""
    return (
        list(Company.objects.order_by("pk").values_list()),
        list(Subscription.objects.order_by("pk").values_list()),
        list(Product.objects.order_by("pk").values_list()),
    )


# --- Who pays ---------------------------------------------------------------------------------


def test_subscriptions_follow_their_payer_from_client_to_partner_and_back(
    tmp_path, products, partner
):
    line = "BR,{},Academia,client,wellhub-standard|family-members,{}"
    run(write(tmp_path, HEADER, line.format(KEPT, "client")))
    assert models() == [
        (KEPT, "family-members", None, ""),
        (KEPT, "wellhub-standard", None, ""),
    ]
    out, _ = run(write(tmp_path, HEADER, line.format(KEPT, "Acme Resellers"), name="2.csv"))
    assert models() == [
        (KEPT, "family-members", partner.pk, "reseller"),
        (KEPT, "wellhub-standard", partner.pk, "reseller"),
    ]
    assert "0 created, 1 updated, 0 unchanged" in out
    assert "Subscriptions: 0 created, 2 updated, 0 removed" in out
    out, _ = run(write(tmp_path, HEADER, line.format(KEPT, "client"), name="3.csv"))
    assert models() == [
        (KEPT, "family-members", None, ""),
        (KEPT, "wellhub-standard", None, ""),
    ]
    assert "Subscriptions: 0 created, 2 updated, 0 removed" in out


def test_a_referral_stays_a_referral_while_the_client_pays(tmp_path, products, partner):
    company = CompanyFactory(tax_id=KEPT, legal_name="Academia", client=True)
    SubscriptionFactory(
        company=company, product=products["wellhub-standard"], business_model="referral"
    )
    out, _ = run(write(tmp_path, HEADER, f"BR,{KEPT},Academia,client,wellhub-standard,client"))
    assert "0 updated, 1 unchanged" in out
    assert models() == [(KEPT, "wellhub-standard", None, "referral")]


def test_a_company_on_two_lines_far_apart_is_loaded_once_with_the_later_line(tmp_path, products):
    fillers = [f"BR,{cnpj(f'{50000000 + i:08d}')},Filler {i},prospect,," for i in range(5)]
    path = write(
        tmp_path,
        HEADER,
        f"BR,{KEPT},First,client,wellhub-standard,client",
        *fillers,
        f"BR,{KEPT},Second,prospect,,",
    )
    out, err = run(path, "--chunk-size", "2")
    assert registry()[("BR", KEPT)] == ("Second", "prospect")
    assert subscriptions() == []
    assert "line 8: Same company as line 2" in err
    assert "7 rows: 6 created, 0 updated, 0 unchanged, 0 invalid, 1 repeated" in out


# --- --dry-run ------------------------------------------------------------------------------


def test_dry_run_on_a_loaded_registry_counts_the_changes_and_writes_nothing(
    tmp_path, products, partner
):
    run(
        write(
            tmp_path,
            HEADER,
            f"BR,{KEPT},Academia,client,wellhub-standard|family-members,client",
            f"BR,{GONE_CLIENT},Construtora,client,wellhub-standard,client",
        )
    )
    before = snapshot()
    out, _ = run(
        write(
            tmp_path,
            HEADER,
            f"BR,{KEPT},Academia,client,wellhub-standard|wellhub-plus,Acme Resellers",
            f"BR,{GONE_CLIENT},Construtora,client,wellhub-standard,client",
            f"BR,{GONE_PROSPECT},Nova,prospect,,",
            name="second.csv",
        ),
        "--dry-run",
    )
    assert snapshot() == before
    assert out.startswith("Dry run, nothing written.")
    assert "3 rows: 1 created, 1 updated, 1 unchanged, 0 invalid" in out
    assert "Subscriptions: 1 created, 1 updated, 1 removed." in out


# --- --delete-missing -----------------------------------------------------------------------


@pytest.fixture
def full_registry(products, partner):
    """Four companies; the next full export lists only KEPT."""
    standard = products["wellhub-standard"]
    kept = CompanyFactory(tax_id=KEPT, legal_name="Academia", client=True)
    SubscriptionFactory(company=kept, product=standard)
    client = CompanyFactory(tax_id=GONE_CLIENT, legal_name="Construtora", client=True)
    SubscriptionFactory(company=client, product=standard, paid_by_partner=partner)
    SubscriptionFactory(company=client, product=products["wellhub-plus"])
    blocked = CompanyFactory(tax_id=GONE_BLOCKED, legal_name="Mineradora", blocked=True)
    SubscriptionFactory(company=blocked, product=standard)
    CompanyFactory(tax_id=GONE_PROSPECT, legal_name="Logistica")
    return kept


def statuses():
    return dict(Company.objects.values_list("tax_id", "status"))


EXPORT = [HEADER, f"BR,{KEPT},Academia,client,wellhub-standard,client"]


def test_delete_missing_with_yes_ends_the_client_status_of_companies_not_in_the_file(
    tmp_path, full_registry
):
    out, err = run(write(tmp_path, *EXPORT), "--delete-missing", "--yes")
    assert statuses() == {
        KEPT: "client",
        GONE_CLIENT: "prospect",
        GONE_BLOCKED: "blocked",  # a block is Wellhub's decision, not the export's
        GONE_PROSPECT: "prospect",
    }
    assert models() == [(KEPT, "wellhub-standard", None, "")]
    assert Company.objects.count() == 4  # nobody is deleted
    assert "1 unchanged" in out and "Subscriptions: 0 created, 0 updated, 3 removed." in out
    assert "Missing from the file: 2 companies are no longer clients" in out
    assert err == ""


def test_without_delete_missing_companies_missing_from_the_file_are_left_alone(
    tmp_path, full_registry
):
    before = snapshot()
    out, _ = run(write(tmp_path, *EXPORT))
    assert snapshot() == before
    assert "1 unchanged" in out and "no longer clients" not in out


def test_delete_missing_without_yes_and_without_a_terminal_is_refused_before_reading(
    tmp_path, full_registry
):
    before = snapshot()
    path = write(tmp_path, *EXPORT, f"BR,{cnpj('11222333')},New,prospect,,")
    with pytest.raises(CommandError, match="confirm with --yes"):
        call_command("import_companies", path, "--delete-missing", stdin=io.StringIO("yes\n"))
    assert snapshot() == before


class Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize(("answer", "applied"), [("yes\n", True), ("no\n", False), ("", False)])
def test_delete_missing_asks_on_a_terminal_and_does_only_what_was_confirmed(
    tmp_path, full_registry, answer, applied
):
    before = snapshot()
    out = io.StringIO()
    arguments = (write(tmp_path, *EXPORT), "--delete-missing")
    if applied:
        call_command("import_companies", *arguments, stdin=Terminal(answer), stdout=out)
        assert statuses()[GONE_CLIENT] == "prospect"
    else:
        with pytest.raises(CommandError, match="Not confirmed"):
            call_command("import_companies", *arguments, stdin=Terminal(answer), stdout=out)
        assert snapshot() == before
    assert "Type 'yes' to go on" in out.getvalue()


def test_delete_missing_dry_run_counts_without_asking_and_writes_nothing(tmp_path, full_registry):
    before = snapshot()
    out, _ = run(write(tmp_path, *EXPORT), "--delete-missing", "--dry-run")
    assert snapshot() == before
    assert "Missing from the file: 2 companies are no longer clients" in out
    assert "3 removed" in out


def test_delete_missing_is_not_applied_when_lines_are_invalid(tmp_path, full_registry):
    path = write(tmp_path, *EXPORT, f"BR,{GONE_CLIENT},Construtora,client,gold-plan,client")
    _, err = run(path, "--delete-missing", "--yes", invalid=1)
    assert statuses()[GONE_CLIENT] == "client"  # its line was invalid: not taken for gone
    assert Subscription.objects.filter(company__tax_id=GONE_BLOCKED).exists()
    assert "--delete-missing was not applied" in err and "1 line of the file is invalid" in err


def test_yes_alone_is_refused(tmp_path, db):
    with pytest.raises(CommandError, match="--yes only confirms --delete-missing"):
        run(write(tmp_path, HEADER), "--yes")


# --- Interruptions: the registry is left exactly as it was ------------------------------------


@pytest.mark.django_db(transaction=True)
def test_an_import_interrupted_after_its_first_writes_leaves_the_registry_unchanged(
    tmp_path, full_registry
):
    """Ctrl-C once the first statement (PostgreSQL) or batch (SQLite) has written."""
    before = snapshot()
    path = write(
        tmp_path,
        HEADER,
        f"BR,{KEPT},Academia Renamed,client,wellhub-plus,Acme Resellers",
        f"BR,{GONE_CLIENT},Construtora,prospect,,",
        f"BR,{cnpj('11222333')},Nova,client,wellhub-standard,client",
    )
    writes = []

    def interrupt_on_the_second_write(progress):
        if progress.phase not in ("reading", "duplicates"):
            writes.append(progress.phase)
            if len(writes) == 2:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt), open(path, "rb") as stream:
        import_companies(
            stream=stream,
            on_problem=lambda *problem: None,
            chunk_size=1,
            on_progress=interrupt_on_the_second_write,
        )
    assert snapshot() == before


@pytest.mark.django_db(transaction=True)
def test_a_database_error_at_the_end_of_an_import_leaves_the_registry_unchanged(
    tmp_path, full_registry
):
    """A product deleted while the import runs: its new subscriptions fail the foreign key
    when the transaction commits, after every statement of the import has run."""
    before = snapshot()
    path = write(
        tmp_path,
        HEADER,
        f"BR,{KEPT},Academia Renamed,client,wellhub-standard|family-members,client",
        f"BR,{cnpj('11222333')},Nova,client,family-members,client",
    )

    def delete_the_product(progress):
        if progress.phase == "companies":
            Product.objects.filter(code="family-members").delete()

    with pytest.raises(Exception, match="(?i)foreign key"):
        with open(path, "rb") as stream:
            import_companies(
                stream=stream, on_problem=lambda *problem: None, on_progress=delete_the_product
            )
    assert snapshot() == before


# --- Progress ---------------------------------------------------------------------------------


def _rows(count):
    return [f"BR,{cnpj(f'{60000000 + i:08d}')},Company {i},prospect,," for i in range(count)]


def test_progress_shows_rows_per_second_on_a_terminal(tmp_path, products):
    err = Terminal()
    call_command(
        "import_companies", write(tmp_path, HEADER, *_rows(20)), stdout=io.StringIO(), stderr=err
    )
    shown = err.getvalue()
    assert "rows/s" in shown and "\r" in shown
    assert shown.endswith("\r")  # the progress line is wiped before the summary


def test_progress_stays_quiet_when_not_on_a_terminal(tmp_path, products):
    _, err = run(write(tmp_path, HEADER, *_rows(20)))
    assert err == ""
