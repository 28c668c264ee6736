// TLS helpers (stub)
