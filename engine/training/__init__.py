"""Training a personal model (a LoRA on the family's denoiser) from a person's photos.

The shared loop (:mod:`engine.training.loop`) runs any family's
:class:`engine.families.base.Trainer`; the job (:mod:`engine.training.job`) adds the
checkpoints in Redis, progress and yielding to waiting orders.
"""
