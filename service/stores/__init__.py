"""The two stores and how to reach them: the PostgreSQL ledger (source of truth, its
migrations) and Redis (derived live state), embedded servers when none is configured.

Only connection handling lives here; the SQL and Redis commands of each feature live
in that feature's repository modules.
"""
