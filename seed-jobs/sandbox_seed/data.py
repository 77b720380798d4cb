"""Word lists for plausible fixtures (Benelux/DACH flavoured e-mobility operator).

Plain constants so generation stays stdlib-only and deterministic. Strings never contain tab, newline
or backslash: rows are rendered straight into COPY text format without escaping.
"""

from __future__ import annotations

FIRST_NAMES = (
    "Emma", "Liam", "Sophie", "Noah", "Julia", "Lucas", "Anna", "Finn", "Sara", "Daan", "Lotte", "Milan",
    "Eva", "Sem", "Mila", "Jesse", "Lisa", "Thomas", "Laura", "Lars", "Fleur", "Bram", "Nina", "Ruben",
    "Hannah", "Jonas", "Marie", "Felix", "Lea", "Paul", "Clara", "Max", "Ines", "Tom", "Elise", "Jan",
)
LAST_NAMES = (
    "de Jong", "Jansen", "de Vries", "van den Berg", "Bakker", "Visser", "Smit", "Meijer", "Mulder",
    "de Boer", "Peeters", "Maes", "Janssens", "Claes", "Wouters", "Schmidt", "Schneider", "Fischer",
    "Weber", "Becker", "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Schulz", "Dekker", "Brouwer",
)
MAIL_DOMAINS = ("example.com", "example.org", "example.net", "mail.example.com", "post.example.org")

# name, country, latitude, longitude, postal-code pattern ({n} = 4 digits)
CITIES = (
    ("Amsterdam", "NL", 52.3676, 4.9041, "10{n2} {ab}"),
    ("Rotterdam", "NL", 51.9244, 4.4777, "30{n2} {ab}"),
    ("Utrecht", "NL", 52.0907, 5.1214, "35{n2} {ab}"),
    ("Eindhoven", "NL", 51.4416, 5.4697, "56{n2} {ab}"),
    ("Groningen", "NL", 53.2194, 6.5665, "97{n2} {ab}"),
    ("Antwerpen", "BE", 51.2194, 4.4025, "20{n2}"),
    ("Gent", "BE", 51.0543, 3.7174, "90{n2}"),
    ("Brussel", "BE", 50.8503, 4.3517, "10{n2}"),
    ("Köln", "DE", 50.9375, 6.9603, "50{n3}"),
    ("Düsseldorf", "DE", 51.2277, 6.7735, "40{n3}"),
    ("Aachen", "DE", 50.7753, 6.0839, "52{n3}"),
    ("Münster", "DE", 51.9607, 7.6261, "48{n3}"),
)
STREETS = (
    "Stationsplein", "Marktstraat", "Kerkstraat", "Havenweg", "Industrieweg", "Parkweg", "Dorpsstraat",
    "Schoolstraat", "Molenweg", "Beatrixlaan", "Hauptstraße", "Bahnhofstraße", "Lindenallee", "Ringweg",
    "Grote Markt", "Kanaalweg", "Nieuwstraat", "Zuiderpark", "Europaweg", "Energieweg",
)
POIS = (
    "Parking", "P+R", "Supermarket", "Town Hall", "Office Park", "Hotel", "Shopping Centre", "Station",
    "Sports Park", "Business Park", "Hospital", "Garage",
)
OPENING_HOURS = ("24/7", "24/7", "24/7", "Mo-Fr 07:00-20:00", "Mo-Sa 08:00-22:00")
VENDORS = (
    ("Alfen", "ALF", "Eve Double Pro-line", "DC-unused"),
    ("ABB", "ABB", "Terra AC", "Terra 184"),
    ("Wallbox", "WBX", "Copper SB", "Supernova"),
    ("Kempower", "KMP", "Satellite AC", "S-Series"),
    ("Ecotap", "ECO", "EVC30", "DC-unused"),
)
TICKET_SUBJECTS = (
    "Charge card not accepted", "Session did not stop", "Invoice amount unclear", "Station offline",
    "Request for new card", "Wrong tariff applied", "Cannot log in to the app", "Roaming session missing",
    "Connector stuck", "Change of billing address",
)
ROLES = (
    ("admin", "Full access to the provider account"),
    ("support", "Handles tickets, cards and sessions"),
    ("billing", "Invoices, tariffs and payments"),
    ("operator", "Charge stations and locations"),
    ("viewer", "Read-only access"),
)
# slug, name, kind, country, mail domain
PROVIDERS = (
    ("voltaro", "Voltaro Mobility", "operator", "NL", "voltaro.example"),
    ("hubway", "Hubway Charging", "partner", "DE", "hubway.example"),
    ("chargenord", "ChargeNord", "partner", "BE", "chargenord.example"),
    ("plugline", "Plugline Roaming", "partner", "NL", "plugline.example"),
)
# name, price/kWh, start fee, price/minute, vat (kind decided by module)
CPO_TARIFFS = (
    ("AC Standard", "0.3900", "0.00", "0.0000"),
    ("AC Business", "0.3500", "0.00", "0.0000"),
    ("DC Fast", "0.5900", "0.50", "0.0000"),
    ("DC Ultra", "0.6900", "0.50", "0.0500"),
)
MSP_TARIFFS = (
    ("Flex", "0.4500", "0.00", "0.0000"),
    ("Comfort", "0.3900", "0.25", "0.0000"),
    ("Roaming Plus", "0.5500", "0.35", "0.0000"),
)
SCHEDULED_TASKS = (
    ("Nightly invoice run", "0 2 * * *", "billing/run_invoices.js"),
    ("Sync roaming tokens", "*/15 * * * *", "roaming/sync_tokens.js"),
    ("Expire charge cards", "0 3 * * *", "cards/expire.js"),
    ("Station heartbeat report", "0 * * * *", "cpo/heartbeat_report.js"),
    ("Export sessions to ERP", "30 1 * * *", "erp/export_sessions.js"),
    ("Weekly KPI mail", "0 7 * * 1", "reports/kpi_mail.js"),
)
APPS = (
    ("Fleet Manager Pro", "fleet-manager-pro", "sessions:read cards:write"),
    ("ERP Connector", "erp-connector", "invoices:read sessions:read"),
    ("Roaming Hub Sync", "roaming-hub-sync", "tokens:read locations:read"),
)
INTEGRATIONS = (
    ("netsuite", "https://1234567.suitetalk.api.netsuite.com/services/rest"),
    ("hubject", "https://service.hubject.com/api/oicp/charging/v21"),
    ("payments", "https://api.psp.example/v1/merchants/voltaro"),
)
WEB_PANELS = (
    ("Open tickets", "/support/tickets?status=open"),
    ("Station map", "/cpo/locations/map"),
    ("Card requests", "/msp/cards/requests"),
    ("Revenue dashboard", "/reports/revenue"),
    ("Roaming partners", "/roaming/partners"),
)
FOREIGN_LOCATIONS = (
    "Ionity A3 Siegburg", "Fastned Veenendaal", "Allego Gent Dampoort", "Tesla Destination Aachen",
    "EnBW Köln Messe", "Shell Recharge Utrecht", "Vattenfall InCharge Rotterdam", "TotalEnergies Antwerpen",
)
