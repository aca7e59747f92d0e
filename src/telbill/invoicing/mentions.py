"""Legal mentions printed on every document: payment terms and the late-payment text.

French B2B invoices must state the penalty rate and the fixed recovery fee (Code de commerce
L441-10, D441-5); the English text says the same for accounts that read English.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache


@lru_cache(maxsize=4096)  # a bill run asks with the same few (language, days, due date)
def payment_terms_text(language: str, days: int, due_date: date) -> str:
    if language == "fr":
        if days == 0:
            return f"Paiement à réception, au plus tard le {due_date.strftime('%d/%m/%Y')}."
        return f"Paiement à {days} jours, au plus tard le {due_date.strftime('%d/%m/%Y')}. Pas d'escompte."
    if days == 0:
        return f"Payable on receipt, by {due_date.isoformat()}."
    return f"Payable within {days} days, by {due_date.isoformat()}. No discount for early payment."


def late_payment_text(language: str) -> str:
    if language == "fr":
        return (
            "En cas de retard de paiement : pénalités au taux de trois fois le taux d'intérêt légal, "
            "et indemnité forfaitaire pour frais de recouvrement de 40 €."
        )
    return (
        "Late payment: penalties at three times the legal interest rate, and a fixed recovery fee of EUR 40."
    )


def credit_note_terms_text(language: str, preceding: str | None) -> str:
    if language == "fr":
        if preceding:
            return f"Avoir imputé sur la facture {preceding}."
        return "Avoir porté au crédit de votre compte."
    if preceding:
        return f"Credited against invoice {preceding}."
    return "Credited to your account."
