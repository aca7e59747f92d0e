"""TMF678 Customer Bill API: invoices and credit notes to read and download, an on-demand preview,
and the one state change the store allows from outside (issuing a draft).

Every route needs an API key with `read`; writes need `write` and go through `perform_write`.
Responses are written by `ExactJSONResponse`, so amounts keep their digits (see `dumps_exact`).
Mapping to TMF shapes lives in `tmf.py`, the queries in `queries.py`; this module is the edge.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from telbill import accounts, billing, invoicing
from telbill.api import (
    PrincipalDep,
    SessionDep,
    json_body,
    page_bounds,
    perform_write,
    select_fields,
    set_count_headers,
)
from telbill.api.writes import ExactJSONResponse
from telbill.core.clock import Clock, ensure_utc, parse_instant, zone
from telbill.core.errors import Conflict, IllegalTransition, NotFound, TelbillError, ValidationFailed
from telbill.core.exact_json import to_storable
from telbill.invoicing import queries, tmf
from telbill.invoicing.model import Invoice

router = APIRouter(prefix=tmf.BASE, tags=["customerBill"])
_RATE_ID = re.compile(r"^(\d+)-([LA])(\d+)$")
_PATCHABLE = {"state", "@type", "@baseType", "@schemaLocation"}


class UnsupportedMediaType(TelbillError):
    code = "unsupported_media_type"
    http_status = 415


def _exact(response: JSONResponse) -> JSONResponse:
    """`perform_write` already writes Decimals exactly, fresh or replayed."""
    return response


# loading -------------------------------------------------------------------------------------------


def _invoice(session: Session, bill_id: str) -> Invoice:
    if not bill_id.isdigit():
        raise NotFound(f"customer bill {bill_id!r} does not exist")
    try:
        return invoicing.get_invoice(session, int(bill_id))
    except NotFound:
        raise NotFound(f"customer bill {bill_id} does not exist") from None


def _account(session: Session, ref: str) -> Any:
    """A billing account by id (`42`) or number (`ACC-000042`)."""
    ref = ref.strip()
    return (
        accounts.get_account(session, int(ref))
        if ref.isdigit()
        else accounts.get_account_by_number(session, ref)
    )


def _bills_json(session: Session, bills: list[Invoice]) -> list[dict[str, Any]]:
    """A page of bills in a few statements: VAT rows, credited bills' numbers and payers at once."""
    taxes = queries.taxes_of(session, [b.id for b in bills])
    preceding = queries.numbers_of(session, [b.preceding_invoice_id for b in bills if b.preceding_invoice_id])
    payers = {pid: accounts.get_account(session, pid) for pid in {b.payer_account_id for b in bills}}
    return [
        tmf.customer_bill(
            b,
            zone=payers[b.payer_account_id].zone,
            account_number=payers[b.payer_account_id].number,
            taxes=taxes.get(b.id, []),
            preceding_number=preceding.get(b.preceding_invoice_id) if b.preceding_invoice_id else None,
        )
        for b in bills
    ]


def _day(text: str | None, name: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text).date()
    except ValueError:
        raise ValidationFailed(f"{name}: not an ISO date or date-time: {text!r}") from None


def _states(text: str | None) -> tuple[str, ...]:
    states = tuple(s.strip() for s in (text or "").split(",") if s.strip())
    unknown = [s for s in states if s not in tmf.TMF_STATES]
    if unknown:
        raise ValidationFailed(
            f"unknown state {', '.join(unknown)}", details=[f"states: {', '.join(tmf.TMF_STATES)}"]
        )
    return states


# CustomerBill --------------------------------------------------------------------------------------


