"""Shared by every domain: money, clock, ids and the error tree. Pure: no I/O, no database."""
