"""Safety-scale history (BRIEF §3, Signs of Safety): every participant's answer to "how safe is the child now?",
0 to 10, over time, one line per participant, the family's included.

Scales come from the forum's `ScaleRecorded` events, each kept once by its scale id. They are shown as the
forum shows them: the family sees the scales recorded in family-audience threads (their own, and those of the
practitioners who shared theirs there), and a confidential-service practitioner is never named to someone who
may not see sensitive providers.
"""
