"""Following the jobs the bot hands to the engine, from enqueue to delivered results.

One lifecycle for every kind (portrait order, a pack's looks, each follow-up): the
tracker (tracking.py) walks the table of kinds (kinds.py: one :class:`JobKind` entry
each, naming its :class:`~bot.studio.jobs.parts.Follower`), how results are delivered
and words for failures made at the edge. A new kind of job (a personal model's
training) is three files: its entry in kinds.py, its follower module and its words;
kinds.py's docstring works the example through.
"""
