DROP INDEX CONCURRENTLY IF EXISTS service_settings_updated_at_idx;
