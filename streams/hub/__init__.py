"""The Faust agents of the hub and what only they use.

The pipeline (ingress, ledger and router in one step per record), receipts and dead letters,
the case table and the batch producer, the deadline timer and the audit sink. Each agent gets
what it uses from the composition root (:mod:`streams.app`).
"""
