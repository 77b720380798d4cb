"""Deterministic, streaming generation of the 'preconfigured' fixtures, loaded with COPY.

Why this shape:
- every row is rendered straight into COPY text format and written in chunks, so memory does not grow
  with --size (the whole dataset never exists in Python);
- ids are explicit and dense (1..n), and every attribute another table needs (a driver's e-mail, a
  connector's power and tariff, a location's name) is a pure function of (seed, id): sessions and
  invoices can reference them without keeping earlier tables in memory;
- each table draws from its own ``random.Random(f"{seed}:{table}")`` and all times derive from a fixed
  reference time, so the same seed gives byte-identical data (and the same checksum) on every run.
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property, lru_cache

import psycopg
from psycopg import sql

from sandbox_seed import data
from sandbox_seed.devices import device_counts, device_id

log = logging.getLogger("sandbox_seed")

SIZE_SCALE = {"small": 1, "medium": 100, "large": 1000}
DAY = 86400
VAT_RATE_BP = 2100  # 21.00 %, NL
CHUNK_ROWS = 5000
SANDBOX_PASSWORD = "sandbox"  # documented: every preconfigured user logs in with it


def _mix(salt: int, n: int) -> int:
    """Cheap deterministic 32-bit integer hash (attributes as pure functions of ids, no memory)."""
    x = (n * 2654435761 + salt) & 0xFFFFFFFF
    x ^= x >> 16
    x = (x * 0x45D9F3B) & 0xFFFFFFFF
    x ^= x >> 16
    return x


@lru_cache(maxsize=4096)
def _day_str(day: int) -> str:
    return (date(1970, 1, 1) + timedelta(days=day)).isoformat()


def ts(epoch: int) -> str:
    """COPY literal for a UTC timestamp (hand-formatted: datetime per row is the slow part)."""
    d, s = divmod(epoch, DAY)
    return f"{_day_str(d)} {s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}+00"


def money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


@dataclass(frozen=True)
class Plan:
    """What to generate: module choice, scale, seed and the fixed reference 'now'."""

    modules: tuple[str, ...]
    size: str
    seed: int
    reference_time: datetime

    @property
    def cpo(self) -> bool:
        return "cpo" in self.modules

    @property
    def msp(self) -> bool:
        return "msp" in self.modules

    @property
    def scale(self) -> int:
        return SIZE_SCALE[self.size]

    @cached_property
    def salt(self) -> int:
        return int.from_bytes(hashlib.sha256(str(self.seed).encode()).digest()[:4], "big")

    @cached_property
    def now(self) -> int:
        return int(self.reference_time.timestamp())

    # ---- row counts (dense ids 1..n) ----
    @property
    def n_locations(self) -> int:
        return 10 * self.scale if self.cpo else 0

    @property
    def n_stations(self) -> int:
        return 2 * self.n_locations

    @property
    def n_evses(self) -> int:
        return 2 * self.n_stations

    @property
    def n_connectors(self) -> int:
        return 3 * self.n_evses // 2  # odd evse: 1 connector, even evse: 2

    @property
    def n_cpo_tariffs(self) -> int:
        return len(data.CPO_TARIFFS) if self.cpo else 0

    @property
    def n_msp_tariffs(self) -> int:
        return len(data.MSP_TARIFFS) if self.msp else 0

    @property
    def n_drivers(self) -> int:
        return 40 * self.scale if self.msp else 0

    @property
    def n_cards(self) -> int:
        return 50 * self.scale if self.msp else 0

    @cached_property
    def devices(self) -> dict[str, int]:
        """Simulated devices per kind: vehicles need drivers (MSP), batteries and solar inverters locations (CPO)."""
        return device_counts(self.size, self.modules, n_drivers=self.n_drivers, n_locations=self.n_locations)

    def counts(self) -> dict[str, int]:
        s = self.scale
        return {
            "providers": len(data.PROVIDERS),
            "roles": len(data.ROLES),
            "users": 20 * s,
            "tariffs": self.n_cpo_tariffs + self.n_msp_tariffs,
            "locations": self.n_locations,
            "charge_stations": self.n_stations,
            "evses": self.n_evses,
            "connectors": self.n_connectors,
            "drivers": self.n_drivers,
            "charge_cards": self.n_cards,
            "charging_sessions": 700 * s,
            "invoices": 25 * s,
            "mailboxes": 3,
            "support_tickets": 12 * s,
            "scheduled_tasks": len(data.SCHEDULED_TASKS),
            "app_authorizations": len(data.APPS),
            "integration_settings": len(data.INTEGRATIONS),
            "optins": 2,
            "web_panels": len(data.WEB_PANELS),
            "simulated_devices": sum(self.devices.values()),
        }

    def rng(self, table: str) -> random.Random:
        return random.Random(f"{self.seed}:{table}")

    # ---- attributes as pure functions of ids ----
    def person(self, kind: str, n: int) -> tuple[str, str]:
        salt = self.salt ^ (0x5A5A if kind == "user" else 0xA5A5)
        return (
            data.FIRST_NAMES[_mix(salt, n) % len(data.FIRST_NAMES)],
            data.LAST_NAMES[_mix(salt + 1, n) % len(data.LAST_NAMES)],
        )

    def driver_email(self, d: int) -> str:
        first, last = self.person("driver", d)
        dom = data.MAIL_DOMAINS[_mix(self.salt + 2, d) % len(data.MAIL_DOMAINS)]
        return f"{first}.{last.replace(' ', '')}.{d}@{dom}".lower()

    def driver_tariff(self, d: int) -> int:
        return self.n_cpo_tariffs + 1 + _mix(self.salt + 3, d) % self.n_msp_tariffs

    def card_driver(self, c: int) -> int:
        return (c - 1) % self.n_drivers + 1

    def card_uid(self, c: int) -> str:
        return f"04{_mix(self.salt + 4, c):08X}{c:06X}"

    @lru_cache(maxsize=16_384)  # noqa: B019 - bounded; plans are few and short-lived
    def location_name(self, loc: int) -> str:
        city = data.CITIES[_mix(self.salt + 5, loc) % len(data.CITIES)][0]
        poi = data.POIS[_mix(self.salt + 6, loc) % len(data.POIS)]
        street = data.STREETS[_mix(self.salt + 7, loc) % len(data.STREETS)]
        return f"{poi} {street} {city}"

    def station_is_dc(self, st: int) -> bool:
        return _mix(self.salt + 8, st) % 4 == 0

    def connector(self, k: int) -> tuple[int, int, str, str, str, int, int]:
        """(evse, connector_no, standard, format, power_type, max power W, tariff id) of connector k."""
        j, r = divmod(k - 1, 3)
        evse = 2 * j + 1 if r == 0 else 2 * j + 2
        no = 1 if r < 2 else 2
        station = (evse - 1) // 2 + 1
        if self.station_is_dc(station):
            if r == 0:
                return evse, no, "IEC_62196_T2_COMBO", "CABLE", "DC", 150_000, 4
            if r == 1:
                return evse, no, "IEC_62196_T2_COMBO", "CABLE", "DC", 50_000, 3
            return evse, no, "CHADEMO", "CABLE", "DC", 50_000, 3
        kw = 22_000 if _mix(self.salt + 9, station) % 3 == 0 else 11_000
        tariff = 2 if _mix(self.salt + 10, station) % 4 == 0 else 1
        return evse, no, "IEC_62196_T2", "SOCKET", "AC_3_PHASE", kw, tariff

    def evse_uid(self, e: int) -> str:
        return f"NL*VOL*E{e:07d}"


def _row(*vals: object) -> str:
    """One COPY text line; None is NULL, booleans t/f. Values never need escaping (see data.py)."""
    out = []
    for v in vals:
        if v is None:
            out.append("\\N")
        elif v is True:
            out.append("t")
        elif v is False:
            out.append("f")
        else:
            out.append(str(v))
    return "\t".join(out) + "\n"


def _hex(rng: random.Random, nbytes: int) -> str:
    return rng.getrandbits(nbytes * 8).to_bytes(nbytes, "big").hex()


# ----------------------------------------------------------------------------- per-table generators
# Each yields COPY lines for the columns in COLUMNS[table].

COLUMNS: dict[str, tuple[str, ...]] = {
    "providers": ("id", "slug", "name", "kind", "country_code", "created_at"),
    "roles": ("id", "name", "description"),
    "users": ("id", "provider_id", "role_id", "login", "email", "full_name", "password_hash", "login_secret",
              "is_active", "last_login_at", "created_at"),
    "tariffs": ("id", "provider_id", "kind", "name", "currency", "price_per_kwh", "start_fee", "price_per_minute",
                "vat_rate"),
    "locations": ("id", "provider_id", "name", "address", "postal_code", "city", "country_code", "latitude",
                  "longitude", "opening_hours", "created_at"),
    "charge_stations": ("id", "location_id", "serial_number", "vendor", "model", "firmware_version", "ocpp_version",
                        "status", "created_at"),
    "evses": ("id", "charge_station_id", "evse_uid", "status"),
    "connectors": ("id", "evse_id", "connector_no", "standard", "format", "power_type", "max_power_kw", "tariff_id"),
    "drivers": ("id", "provider_id", "first_name", "last_name", "email", "phone", "address", "postal_code", "city",
                "country_code", "msp_tariff_id", "created_at"),
    "charge_cards": ("id", "driver_id", "uid", "contract_id", "label", "status", "valid_until", "created_at"),
    "charging_sessions": ("id", "connector_id", "charge_card_id", "token_uid", "evse_uid", "location_name",
                          "tariff_id", "started_at", "ended_at", "energy_kwh", "cost_excl_vat", "vat", "cost_incl_vat",
                          "currency", "status"),
    "invoices": ("id", "provider_id", "driver_id", "partner_provider_id", "number", "billing_email", "period_start",
                 "period_end", "session_count", "energy_kwh", "amount_excl_vat", "vat", "amount_incl_vat", "currency",
                 "status", "issued_at"),
    "mailboxes": ("id", "provider_id", "address", "imap_host", "username", "password", "purpose", "created_at"),
    "support_tickets": ("id", "provider_id", "mailbox_id", "requester_email", "subject", "body", "status", "priority",
                        "opened_at", "closed_at"),
    "scheduled_tasks": ("id", "provider_id", "name", "cron", "script", "enabled", "last_run_at"),
    "app_authorizations": ("id", "provider_id", "app_name", "client_id", "access_token", "refresh_token", "scopes",
                           "authorized_at"),
    "integration_settings": ("id", "provider_id", "system", "endpoint_url", "api_key", "auto_sync", "enabled"),
    "optins": ("id", "provider_id", "kind", "enabled"),
    "web_panels": ("id", "provider_id", "name", "url", "visible"),
    "simulated_devices": ("device_id", "kind", "driver_id", "location_id", "created_at"),
}


def gen_providers(p: Plan) -> Iterator[str]:
    for i, (slug, name, kind, cc, _dom) in enumerate(data.PROVIDERS, 1):
        yield _row(i, slug, name, kind, cc, ts(p.now - 400 * DAY + i * 3600))


def gen_roles(p: Plan) -> Iterator[str]:
    for i, (name, desc) in enumerate(data.ROLES, 1):
        yield _row(i, name, desc)


@lru_cache(maxsize=8)
def _password_hash(seed: int) -> str:
    """One PBKDF2 hash of the documented sandbox password, shared by all users (hashing per row is too slow)."""
    salt = hashlib.sha256(f"salt:{seed}".encode()).hexdigest()[:16]
    dk = hashlib.pbkdf2_hmac("sha256", SANDBOX_PASSWORD.encode(), salt.encode(), 100_000).hex()
    return f"pbkdf2_sha256$100000${salt}${dk}"


def gen_users(p: Plan) -> Iterator[str]:
    rng = p.rng("users")
    pw = _password_hash(p.seed)
    domain = data.PROVIDERS[0][4]
    for u in range(1, p.counts()["users"] + 1):
        first, last = p.person("user", u)
        login = f"{first[0]}{last.replace(' ', '')}{u}".lower()
        role = 1 if u == 1 else 2 + rng.randrange(len(data.ROLES) - 1)
        secret = _hex(rng, 20) if role == 1 or rng.random() < 0.1 else None
        last_login = ts(p.now - rng.randrange(30 * DAY)) if rng.random() < 0.8 else None
        yield _row(u, 1, role, login, f"{login}@{domain}", f"{first} {last}", pw, secret, rng.random() < 0.95,
                   last_login, ts(p.now - 365 * DAY + rng.randrange(200 * DAY)))


def gen_tariffs(p: Plan) -> Iterator[str]:
    i = 0
    if p.cpo:
        for name, kwh, fee, minute in data.CPO_TARIFFS:
            i += 1
            yield _row(i, 1, "cpo", name, "EUR", kwh, fee, minute, "21.00")
    if p.msp:
        for name, kwh, fee, minute in data.MSP_TARIFFS:
            i += 1
            yield _row(i, 1, "msp", name, "EUR", kwh, fee, minute, "21.00")


def gen_locations(p: Plan) -> Iterator[str]:
    rng = p.rng("locations")
    for loc in range(1, p.n_locations + 1):
        city, cc, lat, lon, pc = data.CITIES[_mix(p.salt + 5, loc) % len(data.CITIES)]
        street = data.STREETS[_mix(p.salt + 7, loc) % len(data.STREETS)]
        postal = pc.format(n2=f"{rng.randrange(100):02d}", n3=f"{rng.randrange(1000):03d}",
                           ab=chr(65 + rng.randrange(26)) + chr(65 + rng.randrange(26)))
        yield _row(loc, 1, p.location_name(loc), f"{street} {1 + rng.randrange(180)}", postal, city, cc,
                   f"{lat + rng.uniform(-0.06, 0.06):.6f}", f"{lon + rng.uniform(-0.09, 0.09):.6f}",
                   rng.choice(data.OPENING_HOURS), ts(p.now - 300 * DAY + rng.randrange(200 * DAY)))


def gen_charge_stations(p: Plan) -> Iterator[str]:
    rng = p.rng("charge_stations")
    for st in range(1, p.n_stations + 1):
        vendor, code, ac_model, dc_model = data.VENDORS[_mix(p.salt + 11, st) % len(data.VENDORS)]
        dc = p.station_is_dc(st)
        model = dc_model if dc and dc_model != "DC-unused" else ac_model
        if dc and dc_model == "DC-unused":
            vendor, code, model = "Kempower", "KMP", "S-Series"
        status = "Available" if rng.random() < 0.93 else rng.choice(("Faulted", "Unavailable"))
        yield _row(st, (st - 1) // 2 + 1, f"{code}-{st:08d}", vendor, model,
                   f"{1 + rng.randrange(6)}.{rng.randrange(10)}.{rng.randrange(20)}",
                   "2.0.1" if rng.random() < 0.3 else "1.6", status,
                   ts(p.now - 280 * DAY + rng.randrange(180 * DAY)))


def gen_evses(p: Plan) -> Iterator[str]:
    rng = p.rng("evses")
    for e in range(1, p.n_evses + 1):
        yield _row(e, (e - 1) // 2 + 1, p.evse_uid(e), "AVAILABLE" if rng.random() < 0.9 else "CHARGING")


def gen_connectors(p: Plan) -> Iterator[str]:
    for k in range(1, p.n_connectors + 1):
        evse, no, std, fmt, pt, watts, tariff = p.connector(k)
        yield _row(k, evse, no, std, fmt, pt, f"{watts / 1000:.1f}", tariff)


def gen_drivers(p: Plan) -> Iterator[str]:
    rng = p.rng("drivers")
    for d in range(1, p.n_drivers + 1):
        first, last = p.person("driver", d)
        city, cc, _lat, _lon, pc = data.CITIES[rng.randrange(len(data.CITIES))]
        postal = pc.format(n2=f"{rng.randrange(100):02d}", n3=f"{rng.randrange(1000):03d}", ab="AB")
        phone = f"+31 6 {rng.randrange(10_000_000, 99_999_999)}" if cc == "NL" else f"+{32 if cc == 'BE' else 49} " \
            f"{rng.randrange(100_000_000, 999_999_999)}"
        yield _row(d, 1, first, last, p.driver_email(d), phone,
                   f"{rng.choice(data.STREETS)} {1 + rng.randrange(200)}", postal, city, cc, p.driver_tariff(d),
                   ts(p.now - 360 * DAY + rng.randrange(300 * DAY)))


def gen_charge_cards(p: Plan) -> Iterator[str]:
    rng = p.rng("charge_cards")
    valid = datetime.fromtimestamp(p.now, UTC).date()
    for c in range(1, p.n_cards + 1):
        d = p.card_driver(c)
        status = "active" if rng.random() < 0.9 else rng.choice(("blocked", "expired"))
        yield _row(c, d, p.card_uid(c), f"NL-VOL-C{c:08d}-{_mix(p.salt + 12, c) % 10}",
                   "Card" if c <= p.n_drivers else "Second card", status,
                   (valid + timedelta(days=365 + rng.randrange(700))).isoformat(),
                   ts(p.now - 330 * DAY + rng.randrange(240 * DAY)))


def gen_charging_sessions(p: Plan) -> Iterator[str]:
    """Sessions over the last 90 days: energy = average power x duration, cost = tariff(energy, minutes)."""
    rng = p.rng("charging_sessions")
    rand, randrange = rng.random, rng.randrange
    prices: dict[int, tuple[int, int, int]] = {}
    for i, (_n, kwh, fee, minute) in enumerate((*(data.CPO_TARIFFS if p.cpo else ()),
                                                 *(data.MSP_TARIFFS if p.msp else ())), 1):
        # price per kWh and per minute in 1/10000 EUR, start fee in cents
        prices[i] = (round(float(kwh) * 10000), round(float(fee) * 100), round(float(minute) * 10000))
    window = 90 * DAY
    start0 = p.now - window
    roaming_powers = (11_000, 22_000, 50_000, 150_000)
    n_conn, n_cards = p.n_connectors, p.n_cards
    for i in range(1, p.counts()["charging_sessions"] + 1):
        conn_id: object = None
        card_id: object = None
        if p.cpo:
            conn_id = 1 + randrange(n_conn)
            evse, _no, _std, _fmt, ptype, watts, tariff = p.connector(conn_id)  # type: ignore[arg-type]
            evse_uid = p.evse_uid(evse)
            location = p.location_name((evse - 1) // 4 + 1)
            dc = ptype == "DC"
            if p.msp and rand() < 0.6:
                card_id = 1 + randrange(n_cards)
                token = p.card_uid(card_id)  # type: ignore[arg-type]
            else:
                token = f"DE-HUB-{_mix(p.salt + 13, randrange(1 << 30)):08X}"
        else:
            card_id = 1 + randrange(n_cards)
            token = p.card_uid(card_id)  # type: ignore[arg-type]
            watts = roaming_powers[randrange(4)]
            dc = watts >= 50_000
            tariff = p.driver_tariff(p.card_driver(card_id))  # type: ignore[arg-type]
            evse_uid = f"DE*FOR*E{randrange(1, 10_000_000):07d}"
            location = data.FOREIGN_LOCATIONS[randrange(len(data.FOREIGN_LOCATIONS))]
        minutes = 12 + randrange(50) if dc else 30 + randrange(330)
        avg_w = min(watts, 11_000 if not dc else watts) * (0.45 + 0.4 * rand())
        wh = min(int(avg_w * minutes / 60), 95_000)
        started = start0 + randrange(window - minutes * 60)
        ppk, fee, ppm = prices[tariff]
        excl = round(wh * ppk / 100_000) + fee + round(minutes * ppm / 100)
        vat = (excl * VAT_RATE_BP + 5_000) // 10_000  # half-up, like SQL round()
        yield (f"{i}\t{conn_id if conn_id is not None else chr(92) + 'N'}\t"
               f"{card_id if card_id is not None else chr(92) + 'N'}\t{token}\t{evse_uid}\t{location}\t{tariff}\t"
               f"{ts(started)}\t{ts(started + minutes * 60)}\t{wh // 1000}.{wh % 1000:03d}\t{money(excl)}\t"
               f"{money(vat)}\t{money(excl + vat)}\tEUR\tCOMPLETED\n")


def gen_invoices(p: Plan) -> Iterator[str]:
    rng = p.rng("invoices")
    ref = datetime.fromtimestamp(p.now, UTC).date()
    for i in range(1, p.counts()["invoices"] + 1):
        months_back = 1 + (i - 1) % 3
        y, m = ref.year, ref.month - months_back
        while m <= 0:
            y, m = y - 1, m + 12
        start = date(y, m, 1)
        end = (date(y + (m == 12), m % 12 + 1, 1) - timedelta(days=1))
        if p.msp:
            driver: object = (i - 1) % p.n_drivers + 1
            partner: object = None
            email = p.driver_email(driver)  # type: ignore[arg-type]
        else:
            driver, partner = None, 2 + (i - 1) % (len(data.PROVIDERS) - 1)
            email = f"billing@{data.PROVIDERS[partner - 1][4]}"  # type: ignore[operator]
        n = 1 + rng.randrange(30)
        wh = n * (8_000 + rng.randrange(27_000))
        excl = round(wh * 4200 / 100_000)
        vat = (excl * VAT_RATE_BP + 5_000) // 10_000  # half-up, like SQL round()
        status = "paid" if months_back > 1 or rng.random() < 0.5 else rng.choice(("open", "overdue"))
        issued = int(datetime(end.year, end.month, end.day, 6, tzinfo=UTC).timestamp()) + DAY
        yield _row(i, 1, driver, partner, f"VOL-{y}{m:02d}-{i:07d}", email, start.isoformat(), end.isoformat(), n,
                   f"{wh // 1000}.{wh % 1000:03d}", money(excl), money(vat), money(excl + vat), "EUR", status,
                   ts(issued))


def gen_mailboxes(p: Plan) -> Iterator[str]:
    rng = p.rng("mailboxes")
    domain = data.PROVIDERS[0][4]
    for i, purpose in enumerate(("support", "billing", "noreply"), 1):
        addr = f"{purpose}@{domain}"
        yield _row(i, 1, addr, "imap.mail.example.net", addr, _hex(rng, 12), purpose, ts(p.now - 390 * DAY))


def gen_support_tickets(p: Plan) -> Iterator[str]:
    rng = p.rng("support_tickets")
    for t in range(1, p.counts()["support_tickets"] + 1):
        if p.msp:
            email = p.driver_email(1 + rng.randrange(p.n_drivers))
        else:
            email = f"guest{rng.randrange(100_000)}@{rng.choice(data.MAIL_DOMAINS)}"
        subject = rng.choice(data.TICKET_SUBJECTS)
        body = f"{subject}. Please get back to me at {email} or by phone." if rng.random() < 0.5 else \
            f"{subject}. Happened on {rng.choice(data.FOREIGN_LOCATIONS)}."
        opened = p.now - rng.randrange(90 * DAY)
        x = rng.random()
        status = "open" if x < 0.25 else "pending" if x < 0.4 else "closed"
        closed = ts(min(p.now, opened + rng.randrange(5 * DAY))) if status == "closed" else None
        yield _row(t, 1, 1, email, subject, body, status, rng.choice(("low", "normal", "normal", "high")),
                   ts(opened), closed)


def gen_scheduled_tasks(p: Plan) -> Iterator[str]:
    for i, (name, cron, script) in enumerate(data.SCHEDULED_TASKS, 1):
        yield _row(i, 1, name, cron, script, i != 6, ts(p.now - 3600 * i))


def gen_app_authorizations(p: Plan) -> Iterator[str]:
    rng = p.rng("app_authorizations")
    for i, (name, client, scopes) in enumerate(data.APPS, 1):
        yield _row(i, 1, name, client, _hex(rng, 24), _hex(rng, 24), scopes, ts(p.now - 100 * DAY * i))


def gen_integration_settings(p: Plan) -> Iterator[str]:
    rng = p.rng("integration_settings")
    for i, (system, url) in enumerate(data.INTEGRATIONS, 1):
        # Preconfigured sandboxes never talk to real third parties (seed 000): disabled from the start.
        yield _row(i, 1, system, url, _hex(rng, 16), False, False)


def gen_optins(p: Plan) -> Iterator[str]:
    yield _row(1, 1, "statistics", False)
    yield _row(2, 1, "user_sync", False)


def gen_web_panels(p: Plan) -> Iterator[str]:
    for i, (name, path) in enumerate(data.WEB_PANELS, 1):
        yield _row(i, 1, name, "{{ base_url }}" + path, True)


def gen_simulated_devices(p: Plan) -> Iterator[str]:
    """``device_id(kind, i)`` linked to driver/location ``i + 1``: the simulator preseeds indices 0..N-1."""
    for kind, n in p.devices.items():
        for i in range(n):
            driver = i + 1 if kind == "vehicle" else None
            location = None if kind == "vehicle" else i + 1
            yield _row(device_id(kind, i), kind, driver, location,
                       ts(p.now - 200 * DAY + _mix(p.salt + 14, i) % (150 * DAY)))


GENERATORS: dict[str, Callable[[Plan], Iterator[str]]] = {
    name: globals()[f"gen_{name}"] for name in COLUMNS
}


def copy_statement(table: str) -> sql.Composed:
    """COPY … FROM STDIN for the generated columns of ``table``."""
    return sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in COLUMNS[table])
    )


def load_table(conn: psycopg.Connection, plan: Plan, table: str) -> int:
    """Stream one table's generated rows into COPY in chunks; log rows and throughput."""
    started = time.perf_counter()
    n = 0
    buf: list[str] = []
    with conn.cursor() as cur, cur.copy(copy_statement(table)) as cp:
        for line in GENERATORS[table](plan):
            buf.append(line)
            if len(buf) >= CHUNK_ROWS:
                cp.write("".join(buf))
                n += len(buf)
                buf.clear()
                if n % 100_000 == 0:
                    log.info("  %s: %d rows so far", table, n)
        if buf:
            cp.write("".join(buf))
            n += len(buf)
    elapsed = time.perf_counter() - started
    log.info("loaded %-20s %9d rows in %7.2fs (%.0f rows/s)", table, n, elapsed, n / elapsed if elapsed else 0)
    return n


def load_preconfigured(conn: psycopg.Connection, plan: Plan) -> dict[str, int]:
    """Generate and COPY every table with rows for this plan, parents first. Returns rows per table."""
    counts = {}
    for table, expected in plan.counts().items():
        counts[table] = load_table(conn, plan, table) if expected else 0
    return counts
