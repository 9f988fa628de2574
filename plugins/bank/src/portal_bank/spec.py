"""What the Open Banking Account and Transaction API v3.1 allows, written down as data.

The source is the specification's OpenAPI document: repository OpenBankingUK/read-write-api-specs,
file ``dist/openapi/account-info-openapi.yaml``, version v3.1.7 (read through the apis.guru copy
that konfig-sdks/open-banking-account-and-transaction-java-sdk keeps as ``api/openapi.yaml``, whose
``x-origin`` names that file; the v3.1 series keeps these rules from v3.1.2 on). These rules are
the project's own summary of it, not a copy: for each resource the plugin reads, which fields
the specification requires and which it leaves optional, their types and formats, lengths and
code lists. ``portal_bank.spec_check`` checks a response against them
(``portal_bank.spec_endpoints`` says which rule each answer follows); the tests run it
over every response the sandbox serves, in each of its variants.

What the specification says that decides how the plugin reads a response:

- Almost every id is optional: ``TransactionId``, ``StatementId``, ``DirectDebitId``,
  ``StandingOrderId``, ``ScheduledPaymentId``, ``BeneficiaryId``, ``ProductId``, ``OfferId``.
  Only ``AccountId``, ``PartyId`` and ``ConsentId`` are required (and a beneficiary's
  ``AccountId`` is optional too). The plugin derives a stable id for an item without one
  (``portal_bank.identity``).
- ``Data`` of a list is an object whose array is optional: ``"Data": {}`` is an empty list.
  Balances are the exception: ``Data.Balance`` is required, with at least one item.
- Dates are ``ISODateTime``: a date and a time with its zone, ``OpeningDate`` included.
- Amounts are strings of up to 13 digits and 5 decimals, never signed (the sign is
  ``CreditDebitIndicator``); currencies are three capital letters naming an ISO 4217 code, so
  EUR, USD and JPY (no decimals) are as valid as GBP.
- Two kinds of code list. A plain enumeration (``CreditDebitIndicator``, a transaction's
  ``Status``, a balance's ``Type``, ``AccountSubType`` ...) is closed: a value outside it is
  invalid. A namespaced enumeration (``x-namespaced-enum``: account ``SchemeName``, statement
  amount and date ``Type``) is open: the listed ``UK.OBIE.*`` values are Open Banking's own and
  a bank may add codes in its own namespace. The ISO 20022 bank transaction codes
  (``BankTransactionCode``), ``ProprietaryBankTransactionCode`` and merchant category codes are
  strings governed by external lists, so any value is valid: open lists too (``external``).
- Fields the specification does not list are not forbidden on the resources themselves (only
  ``Links`` and ``Meta`` are closed); a bank's ``SupplementaryData`` is free.

The product data of an account (``PCA``, ``BCA``, ``OtherProductType``) follows Open Banking's
product schemas, which are large; the rules check them as objects only.
"""

from __future__ import annotations

import dataclasses

from portal_bank.spec_rules import (
    AMOUNT_PATTERN,
    ANY_OBJECT,
    COUNTRY_PATTERN,
    CURRENCY_PATTERN,
    DATETIME,
    FREQUENCY_PATTERN,
    PHONE_PATTERN,
    RATE_PATTERN,
    Rule,
    array,
    code,
    external,
    namespaced,
    obj,
    required,
    text,
)

SOURCE = (
    "OpenBankingUK/read-write-api-specs dist/openapi/account-info-openapi.yaml v3.1.7"
    " (Account and Transaction API Specification)"
)

ID = text(40)
"""The identifiers of resources (Max40Text)."""
INDICATOR = code("Credit Debit")
CURRENCY = Rule("currency", max_length=3, pattern=CURRENCY_PATTERN)
"""Three capital letters that ISO 4217 assigns to a currency."""
AMOUNT = obj({"Amount": required(text(pattern=AMOUNT_PATTERN)), "Currency": required(CURRENCY)})
CASH_ACCOUNT = obj(
    {
        "SchemeName": required(
            namespaced(
                "UK.OBIE.BBAN UK.OBIE.IBAN UK.OBIE.PAN UK.OBIE.Paym UK.OBIE.SortCodeAccountNumber"
            )
        ),
        "Identification": required(text(256)),
        "Name": text(350),
        "SecondaryIdentification": text(34),
    }
)
"""OBCashAccount: an account a payment goes to or comes from."""
# A counterparty's account in a transaction: every part of it is optional there.
PARTY_ACCOUNT = obj(
    {k: dataclasses.replace(r, required=False) for k, r in CASH_ACCOUNT.fields.items()}
)
ADDRESS = obj(
    {
        "AddressType": code(
            "Business Correspondence DeliveryTo MailTo POBox Postal Residential Statement"
        ),
        "AddressLine": array(text(70)),
        "StreetName": text(70),
        "BuildingNumber": text(16),
        "PostCode": text(16),
        "TownName": text(35),
        "CountrySubDivision": text(35),
        "Country": text(2, COUNTRY_PATTERN),
    }
)

