"""Location leads for eligible persons: :func:`casegraph.leads.build.build_leads`, and the
check against the synthetic generator's truth: :func:`casegraph.leads.truth.check_against_truth`.
See docs/policy.md."""
