"""The append-only log of administrative actions (审计日志)."""
