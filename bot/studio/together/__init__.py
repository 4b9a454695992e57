"""Portraits of two people: an invitation the second person accepts in their own chat,
a placement step, joint orders delivered to both (issue 24). Registers its command
(/together), its deep-link payload (``/start <token>``), its buttons (buttons.py), its
wizard step (placement.py) and its button under the style question with the core."""
