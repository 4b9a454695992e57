"""The conversation core, platform-neutral: the facade (core.py: ``Studio``), events,
the table of steps (conversation.py), the one button grammar (buttons.py) and the
press registry (routes.py) that feature folders register with, the commands valid
everywhere (commands.py, handed the wizard and orders as the parts they are), shared
services and words.

Only core.py, where ``Studio`` puts the parts together, imports feature folders. Two
named exceptions: the grammar loads each feature's codec module (``<feature>/buttons.py``,
no handlers) by name from ``buttons.FEATURE_CODECS``, and words.py re-exports the
failure words of ``bot/studio/jobs/words_failures.py`` until jobs/ reads them there
(tests/test_studio_registry.py checks this).
"""
