"""The product catalogue: products, plans and their charges, price versions in layers.

A catalogue belongs to a tenant and is usable by all its descendants, which add their own
(the nearest owner wins when two define the same code). Prices are versions: a change is a
new row from a date, and a charge uses the version in force on its service date. The layer
of a price (tenant default, plan, brand, customer) decides which one wins (`layers.py`).
"""
