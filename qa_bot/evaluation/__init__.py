"""The eval harness behind `qa-bot eval`: datasets, judge-free metrics, the runner and its report."""
