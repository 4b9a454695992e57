"""Data rights: /forget, retention sweeps, what is deleted where (rights.py); the
/forget confirmation's button (buttons.py, its codec, loaded by the grammar)."""
