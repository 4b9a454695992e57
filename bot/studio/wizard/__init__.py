"""The wizard: the table of steps from consent to confirm (wizard.py), its first steps
(wizard_start.py), packs (wizard_packs.py), the subject and format steps (looks.py),
the prompt-length check (prompt_fit.py), their words (words_looks.py) and the
generated diagram (flow.mmd: ``python -m bot.studio.wizard > bot/studio/wizard/flow.mmd``)."""
