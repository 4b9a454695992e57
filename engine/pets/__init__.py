"""Pets: a cat's or a dog's photos checked, embedded and painted like a person's.

- :mod:`engine.pets.models`: the animal detector (RT-DETR, COCO classes) and the
  embedder of the animal's crop (DINOv2), loaded from local folders (``sitter models
  fetch`` puts the Hub's there); no torchvision, no timm.
- :mod:`engine.pets.analyzer`: :class:`PetAnalyzer`, the face analyzer's interface over
  them for one species, so a pet's set check and likeness gate are a person's
  (engine/identity.py, engine/gate.py) with the animal in place of the face.
- :mod:`engine.pets.photos`: the analysis of one pet photo and of a pet's set.
- :mod:`engine.pets.colour`: has the animal's coat kept its colours in a portrait?
"""
