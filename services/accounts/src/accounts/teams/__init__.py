"""Who is in a child's team and how they got there: join requests and their decisions, leaving, removal,
handing over the lead, family links and break-glass.

Teams keep no collection of their own: every change is a commit to the child's account
(`accounts.children.store`), which is what makes a team change and its events one write.
"""
