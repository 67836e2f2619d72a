"""Setsuna clients for Python (standard library only).

setsuna.migratorydata: MigratoryData's client API over Setsuna's publish API.
"""
