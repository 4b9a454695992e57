"""Pets (issue 25): a person keeps a reference set for each of their cats and dogs beside
their own; the wizard asks whose portrait it is, offers the styles and packs that take
pets, and the order carries the subject to the engine. sets.py (whose set an order
uses, the pet's prompt wording), pets.py (the steps, /pet, the ``pt:`` presses),
buttons.py (the codec), words_pets.py (every sentence)."""
