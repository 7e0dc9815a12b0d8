"""The keyword cloud: what key words come up most often within a child's case (BRIEF §1).

Each document (an agency contact's summary, action and outcome) keeps its own keywords, extracted once by YAKE
in a process pool; a child's clouds (the practitioners' and the family's) are rebuilt from those kept keywords
whenever one of the child's documents arrives, so a corrected or restricted document's words leave the cloud
without anything being extracted again.
"""
