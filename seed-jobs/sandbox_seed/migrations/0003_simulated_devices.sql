-- 0003: simulated devices (issue #7) linked to MSP drivers (vehicles) and CPO locations (batteries, solar inverters).
-- The ids are the device simulator's own ids, device_id(kind, 0..N-1), so a simulator started with
-- SIMULATOR_PRESEED=kind=N knows every device the data refers to. No identity column: the id is the
-- simulator's, never allocated by the database.

CREATE TABLE IF NOT EXISTS simulated_devices (
    device_id   text        PRIMARY KEY,
    kind        text        NOT NULL CHECK (kind IN ('vehicle', 'battery', 'solar_inverter')),
    driver_id   bigint      REFERENCES drivers (id),
    location_id bigint      REFERENCES locations (id),
    created_at  timestamptz NOT NULL
);

CREATE INDEX IF NOT EXISTS simulated_devices_driver_idx ON simulated_devices (driver_id);
CREATE INDEX IF NOT EXISTS simulated_devices_location_idx ON simulated_devices (location_id);