ACCOUNT = obj(
    {
        "AccountId": required(ID),
        "Status": code("Deleted Disabled Enabled Pending ProForma"),
        "StatusUpdateDateTime": DATETIME,
        # Required except on an account being switched away: the plugin reads them as optional.
        "Currency": CURRENCY,
        "AccountType": code("Business Personal"),
        "AccountSubType": code(
            "ChargeCard CreditCard CurrentAccount EMoney Loan Mortgage PrePaidCard Savings"
        ),
        "Description": text(35),
        "Nickname": text(70),
        "OpeningDate": DATETIME,
        "MaturityDate": DATETIME,
        "SwitchStatus": namespaced(),
        "Account": array(CASH_ACCOUNT),
        "Servicer": ANY_OBJECT,
    }
)
"""OBAccount6."""

BALANCE_TYPES = code(
    "ClosingAvailable ClosingBooked ClosingCleared Expected "
    "ForwardAvailable Information InterimAvailable InterimBooked "
    "InterimCleared OpeningAvailable OpeningBooked OpeningCleared "
    "PreviouslyClosedBooked"
)
BALANCE = obj(
    {
        "AccountId": required(ID),
        "CreditDebitIndicator": required(INDICATOR),
        "Type": required(BALANCE_TYPES),
        "DateTime": required(DATETIME),
        "Amount": required(AMOUNT),
        "CreditLine": array(
            obj(
                {
                    "Included": required(Rule("boolean")),
                    "Type": code("Available Credit Emergency Pre-Agreed Temporary"),
                    "Amount": AMOUNT,
                }
            )
        ),
    }
)
"""OBReadBalance1's Balance."""

ENTRY_STATUSES = frozenset({"Booked", "Pending"})
"""OBEntryStatus1Code: a transaction is booked or still pending; nothing else."""
TRANSACTION = obj(
    {
        "AccountId": required(ID),
        "TransactionId": text(210),
        "TransactionReference": text(210),
        "StatementReference": array(text(35)),
        "CreditDebitIndicator": required(INDICATOR),
        "Status": required(Rule("code", codes=ENTRY_STATUSES)),
        "TransactionMutability": code("Immutable Mutable"),
        "BookingDateTime": required(DATETIME),
        "ValueDateTime": DATETIME,
        "TransactionInformation": text(500),
        "AddressLine": text(70),
        "Amount": required(AMOUNT),
        "ChargeAmount": AMOUNT,
        "CurrencyExchange": ANY_OBJECT,
        "BankTransactionCode": obj({"Code": required(external()), "SubCode": required(external())}),
        "ProprietaryBankTransactionCode": obj({"Code": required(external(35)), "Issuer": text(35)}),
        "Balance": obj(
            {
                "CreditDebitIndicator": required(INDICATOR),
                "Type": required(BALANCE_TYPES),
                "Amount": required(AMOUNT),
            }
        ),
        "MerchantDetails": obj({"MerchantName": text(350), "MerchantCategoryCode": external(4)}),
        "CreditorAgent": ANY_OBJECT,
        "CreditorAccount": PARTY_ACCOUNT,
        "DebtorAgent": ANY_OBJECT,
        "DebtorAccount": PARTY_ACCOUNT,
        "CardInstrument": ANY_OBJECT,
        "SupplementaryData": ANY_OBJECT,
    }
)
"""OBTransaction6."""

PARTY = obj(
    {
        "PartyId": required(ID),
        "PartyNumber": text(35),
        "PartyType": code("Delegate Joint Sole"),
        "Name": text(350),
        "FullLegalName": text(350),
        "LegalStructure": namespaced(),
        "BeneficialOwnership": Rule("boolean"),
        "AccountRole": namespaced(),
        "EmailAddress": text(256),
        "Phone": text(pattern=PHONE_PATTERN),
        "Mobile": text(pattern=PHONE_PATTERN),
        "Relationships": ANY_OBJECT,
        "Address": array(ADDRESS),
    }
)
"""OBParty2."""

PERMISSIONS = code(
    "ReadAccountsBasic ReadAccountsDetail ReadBalances "
    "ReadBeneficiariesBasic ReadBeneficiariesDetail ReadDirectDebits "
    "ReadOffers ReadPAN ReadParty ReadPartyPSU ReadProducts "
    "ReadScheduledPaymentsBasic ReadScheduledPaymentsDetail "
    "ReadStandingOrdersBasic ReadStandingOrdersDetail ReadStatementsBasic "
    "ReadStatementsDetail ReadTransactionsBasic ReadTransactionsCredits "
    "ReadTransactionsDebits ReadTransactionsDetail"
)
CONSENT = obj(
    {
        "ConsentId": required(text(128)),
        "CreationDateTime": required(DATETIME),
        "Status": required(code("Authorised AwaitingAuthorisation Rejected Revoked")),
        "StatusUpdateDateTime": required(DATETIME),
        "Permissions": required(array(PERMISSIONS, min_items=1)),
        "ExpirationDateTime": DATETIME,
        "TransactionFromDateTime": DATETIME,
        "TransactionToDateTime": DATETIME,
    }
)
"""OBReadConsentResponse1's Data."""

