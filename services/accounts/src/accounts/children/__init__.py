"""A child's account: the aggregate every other part of accounts reads or changes.

Registering a child opens the account, so it lives here, beside the account's commit log (`store`: each
change is an inserted commit that is also the outbox) and the header, search and flags. Team membership —
joining, leaving, the lead, family links, break-glass — is in `accounts.teams`, and commits through
`service.change` here; a registration that may be a known child waits in `accounts.identity`.
"""
