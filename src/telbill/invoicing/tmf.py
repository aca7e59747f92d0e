"""TMF678 Customer Bill shapes of the invoice store's rows and of a preview's content (pure).

Amounts stay Decimals here; `dumps_exact` writes them as JSON numbers from their digits, so a
client reads `1234.56` and never a float's approximation. Dates of a bill (issue, due, service
period) are local dates of the payer: they are written as midnight in the payer's timezone with
its offset; a period's end is the midnight after its last day (the store keeps the inclusive
last day, as EN 16931 writes it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from telbill.core.errors import ValidationFailed
from telbill.core.money import Money, Rounding, currency
from telbill.invoicing.content import InvoiceContent

BASE = "/tmf-api/customerBillManagement/v4"
ACCOUNT_BASE = "/tmf-api/accountManagement/v4/billingAccount"
PRODUCT_BASE = "/tmf-api/productInventory/v4/product"
INVOICE, CREDIT_NOTE = "380", "381"

# TMF678 v4 `stateValue`; `validated` is never used (finalising an invoice issues it).
TMF_STATES = ("new", "onHold", "validated", "sent", "partiallyPaid", "settled")
CATEGORIES = {"normal": INVOICE, "creditNote": CREDIT_NOTE}
SORTABLE = ("id", "billNo", "billDate", "paymentDueDate", "lastUpdate")
_STORE_TO_TMF = {"finalised": "sent", "partially_paid": "partiallyPaid", "paid": "settled", "void": "settled"}
_RATE_TYPES = {
    "recurring": "recurringCharge",
    "proration": "recurringCharge",
    "usage": "usageCharge",
    "one_time": "oneTimeCharge",
}
CREDIT_RATE = "appliedBillingCredit"


class BillRow(Protocol):
    """The columns of an `invoices` row that a CustomerBill shows."""

    id: int
    number: str | None
    document_type: str
    state: str
    held_reason: str | None
    kind: str
    currency: str
    payer_account_id: int
    issue_date: date | None
    due_date: date | None
    period_start: date
    period_end: date
    line_total: Decimal
    allowance_total: Decimal
    grand_total: Decimal
    prepaid_amount: Decimal
    balance: Decimal
    updated_at: datetime
    preceding_invoice_id: int | None


class TaxRow(Protocol):
    category: str
    rate: Decimal
    tax_amount: Decimal


class LineRow(Protocol):
    line_id: str
    description: str
    quantity: Decimal
    unit_code: str
    unit_price: Decimal
    net_amount: Decimal
    tax_category: str
    tax_rate: Decimal
    period_start: date | None
    period_end: date | None
    product_code: str | None
    charge_kind: str


class AllowanceRow(Protocol):
    reason: str
    amount: Decimal
    tax_category: str
    tax_rate: Decimal


# states and queries --------------------------------------------------------------------------------


def tmf_state(state: str, document_type: str, held_reason: str | None = None) -> str:
    """draft → new (onHold when the policy held it back); finalised → sent; partially_paid →
    partiallyPaid; paid and void → settled. A credit note is settled once issued: it is applied
    to its invoice at once and carries no balance."""
    if state == "draft":
        return "onHold" if held_reason else "new"
    if document_type == CREDIT_NOTE:
        return "settled"
    return _STORE_TO_TMF[state]


def parse_sort(text: str | None) -> list[tuple[str, bool]]:
    """`-billDate,billNo` → [("billDate", True), ("billNo", False)] (True: descending)."""
    keys: list[tuple[str, bool]] = []
    for raw in (text or "").split(","):
        name = raw.strip()
        descending = name.startswith("-")
        name = name.lstrip("+-").strip()
        if not name:
            continue
        if name not in SORTABLE:
            raise ValidationFailed(f"cannot sort by {name!r}", details=[f"sortable: {', '.join(SORTABLE)}"])
        keys.append((name, descending))
    return keys


# small shapes --------------------------------------------------------------------------------------


def money(value: Decimal, code: str) -> dict[str, Any]:
    """TMF Money at the currency's minor unit; `value` stays a Decimal (see `dumps_exact`)."""
    return {"unit": code, "value": value.quantize(currency(code).quantum)}


def number(value: Decimal) -> Decimal:
    """A quantity or rate without trailing zeros: 20.000000 → 20, 5.500000 → 5.5."""
    normal = value.normalize()
    return normal if normal != 0 else Decimal(0)


def local_midnight(day: date, zone: ZoneInfo) -> str:
    return datetime.combine(day, time(), zone).isoformat()


def instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def period(start: date, last_day: date, zone: ZoneInfo) -> dict[str, str]:
    return {
        "startDateTime": local_midnight(start, zone),
        "endDateTime": local_midnight(last_day + timedelta(days=1), zone),
    }


def bill_href(bill_id: int) -> str:
    return f"{BASE}/customerBill/{bill_id}"