@router.get("/customerBill")
def list_bills(
    session: SessionDep,
    principal: PrincipalDep,
    response: Response,
    offset: int | None = None,
    limit: int | None = None,
    fields: str | None = None,
    sort: str | None = None,
    state: str | None = None,
    category: str | None = None,
    bill_no: Annotated[str | None, Query(alias="billNo")] = None,
    account: Annotated[str | None, Query(alias="billingAccount.id")] = None,
    billed_from: Annotated[str | None, Query(alias="billDate.gte")] = None,
    billed_to: Annotated[str | None, Query(alias="billDate.lte")] = None,
) -> ExactJSONResponse:
    """Bills, oldest first unless `sort` says otherwise (`sort=-billDate,billNo`)."""
    principal.require("read")
    first, size = page_bounds(offset, limit)
    if category is not None and category not in tmf.CATEGORIES:
        raise ValidationFailed(
            f"unknown category {category!r}", details=[f"categories: {', '.join(tmf.CATEGORIES)}"]
        )
    payer_id = None
    if account is not None:
        try:
            payer_id = _account(session, account).id
        except NotFound:
            payer_id = -1  # no such account: an empty page, as for any filter that matches nothing
    query = queries.BillQuery(
        states=_states(state),
        payer_account_id=payer_id,
        billed_from=_day(billed_from, "billDate.gte"),
        billed_to=_day(billed_to, "billDate.lte"),
        category=category,
        bill_no=bill_no,
        sort=tuple(tmf.parse_sort(sort)),
        offset=first,
        limit=size,
    )
    bills, total = queries.find_bills(session, query)
    items = select_fields(_bills_json(session, list(bills)), fields)
    out = ExactJSONResponse(items)
    set_count_headers(out, total, len(items))
    return out


@router.get("/customerBill/{bill_id}")
def get_bill(
    session: SessionDep, principal: PrincipalDep, bill_id: str, fields: str | None = None
) -> ExactJSONResponse:
    principal.require("read")
    (bill,) = _bills_json(session, [_invoice(session, bill_id)])
    return ExactJSONResponse(select_fields([bill], fields)[0])


@router.patch("/customerBill/{bill_id}")
async def patch_bill(request: Request, principal: PrincipalDep, bill_id: str) -> ExactJSONResponse:
    """JSON Merge Patch of `state`: a draft (`new`/`onHold`) may become `sent`, which issues it;
    nothing else moves, since an issued bill never changes (corrections are credit notes)."""
    media = request.headers.get("content-type", "").split(";")[0].strip()
    if media not in ("", "application/json", "application/merge-patch+json"):
        raise UnsupportedMediaType(
            f"PATCH takes a JSON Merge Patch (application/merge-patch+json), not {media}"
        )
    target = _patched_state(json_body(await request.body()))
    seller = request.app.state.settings.seller

    def handler(session: Session, clock: Clock) -> tuple[int, Any]:
        invoice = _invoice(session, bill_id)
        current = tmf.tmf_state(invoice.state, invoice.document_type, invoice.held_reason)
        if target is not None and target != current:
            _issue(session, clock, invoice, current, target, seller)
        return 200, to_storable(_bills_json(session, [invoice])[0])

    return _exact(await perform_write(request, principal, handler))


def _patched_state(body: Any) -> str | None:
    if not isinstance(body, dict):
        raise ValidationFailed("a JSON Merge Patch of a customer bill is a JSON object")
    refused = sorted(set(body) - _PATCHABLE)
    if refused:
        raise ValidationFailed(
            "only the state of a customer bill can be patched",
            details=[f"{name}: cannot be changed (an issued bill never changes; corrections are credit notes)"
                     for name in refused],
        )  # fmt: skip
    state = body.get("state")
    if "state" in body and state not in tmf.TMF_STATES:
        raise ValidationFailed(
            f"state: {state!r} is not a TMF678 state", details=[f"states: {', '.join(tmf.TMF_STATES)}"]
        )
    return state


def _issue(session: Session, clock: Clock, invoice: Invoice, current: str, target: str, seller: Any) -> None:
    """The only move: a draft to `sent`, i.e. finalised (numbered, dated, frozen). A held draft is
    issued anyway (the operator's decision); a draft whose lines were carried forward is not."""
    if current not in ("new", "onHold") or target != "sent":
        raise IllegalTransition(
            f"customer bill {invoice.id} cannot move from {current} to {target}",
            details=["allowed: new or onHold → sent (issues the draft); an issued bill changes only by "
                     "payments and credit notes"],
        )  # fmt: skip
    if invoice.absorbed_into_id is not None:
        raise Conflict(
            f"draft {invoice.id} was carried forward into bill {invoice.absorbed_into_id}: it is not issued"
        )
    invoicing.finalise(session, clock, invoice.id, seller, invoicing.FinalisePolicy())


