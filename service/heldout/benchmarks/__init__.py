"""The benchmark service: definitions, submissions (the scoring queue), scores, leaderboards.

One module per job: ``spec`` (the YAML model), ``registry`` (sync and documents), ``split``
(keyed public/private split), ``truth`` and ``trials`` (held-out labels in scoring form),
``quota``, ``submissions``, ``queue``, ``scorer``, ``ladder``, ``leaderboard``, ``actions``
(reveal, rescore, disqualify, challenge confirmation) and ``phases`` (open phases, embargo).
"""
