"""Event contracts, one module per producer. Only the producer changes its module: new fields get defaults,
nothing is renamed, and a breaking change is a new `version` in the envelope."""
