"""Jobs: long work driven in many transactions (bill runs), for the CLI, the API and workers."""
