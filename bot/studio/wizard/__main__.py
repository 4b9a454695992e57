"""``python -m bot.studio.wizard`` prints the table's diagram (bot/studio/wizard/flow.mmd)."""

from bot.studio.wizard.wizard import main

main()
