-- 0002: lookup indexes the platform's screens need (sessions by time, card and connector; tickets by status).
-- Kept apart from 0001 so the schema has a real version history (a parent at version 1 is "older").

CREATE INDEX IF NOT EXISTS charging_sessions_started_at_idx ON charging_sessions (started_at);
CREATE INDEX IF NOT EXISTS charging_sessions_card_idx ON charging_sessions (charge_card_id);
CREATE INDEX IF NOT EXISTS charging_sessions_connector_idx ON charging_sessions (connector_id);
CREATE INDEX IF NOT EXISTS charge_cards_driver_idx ON charge_cards (driver_id);
CREATE INDEX IF NOT EXISTS support_tickets_status_idx ON support_tickets (status);
