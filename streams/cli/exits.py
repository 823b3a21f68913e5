"""Exit codes of ``kawal``; each command's ``--help`` and the package docstring list them."""

EXIT_OK = 0
#: An error whose message says what to do.
EXIT_ERROR = 1
#: The command line could not be parsed (argparse's own code).
EXIT_USAGE = 2
EXIT_UNKNOWN_CASE = 3
#: A trail that does not verify.
EXIT_UNVERIFIED = 4
#: An institution not entitled to the view it asked for.
EXIT_NOT_ENTITLED = 5
#: ``topics apply --dry-run`` found topics to create or configuration to change (like diff).
EXIT_PENDING = 6
#: ``deadline due`` counted through a year without holiday data: the due date is provisional.
EXIT_PROVISIONAL = 7
#: ``erase`` destroyed the data key but could not publish PersonalDataErased: run it again.
EXIT_NOT_RECORDED = 8
#: ``audit verify`` found nothing wrong but could not check all it checks: the kept personal
#: values, without the hub's vault (its KEK file or database missing). Not a success.
EXIT_UNCHECKED = 9
#: ``status``: the hub runs, but a check found it degraded (not ready, lag, a ticket alert,
#: records the audit sink dead-lettered).
EXIT_DEGRADED = 10
#: ``status``: a process (worker or audit sink), the broker, the audit store or the hub's key is
#: down, the sink stalled or its store writes failing, or a page fires.
EXIT_DOWN = 11
#: ``status``: no process of the hub runs on this KAWAL_HOME and settings.
EXIT_NOT_RUNNING = 12
#: A ``KAWAL_*`` variable (or secret file) that no setting reads: a misspelt setting, most likely.
EXIT_UNKNOWN_SETTING = 13
