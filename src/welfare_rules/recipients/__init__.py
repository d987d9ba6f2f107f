"""Keeping recipient lists true: the monthly jobs over a recipient list.

``reconcile`` matches recipients against reference registers (deaths, civil servants, …),
``snapshots`` saves and compares a month's results, ``reallocate`` proposes who takes the places
that reconciliation frees. Each is a module of its own; import from them directly, e.g.
``from welfare_rules.recipients.reconcile import reconcile``.
"""
