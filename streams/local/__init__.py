"""The hub on one machine (``kawal up``).

Supervised child processes, the embedded broker and its storage, and the demo cases.
"""
