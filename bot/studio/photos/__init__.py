"""Reference photos: the references step (photos.py), bursts and albums checked by the
engine (uploads.py), the set judged by its majority and the /photos sheet
(reference_set.py, contact_sheet.py)."""
