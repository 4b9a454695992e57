"""The conversation core, platform-neutral: the facade (core.py: ``Studio``), events,
the table of steps (conversation.py), the one button grammar (buttons.py) and the
press registry (routes.py) that feature folders register with, the commands valid
everywhere (commands.py), shared services and words. It imports no feature's
internals except where ``Studio`` puts the parts together."""
