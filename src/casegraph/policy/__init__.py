"""Legal gates, eligibility and priority (the score room).

Public surface:

- :func:`casegraph.policy.gates.evaluate` -- pure gate evaluation of one person's facts.
- :func:`casegraph.policy.score.run_scoring` -- every person, stored per run.
- :func:`casegraph.policy.score.evaluate_person` -- one person on current data.
- :func:`casegraph.policy.config.load_policy` -- the versioned, validated policy YAML.

See docs/policy.md.
"""
