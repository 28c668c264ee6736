CREATE INDEX CONCURRENTLY IF NOT EXISTS service_settings_updated_at_idx
    ON service_settings (updated_at);
