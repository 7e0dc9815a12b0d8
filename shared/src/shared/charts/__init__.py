"""The pictures of a child's account, drawn in one place: the contact graph, the safety-scale chart and the
keyword cloud, as geometry (what a template or a table needs) and as SVG text (`svg`).

The web embeds these SVGs in the child's page and analytics serves them on their own (`*.svg` routes), so
both show the same drawing. Everything drawn from data is escaped (`svg.text`): agency names, participants'
names and keywords come from people's input.
"""
