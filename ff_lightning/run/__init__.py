"""The run machinery: the task (train.py), the checks before a run, building objects from the config,
callbacks, checkpoints, loggers and W&B, signals and run folders, DDP, results.json, evaluation."""
