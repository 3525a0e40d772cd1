"""Access: API keys scoped to tenants (users, roles and audit arrive with their issue)."""
