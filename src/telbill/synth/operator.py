"""A synthetic operator's customer base, planned as plain data from a seed (no I/O, no clock).

The plan is a pure function of (number of accounts, seed, as-of instant, offer codes): the same
inputs give the same customers, hierarchies, cycle days, timezones, languages, subscriptions and
identifiers, so demos, tests and benchmarks are reproducible.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

# (country, currency, timezone, language, weight): mostly France, some neighbours, overseas departments.
MARKETS = (
    ("FR", "EUR", "Europe/Paris", "fr", 60),
    ("FR", "EUR", "America/Martinique", "fr", 3),
    ("FR", "EUR", "Indian/Reunion", "fr", 3),
    ("BE", "EUR", "Europe/Brussels", "fr", 8),
    ("DE", "EUR", "Europe/Berlin", "en", 6),
    ("IE", "EUR", "Europe/Dublin", "en", 5),
    ("GB", "GBP", "Europe/London", "en", 15),
)
# Valid EU VAT numbers per country, for companies (checksums verified by python-stdnum); UK
# companies carry none, since EU VAT rules do not apply to them.
COMPANY_VAT = {
    "FR": ("FR40303265045", "FR23334175221", "FR84323140392"),
    "BE": ("BE0403019261", "BE0202239951"),
    "DE": ("DE136695976", "DE129273398"),
    "IE": ("IE6388047V", "IE8Z49289F"),
}
GIVEN = (
    "Camille",
    "Léa",
    "Hugo",
    "Louis",
    "Emma",
    "Jade",
    "Lucas",
    "Chloé",
    "Noah",
    "Manon",
    "Oliver",
    "Amelia",
    "Jack",
    "Isla",
    "Sophie",
    "Thomas",
    "Nina",
    "Paul",
    "Inès",
    "Arthur",
)
FAMILY = (
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Müller",
    "Schmidt",
    "Peeters",
    "Murphy",
)
COMPANY = ("Atelier", "Logistique", "Conseil", "Transports", "Studio", "Systems", "Foods", "Partners")
CITIES = {
    "FR": ("Paris", "75011"),
    "BE": ("Bruxelles", "1000"),
    "DE": ("Berlin", "10115"),
    "IE": ("Dublin", "D02"),
    "GB": ("London", "EC1A 1BB"),
}
# Mobile numbering: country prefix and the number of subscriber digits that follow it.
MOBILE_PREFIX = {
    "FR": ("336", 8),
    "BE": ("32470", 6),
    "DE": ("49151", 8),
    "IE": ("35385", 7),
    "GB": ("447700", 6),
}
MCC_MNC = {"FR": "20801", "BE": "20601", "DE": "26201", "IE": "27201", "GB": "23415"}
# How a subscription ends up, with weights: most are live, some were suspended or cancelled.
FATES = (("live", 86), ("suspended", 5), ("cancelled", 7), ("future", 2))
HISTORY_DAYS = 450  # subscriptions started up to this long before the as-of instant
GO_LIVE_DAYS_AGO = 35  # the go-live date, this long before it: the first run bills about a period


@dataclass(frozen=True, slots=True)
class PlannedSubscription:
    offer_code: str
    start_at: datetime
    fate: str  # live | suspended | cancelled | future
    msisdn: str | None = None
    imsi: str | None = None
    iccid: str | None = None
    line_id: str | None = None


@dataclass(frozen=True, slots=True)
class PlannedAccount:
    key: int
    parent_key: int | None
    kind: str  # person | company
    name: str
    country: str
    currency: str
    timezone: str
    language: str
    bill_cycle_day: int
    cycle: str
    vat_number: str | None
    segment: str
    city: str
    postcode: str
    pays_for_children: bool = False
    subscriptions: tuple[PlannedSubscription, ...] = field(default_factory=tuple)
    billing_start: date | None = None  # the go-live date


@dataclass(frozen=True, slots=True)
class OfferChoice:
    """Offer codes by role, read from the catalog so the plan follows whatever catalog is loaded."""

    mobile: tuple[str, ...]
    fibre: tuple[str, ...]
    addons_mobile: tuple[str, ...]
    addons_fibre: tuple[str, ...]
    business: tuple[str, ...]
    bundles: tuple[str, ...]


def plan_operator(accounts: int, seed: int, as_of: datetime, offers: OfferChoice) -> list[PlannedAccount]:
    """Plan `accounts` billing accounts: about one in twelve is a company tree, the rest people."""
    rng = random.Random(seed)
    planned: list[PlannedAccount] = []
    serial = _Serial()
    while len(planned) < accounts:
        room = accounts - len(planned)
        if room >= 3 and rng.random() < 0.08:
            planned.extend(_company_tree(rng, serial, min(room, rng.randint(3, 9)), as_of, offers))
        else:
            planned.append(_person(rng, serial, as_of, offers))
    return planned


class _Serial:
    def __init__(self) -> None:
        self.account = 0
        self.line = 0

    def next_account(self) -> int:
        self.account += 1
        return self.account

    def next_line(self) -> int:
        self.line += 1
        return self.line


def _market(rng: random.Random) -> tuple[str, str, str, str]:
    country, cur, tz, lang, _ = rng.choices(MARKETS, weights=[m[4] for m in MARKETS])[0]
    return country, cur, tz, lang


def _cycle_day(rng: random.Random) -> int:
    """Most accounts bill on the 1st; the rest spread over the month, 29–31 included."""
    return 1 if rng.random() < 0.35 else rng.randint(1, 31)


def _start(rng: random.Random, as_of: datetime) -> datetime:
    """Within the last ~15 months (most in the last few): the customers' real history. The
    operator moved its base onto telbill on its go-live date (`go_live`), and the system it left
    billed everything before it, so the first bill run bills from the go-live only."""
    days = int(rng.triangular(0, HISTORY_DAYS, HISTORY_DAYS // 4))
    return (as_of - timedelta(days=days, minutes=rng.randint(0, 1439))).replace(second=0, microsecond=0)


def go_live(as_of: datetime) -> date:
    """The operator's go-live date: its accounts are billed by telbill from this (UTC) date on."""
    return (as_of - timedelta(days=GO_LIVE_DAYS_AGO)).date()