def bill_ref(bill_id: int) -> dict[str, str]:
    return {"id": str(bill_id), "href": bill_href(bill_id), "@referredType": "CustomerBill"}


def account_ref(account_id: int, account_number: str | None) -> dict[str, str]:
    ref = {"id": str(account_id), "href": f"{ACCOUNT_BASE}/{account_id}", "@referredType": "BillingAccount"}
    if account_number:
        ref["name"] = account_number
    return ref


def tax_items(taxes: Sequence[TaxRow], code: str) -> list[dict[str, Any]]:
    """One TaxItem per VAT row: category is the UNCL 5305 code, the rate a percentage."""
    return [
        {"taxCategory": str(t.category), "taxRate": number(t.rate), "taxAmount": money(t.tax_amount, code),
         "@type": "TaxItem"}
        for t in taxes
    ]  # fmt: skip


def documents(bill_id: int, bill_no: str, credit_note: bool) -> list[dict[str, Any]]:
    """The PDF/A-3 (with its Factur-X XML embedded) and the XML alone, both served by the API."""
    url = f"{bill_href(bill_id)}/document"
    xml_url = f"{url}?format=facturx-xml"
    kind = "creditNote" if credit_note else "invoice"
    return [
        {"id": f"{bill_id}-pdf", "href": url, "url": url, "name": f"{bill_no}.pdf",
         "mimeType": "application/pdf", "attachmentType": kind, "@referredType": "Attachment"},
        {"id": f"{bill_id}-facturx-xml", "href": xml_url, "url": xml_url, "name": f"{bill_no}-factur-x.xml",
         "mimeType": "application/xml", "attachmentType": "facturX", "@referredType": "Attachment"},
    ]  # fmt: skip


# CustomerBill ----------------------------------------------------------------------------------------


def customer_bill(
    bill: BillRow,
    *,
    zone: ZoneInfo,
    account_number: str | None,
    taxes: Sequence[TaxRow],
    preceding_number: str | None = None,
) -> dict[str, Any]:
    """A stored invoice or credit note as a TMF678 CustomerBill.

    amountDue is what the document asks for (BT-115: total − prepaid account credit),
    remainingAmount what is still unpaid (the store's balance), taxExcludedAmount the tax
    basis (lines − allowances), taxIncludedAmount the grand total.
    """
    code, credit_note = bill.currency, bill.document_type == CREDIT_NOTE
    out: dict[str, Any] = {
        "id": str(bill.id),
        "href": bill_href(bill.id),
        "category": "creditNote" if credit_note else "normal",
        "state": tmf_state(bill.state, bill.document_type, bill.held_reason),
        "runType": "onCycle" if bill.kind == "cycle" and not credit_note else "offCycle",
        "lastUpdate": instant(bill.updated_at),
        "amountDue": money(bill.grand_total - bill.prepaid_amount, code),
        "remainingAmount": money(bill.balance, code),
        "taxExcludedAmount": money(bill.line_total - bill.allowance_total, code),
        "taxIncludedAmount": money(bill.grand_total, code),
        "taxItem": tax_items(taxes, code),
        "billingAccount": account_ref(bill.payer_account_id, account_number),
        "billingPeriod": period(bill.period_start, bill.period_end, zone),
        "@type": "CustomerBill",
    }
    if bill.number:
        out["billNo"] = bill.number
        out["billDocument"] = documents(bill.id, bill.number, credit_note)
    if bill.issue_date:
        out["billDate"] = local_midnight(bill.issue_date, zone)
    if bill.due_date:
        out["paymentDueDate"] = local_midnight(bill.due_date, zone)
    if bill.preceding_invoice_id is not None:
        out["precedingBill"] = {
            **bill_ref(bill.preceding_invoice_id),
            **({"name": preceding_number} if preceding_number else {}),
        }
    return out


def preview_bill(
    content: InvoiceContent, *, zone: ZoneInfo, account_id: int, computed_at: datetime
) -> dict[str, Any]:
    """The bill a preview computed: no id, no number, state `new`; its lines ride along as
    `appliedCustomerBillingRate` (they have no resource of their own)."""
    code, totals = content.currency, content.totals
    account = account_ref(account_id, content.buyer_reference)
    rates = [
        applied_rate(ln, rate_id=f"preview-L{i}", code=code, zone=zone, when=computed_at, account=account)
        for i, ln in enumerate(content.lines, start=1)
    ] + [
        allowance_rate(a, rate_id=f"preview-A{i}", code=code, when=computed_at, account=account)
        for i, a in enumerate(content.allowances, start=1)
    ]
    return {
        "category": "creditNote" if content.document_type.value == CREDIT_NOTE else "normal",
        "state": "new",
        "runType": "offCycle",
        "billDate": local_midnight(content.issue_date, zone),
        "paymentDueDate": local_midnight(content.due_date, zone),
        "amountDue": money(totals.due_payable, code),
        "remainingAmount": money(totals.due_payable, code),
        "taxExcludedAmount": money(totals.tax_basis_total, code),
        "taxIncludedAmount": money(totals.grand_total, code),
        "taxItem": tax_items(content.tax_subtotals, code),
        "billingAccount": account,
        "billingPeriod": period(content.period_start, content.period_end, zone),
        "appliedCustomerBillingRate": rates,
        "@type": "CustomerBill",
    }