DIRECT_DEBIT = obj(
    {
        "AccountId": required(ID),
        "DirectDebitId": ID,
        "MandateIdentification": required(text(35)),
        "DirectDebitStatusCode": code("Active Inactive"),
        "Name": required(text(70)),
        "PreviousPaymentDateTime": DATETIME,
        "PreviousPaymentAmount": AMOUNT,
        "Frequency": text(),
    }
)
"""OBReadDirectDebit2's DirectDebit."""

STANDING_ORDER = obj(
    {
        "AccountId": required(ID),
        "StandingOrderId": ID,
        "Frequency": required(text(pattern=FREQUENCY_PATTERN)),
        "Reference": text(35),
        "FirstPaymentDateTime": DATETIME,
        "NextPaymentDateTime": DATETIME,
        "LastPaymentDateTime": DATETIME,
        "FinalPaymentDateTime": DATETIME,
        "NumberOfPayments": text(35),
        "StandingOrderStatusCode": code("Active Inactive"),
        "FirstPaymentAmount": AMOUNT,
        "NextPaymentAmount": AMOUNT,
        "LastPaymentAmount": AMOUNT,
        "FinalPaymentAmount": AMOUNT,
        "CreditorAgent": ANY_OBJECT,
        "CreditorAccount": CASH_ACCOUNT,
        "SupplementaryData": ANY_OBJECT,
    }
)
"""OBStandingOrder6."""

SCHEDULED_PAYMENT = obj(
    {
        "AccountId": required(ID),
        "ScheduledPaymentId": ID,
        "ScheduledPaymentDateTime": required(DATETIME),
        "ScheduledType": required(code("Arrival Execution")),
        "Reference": text(35),
        "DebtorReference": text(35),
        "InstructedAmount": required(AMOUNT),
        "CreditorAgent": ANY_OBJECT,
        "CreditorAccount": CASH_ACCOUNT,
    }
)
"""OBScheduledPayment3."""

BENEFICIARY = obj(
    {
        "AccountId": ID,
        "BeneficiaryId": ID,
        "BeneficiaryType": code("NotTrusted Ordinary Trusted"),
        "Reference": text(35),
        "SupplementaryData": ANY_OBJECT,
        "CreditorAgent": ANY_OBJECT,
        "CreditorAccount": CASH_ACCOUNT,
    }
)
"""OBBeneficiary5."""

PRODUCT = obj(
    {
        "AccountId": required(ID),
        "ProductId": ID,
        "ProductName": text(350),
        "SecondaryProductId": text(70),
        "ProductType": required(
            code("BusinessCurrentAccount CommercialCreditCard Other PersonalCurrentAccount SMELoan")
        ),
        "MarketingStateId": ID,
        "OtherProductType": obj({"Name": required(text(350)), "Description": required(text(350))}),
        "BCA": ANY_OBJECT,
        "PCA": ANY_OBJECT,
    }
)
"""OBReadProduct2's Product."""

OFFER = obj(
    {
        "AccountId": required(ID),
        "OfferId": ID,
        "OfferType": code("BalanceTransfer LimitIncrease MoneyTransfer Other PromotionalRate"),
        "Description": text(500),
        "StartDateTime": DATETIME,
        "EndDateTime": DATETIME,
        "Rate": text(pattern=RATE_PATTERN),
        "Value": Rule("integer"),
        "Term": text(500),
        "URL": text(256),
        "Amount": AMOUNT,
        "Fee": AMOUNT,
    }
)
"""OBReadOffer1's Offer."""

STATEMENT = obj(
    {
        "AccountId": required(ID),
        "StatementId": ID,
        "StatementReference": text(35),
        "Type": required(code("AccountClosure AccountOpening Annual Interim RegularPeriodic")),
        "StartDateTime": required(DATETIME),
        "EndDateTime": required(DATETIME),
        "CreationDateTime": required(DATETIME),
        "StatementDescription": array(text(500)),
        "StatementBenefit": array(ANY_OBJECT),
        "StatementFee": array(ANY_OBJECT),
        "StatementInterest": array(ANY_OBJECT),
        "StatementRate": array(ANY_OBJECT),
        "StatementValue": array(ANY_OBJECT),
        "StatementDateTime": array(
            obj(
                {
                    "DateTime": required(DATETIME),
                    "Type": required(
                        namespaced(
                            "UK.OBIE.BalanceTransferPromoEnd UK.OBIE.DirectDebitDue "
                            "UK.OBIE.LastPayment UK.OBIE.LastStatement UK.OBIE.NextStatement "
                            "UK.OBIE.PaymentDue UK.OBIE.PurchasePromoEnd "
                            "UK.OBIE.StatementAvailable"
                        )
                    ),
                }
            )
        ),
        "StatementAmount": array(
            obj(
                {
                    "CreditDebitIndicator": required(INDICATOR),
                    "Type": required(namespaced()),
                    "Amount": required(AMOUNT),
                }
            )
        ),
    }
)
"""OBStatement2."""