def _fate(rng: random.Random) -> str:
    return rng.choices([f for f, _ in FATES], weights=[w for _, w in FATES])[0]


def _mobile_line(
    rng: random.Random, serial: _Serial, country: str, code: str, start: datetime, fate: str, as_of: datetime
) -> PlannedSubscription:
    n = serial.next_line()
    prefix, digits = MOBILE_PREFIX[country]
    msisdn = prefix + f"{(n * 7919) % 10**digits:0{digits}d}"  # spread over the range, unique for n < 10**6
    imsi = MCC_MNC[country] + f"{n:010d}"
    iccid = "8933" + f"{n:015d}"
    if fate == "future":
        start = max(start, as_of) + timedelta(days=rng.randint(1, 30))
    return PlannedSubscription(code, start, fate, msisdn=msisdn, imsi=imsi, iccid=iccid)


def _fixed_line(serial: _Serial, code: str, start: datetime, fate: str) -> PlannedSubscription:
    return PlannedSubscription(code, start, fate, line_id=f"FTTH{serial.next_line():09d}")


def _person(rng: random.Random, serial: _Serial, as_of: datetime, offers: OfferChoice) -> PlannedAccount:
    country, cur, tz, lang = _market(rng)
    start = _start(rng, as_of)
    subs = [_mobile_line(rng, serial, country, rng.choice(offers.mobile), start, _fate(rng), as_of)]
    if rng.random() < 0.25 and offers.fibre:
        subs.append(_fixed_line(serial, rng.choice(offers.fibre), start, "live"))
        if rng.random() < 0.4 and offers.addons_fibre:
            subs.append(PlannedSubscription(rng.choice(offers.addons_fibre), start, "live"))
    elif rng.random() < 0.06 and offers.bundles:
        subs = [_mobile_line(rng, serial, country, rng.choice(offers.bundles), start, "live", as_of)]
    if rng.random() < 0.15 and offers.addons_mobile:
        subs.append(PlannedSubscription(rng.choice(offers.addons_mobile), start + timedelta(days=3), "live"))
    city, postcode = CITIES[country]
    return PlannedAccount(
        key=serial.next_account(),
        parent_key=None,
        kind="person",
        name=f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}",
        country=country,
        currency=cur,
        timezone=tz,
        language=lang,
        bill_cycle_day=_cycle_day(rng),
        cycle="monthly" if rng.random() < 0.95 else "quarterly",
        vat_number=None,
        segment="consumer",
        city=city,
        postcode=postcode,
        subscriptions=tuple(subs),
        billing_start=go_live(as_of),
    )


def _company_tree(
    rng: random.Random, serial: _Serial, size: int, as_of: datetime, offers: OfferChoice
) -> list[PlannedAccount]:
    """A company head account paying for its sites' accounts, all on one consolidated invoice."""
    country, cur, tz, _ = _market(rng)
    lang = "fr" if country in {"FR", "BE"} else "en"
    name = f"{rng.choice(FAMILY)} {rng.choice(COMPANY)}"
    vat = rng.choice(COMPANY_VAT[country]) if country in COMPANY_VAT else None
    city, postcode = CITIES[country]
    day, segment = _cycle_day(rng), "enterprise" if size > 6 else "smb"
    head_key = serial.next_account()
    start = _start(rng, as_of)
    common = dict(
        kind="company",
        country=country,
        currency=cur,
        timezone=tz,
        language=lang,
        bill_cycle_day=day,
        cycle="monthly",
        vat_number=vat,
        segment=segment,
        city=city,
        postcode=postcode,
        billing_start=go_live(as_of),
    )
    head = PlannedAccount(key=head_key, parent_key=None, name=name, pays_for_children=True, **common)
    children = []
    for site in range(1, size):
        lines = tuple(
            _mobile_line(rng, serial, country, rng.choice(offers.business), start, "live", as_of)
            for _ in range(rng.randint(1, 3))
        )
        children.append(
            PlannedAccount(
                key=serial.next_account(),
                parent_key=head_key,
                name=f"{name} — site {site}",
                subscriptions=lines,
                **common,
            )
        )
    return [head, *children]