# AppliedCustomerBillingRate ------------------------------------------------------------------------


def line_tax(net: Decimal, rate: Decimal, code: str) -> Decimal:
    """A line's own VAT, rounded half-up: indicative only, since the bill's VAT is computed on
    each rate's subtotal (EN 16931), so the lines' figures may differ from it by a cent or so."""
    return Money(net * rate / 100, code).rounded(Rounding.HALF_UP).amount


def _rate_type(kind: str, net: Decimal, credit_note: bool) -> str:
    if credit_note or net < 0:
        return CREDIT_RATE
    return _RATE_TYPES.get(kind, "appliedBillingCharge")


def _characteristics(line: LineRow) -> list[dict[str, Any]]:
    pairs: list[tuple[str, str, Any]] = [
        ("lineId", "string", line.line_id),
        ("chargeKind", "string", line.charge_kind),
        ("quantity", "number", number(line.quantity)),
        ("unitCode", "string", line.unit_code),
        ("unitPrice", "number", number(line.unit_price)),
    ]
    if line.product_code:
        pairs.append(("productCode", "string", line.product_code))
    return [{"name": n, "valueType": t, "value": v} for n, t, v in pairs]


def applied_rate(
    line: LineRow,
    *,
    rate_id: str,
    code: str,
    zone: ZoneInfo,
    when: datetime,
    bill_id: int | None = None,
    account: Mapping[str, str] | None = None,
    subscription_id: int | None = None,
    credit_note: bool = False,
) -> dict[str, Any]:
    """One invoice line. With a bill it is billed (`bill`), without one (a preview) it names the
    billing account instead, as TMF678 asks."""
    tax = line_tax(line.net_amount, line.tax_rate, code)
    out: dict[str, Any] = {
        "id": rate_id,
        "name": line.description,
        "type": _rate_type(line.charge_kind, line.net_amount, credit_note),
        "date": instant(when),
        "isBilled": bill_id is not None,
        "taxExcludedAmount": money(line.net_amount, code),
        "taxIncludedAmount": money(line.net_amount + tax, code),
        "appliedTax": [_applied_tax(line.tax_category, line.tax_rate, tax, code)],
        "characteristic": _characteristics(line),
        "@type": "AppliedCustomerBillingRate",
    }
    if bill_id is not None:
        out["href"] = f"{BASE}/appliedCustomerBillingRate/{rate_id}"
        out["bill"] = bill_ref(bill_id)
    if account is not None:
        out["billingAccount"] = dict(account)
    if line.period_start and line.period_end:
        out["periodCoverage"] = period(line.period_start, line.period_end, zone)
    if subscription_id is not None:
        out["product"] = {"id": str(subscription_id), "href": f"{PRODUCT_BASE}/{subscription_id}",
                          "@referredType": "Product"}  # fmt: skip
    return out


def allowance_rate(
    allowance: AllowanceRow,
    *,
    rate_id: str,
    code: str,
    when: datetime,
    bill_id: int | None = None,
    account: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A document-level discount, as a credit with negative amounts: a bill's rates add up to
    its taxExcludedAmount."""
    net = -allowance.amount
    tax = line_tax(net, allowance.tax_rate, code)
    out: dict[str, Any] = {
        "id": rate_id,
        "name": allowance.reason,
        "type": CREDIT_RATE,
        "date": instant(when),
        "isBilled": bill_id is not None,
        "taxExcludedAmount": money(net, code),
        "taxIncludedAmount": money(net + tax, code),
        "appliedTax": [_applied_tax(allowance.tax_category, allowance.tax_rate, tax, code)],
        "characteristic": [{"name": "chargeKind", "valueType": "string", "value": "allowance"}],
        "@type": "AppliedCustomerBillingRate",
    }
    if bill_id is not None:
        out["href"] = f"{BASE}/appliedCustomerBillingRate/{rate_id}"
        out["bill"] = bill_ref(bill_id)
    if account is not None:
        out["billingAccount"] = dict(account)
    return out


def _applied_tax(category: str, rate: Decimal, tax: Decimal, code: str) -> dict[str, Any]:
    return {"taxCategory": str(category), "taxRate": number(rate), "taxAmount": money(tax, code),
            "@type": "AppliedBillingTaxRate"}  # fmt: skip


# exact JSON ------------------------------------------------------------------------------------------
