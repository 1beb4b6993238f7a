"""Reading sweeps back: their runs, the comparisons and verdicts, the report's tables and figures,
the records kept in the repository, the multirun's closing table and the W&B dashboard."""
