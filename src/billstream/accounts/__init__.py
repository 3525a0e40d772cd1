"""Accounts: parties billed, their hierarchy, and the phone-number inventory."""
