"""``python -m bot.studio.wizard`` prints the table's diagram (bot/studio/wizard/flow.mmd):
the table the studio puts together, with the features' side questions."""

from pathlib import Path
from typing import Any, cast

from bot.studio.core.core import Studio
from sitter.config import load_settings
from sitter.prompts import PromptLibrary


def main() -> None:
    settings = load_settings(data_dir=Path("/nonexistent"))
    # Nothing is opened: the table is built without a database or an engine.
    studio = Studio(cast(Any, None), cast(Any, None), PromptLibrary.load(), settings)
    print(studio.conversation.mermaid(), end="")


if __name__ == "__main__":
    main()
