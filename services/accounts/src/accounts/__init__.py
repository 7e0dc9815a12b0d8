"""Safeguarding 2.0 accounts service.

One package per domain, each with `models` (pure rules and entities), `store` (its MongoDB collections),
`service` (use cases, keyword-only) and `routes` (a module-level `APIRouter`, thin), `schemas` for HTTP models:

- `children`: a child's account — registering, the header, search, flags; the commit log all changes go to;
- `teams`: joining, deciding, leaving, the lead, family links, break-glass;
- `identity`: matching a child by NHS number or name + date of birth + postcode; what waits for a manager;
- `audit`: the audit log and who viewed a record;
- `people`: people, password sign-in and the signing key.

Shared by them: `context` (what every use case is handed), `checks` (policy + audit trail), `errors` (domain
errors and their HTTP statuses), `deps` (the routes' typed dependencies). `app` composes it all; `handlers`
are the Kafka subscribers and `outbox` the relay that publishes the children's commits.
"""
