"""When a label is only its code again, and which values kept in ``extra`` are codes.

The rules of ``portal_conformance.rules.codes``; that the legibility check applies them to
a real plugin's store is ``test_conformance_selftest.py``'s broken_label_is_code and
broken_extra_code variants (and the reference plugins reaching gold).
"""

import pytest

from portal_conformance.rules.codes import code_problem, extra_problems, words


def test_words_split_camelcase_digits_and_every_separator_alike() -> None:
    assert words("InterimAvailable") == ["interim", "available"]
    assert words("INTERIM_AVAILABLE") == words("interim-available") == ["interim", "available"]
    assert words("UK.OBIE.IBAN") == ["uk", "obie", "iban"]
    assert words("EMoney") == ["e", "money"]


@pytest.mark.parametrize(
    ("code", "label"),
    [
        ("InterimAvailable", "InterimAvailable"),  # the code itself
        ("InterimAvailable", "interimavailable"),  # case only, no separator left
        ("InterimAvailable", "INTERIMAVAILABLE"),
        ("InterimAvailable", "interim_available"),  # snake
        ("InterimAvailable", "INTERIM_AVAILABLE"),
        ("InterimAvailable", "interim-available"),  # kebab
        ("InterimAvailable", "INTERIM-AVAILABLE"),
        ("InterimAvailable", "interim.available"),  # dots
        ("InterimAvailable", "Interim/Available"),
        ("InterimAvailable", "UK.OBIE.InterimAvailable"),  # behind a namespace
        ("UK.OBIE.InterimAvailable", "InterimAvailable"),  # the namespace dropped
        ("UK.OBIE.SortCodeAccountNumber", "sort_code_account_number"),
        ("Booked", "UK.OBIE.Booked"),  # one word, wrapped in a namespace
        ("interim_available", "InterimAvailable"),  # CamelCase split
        ("direct_debit", "DirectDebit"),
        ("ATM", "ATM"),
        ("5411", "5411"),
        ("Booked", None),
        ("Booked", "  "),
    ],
)
def test_a_code_respelled_or_missing_is_not_a_label(code: str, label: str | None) -> None:
    assert code_problem(code, label) is not None


@pytest.mark.parametrize(
    ("code", "label"),
    [
        ("InterimAvailable", "Available now"),
        ("CurrentAccount", "Current account"),
        ("active", "Active"),
        ("BAKERY", "Bakery"),
        ("UK.OBIE.IBAN", "IBAN"),
        ("UK.OBIE.InterimAvailable", "Available now"),
        ("ReceivedCreditTransfers.DomesticCreditTransfer", "Payment received"),
        ("pendingActive", "Being set up"),
    ],
)
def test_words_a_person_reads_are_a_label(code: str, label: str) -> None:
    assert code_problem(code, label) is None


def test_a_code_in_extra_needs_its_words_beside_it_at_any_depth() -> None:
    extra = {
        "Type": "RegularPeriodic",
        "Amounts": [{"Type": "UK.OBIE.TotalCredits", "Type_label": "Money in"}],
        "Account": {"SchemeName": "UK.OBIE.IBAN", "SchemeName_label": "UK.OBIE.IBAN"},
    }
    assert extra_problems(extra) == [
        "extra.Type: code 'RegularPeriodic' has no label",
        "extra.Account.SchemeName: code 'UK.OBIE.IBAN' is labelled with itself ('UK.OBIE.IBAN')",
    ]


def test_names_text_ids_single_words_and_schema_classes_in_extra_are_not_codes() -> None:
    extra = {
        "Issuer": "DemoBank",  # a name: its key does not name a code
        "Status": "Active",  # one plain word
        "TransactionReference": "REF_0001",
        "Description": "Card payment at TESCO STORES",
        "@type": "CustomerBill",  # TM Forum's schema class of the object
        "reason_code": "lower case words",
    }
    assert extra_problems(extra) == []
