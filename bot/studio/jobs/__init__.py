"""Following the jobs the bot hands to the engine, from enqueue to delivered results.

One lifecycle for every kind (portrait order, a pack's look, each follow-up): the
tracker, how results are delivered and words for failures made at the edge.
"""