# documents -----------------------------------------------------------------------------------------


def _filename(bill_no: str, suffix: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", bill_no) + suffix


@router.get("/customerBill/{bill_id}/document")
def download(request: Request, principal: PrincipalDep, bill_id: str, format: str = "pdf") -> Response:
    """The PDF/A-3 (rendered and stored on first request, like `telbill invoices download`), or
    with `format=facturx-xml` the Factur-X XML embedded in it."""
    principal.require("read")
    if format not in ("pdf", "facturx-xml"):
        raise ValidationFailed(f"format: {format!r} is not one of pdf, facturx-xml")
    pdf, number = _stored_pdf(request, bill_id)
    if format == "pdf":
        headers = {"Content-Disposition": f'attachment; filename="{_filename(number, ".pdf")}"'}
        return Response(pdf, media_type="application/pdf", headers=headers)
    from facturx import get_facturx_xml_from_pdf

    _, xml = get_facturx_xml_from_pdf(pdf, check_xsd=False)
    if not xml:
        _why_no_facturx(request, bill_id)  # EN 16931 cannot write its amounts: a 422 saying which
        raise Conflict(f"{number}: the stored PDF has no embedded Factur-X XML")
    headers = {"Content-Disposition": f'attachment; filename="{_filename(number, "-factur-x.xml")}"'}
    return Response(xml, media_type="application/xml", headers=headers)


def _why_no_facturx(request: Request, bill_id: str) -> None:
    """Raises `FacturXNotApplicable` (with the amounts) when the bill's amounts have millimes."""
    session: Session = request.app.state.sessions()
    try:
        invoicing.facturx_xml(invoicing.invoice_content(session, _invoice(session, bill_id).id))
    finally:
        session.rollback()
        session.close()


def _stored_pdf(request: Request, bill_id: str) -> tuple[bytes, str]:
    """The stored PDF, rendered and committed first if there is none yet. Two first requests at
    once both render; the store keeps one copy and the loser returns it."""
    from telbill.cli.invoices import _pdf  # the same render-and-store step as the CLI's download

    session: Session = request.app.state.sessions()
    try:
        invoice = _invoice(session, bill_id)
        if invoice.number is None:
            raise Conflict(f"customer bill {bill_id} is a draft: it has no document until it is issued")
        number, invoice_id = invoice.number, invoice.id
        try:
            data = _pdf(session, invoice)
            session.commit()
        except IntegrityError:
            session.rollback()
            stored = invoicing.get_document(session, invoice_id, "pdf")
            if stored is None:
                raise
            data = stored.data
        return data, number
    finally:
        session.rollback()
        session.close()


# AppliedCustomerBillingRate ------------------------------------------------------------------------


def _rates(session: Session, invoice: Invoice) -> list[dict[str, Any]]:
    """Lines then allowances of a bill; `date` is when it was issued (a draft: last computed)."""
    zone = accounts.get_account(session, invoice.payer_account_id).zone
    when, code = invoice.finalised_at or invoice.updated_at, invoice.currency
    credit_note = invoice.document_type == tmf.CREDIT_NOTE
    lines = [
        tmf.applied_rate(r, rate_id=f"{invoice.id}-L{r.position}", code=code, zone=zone, when=when,
                         bill_id=invoice.id, subscription_id=r.subscription_id, credit_note=credit_note)
        for r in queries.lines_of(session, invoice.id)
    ]  # fmt: skip
    allowances = [
        tmf.allowance_rate(a, rate_id=f"{invoice.id}-A{a.position}", code=code, when=when, bill_id=invoice.id)
        for a in queries.allowances_of(session, invoice.id)
    ]
    return lines + allowances


@router.get("/appliedCustomerBillingRate")
def list_rates(
    session: SessionDep,
    principal: PrincipalDep,
    bill_id: Annotated[str | None, Query(alias="bill.id")] = None,
    offset: int | None = None,
    limit: int | None = None,
    fields: str | None = None,
) -> ExactJSONResponse:
    """The rates of one bill (`bill.id` is required: rates are listed per bill)."""
    principal.require("read")
    if bill_id is None:
        raise ValidationFailed("bill.id is required: applied billing rates are listed per bill")
    first, size = page_bounds(offset, limit)
    rates = _rates(session, _invoice(session, bill_id))
    items = select_fields(rates[first : first + size], fields)
    out = ExactJSONResponse(items)
    set_count_headers(out, len(rates), len(items))
    return out


@router.get("/appliedCustomerBillingRate/{rate_id}")
def get_rate(
    session: SessionDep, principal: PrincipalDep, rate_id: str, fields: str | None = None
) -> ExactJSONResponse:
    principal.require("read")
    match = _RATE_ID.match(rate_id)
    found = None
    if match:
        try:
            rates = _rates(session, _invoice(session, match.group(1)))
        except NotFound:
            rates = []
        found = next((r for r in rates if r["id"] == rate_id), None)
    if found is None:
        raise NotFound(f"applied customer billing rate {rate_id!r} does not exist")
    return ExactJSONResponse(select_fields([found], fields)[0])


# CustomerBillOnDemand ------------------------------------------------------------------------------


@router.post("/customerBillOnDemand", status_code=201)
async def bill_on_demand(request: Request, principal: PrincipalDep) -> ExactJSONResponse:
    """A preview of the bill the account would get for the period containing `lastUpdate` (now
    when absent), computed by the bill run's code. Nothing is written: no invoice, no request
    record (so there is no GET of it); an Idempotency-Key replays the first answer."""
    body = json_body(await request.body())
    ref, when = _on_demand_input(body)

    def handler(session: Session, clock: Clock) -> tuple[int, Any]:
        account = _account(session, ref)
        payer = accounts.payer_of(session, account.id)
        at = _requested_instant(when, payer.timezone) if when else clock.now()
        assembled = billing.preview_invoice(session, account.id, at)
        out: dict[str, Any] = {
            "id": uuid.uuid4().hex,
            "name": name
            if isinstance(name := body.get("name"), str) and name
            else f"preview {account.number}",
            "description": "nothing is due" if assembled is None else "preview: no bill was written",
            "lastUpdate": tmf.instant(at),
            "state": "done",
            "billingAccount": tmf.account_ref(account.id, account.number),
            "@type": "CustomerBillOnDemand",
        }
        if assembled is not None:
            out["billPreview"] = tmf.preview_bill(
                assembled.content, zone=payer.zone, account_id=payer.id, computed_at=at
            )
        return 201, to_storable(out)

    return _exact(await perform_write(request, principal, handler))


def _on_demand_input(body: Any) -> tuple[str, str | None]:
    if not isinstance(body, dict):
        raise ValidationFailed("a CustomerBillOnDemand is a JSON object")
    account = body.get("billingAccount")
    ref = account.get("id") if isinstance(account, dict) else None
    problems = [] if isinstance(ref, (str, int)) and str(ref).strip() else ["billingAccount.id: required"]
    when = body.get("lastUpdate")
    if when is not None and not isinstance(when, str):
        problems.append("lastUpdate: an ISO date or date-time")
    if problems:
        raise ValidationFailed("the on-demand bill request is not valid", details=problems)
    return str(ref), when


def _requested_instant(text: str, timezone: str) -> datetime:
    """A date-time as given; a bare date is the end of that day on the payer's calendar."""
    day = _day(text.strip(), "lastUpdate") if len(text.strip()) == 10 else None
    if day is None:
        return parse_instant(text, timezone)
    next_midnight = datetime.combine(day + timedelta(days=1), time(), zone(timezone))
    return ensure_utc(next_midnight) - timedelta(microseconds=1)
