"""The human side: review queue, leases, verdicts, approval, ClaimReview export, web app.

Never fetches and never imports `sources`.
"""
