"""Tenants: the tree of companies and brands, their settings and branding."""
