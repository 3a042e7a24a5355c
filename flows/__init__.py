"""The top floor: Prefect flows and deployments that orchestrate sources, evidence and verdicts."""
