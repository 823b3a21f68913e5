"""The rules of a case, pure: lifecycle, authorization, deadlines, chain, disclosure policy.

Nothing here imports Faust, Kafka, HTTP or SQL (a test checks it): the rules read data files
and decide, and the runtime around them (:mod:`streams.hub`) applies what they decide.
"""
