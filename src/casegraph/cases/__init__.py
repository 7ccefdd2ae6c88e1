"""Case work: the services behind the API, the web pages and the CLI.

- ``cases.leads``: ``list_leads``, ``get_lead``, ``approve_lead`` (re-checks the gates),
  ``reject_lead``, ``recheck_person``
- ``cases.workflow``: ``list_cases``, ``get_case``, ``assign_case``, ``record_outcome``,
  ``add_note``, ``list_officers``
- ``cases.persons``: ``search_persons``, ``get_profile``
- ``cases.review``: ``list_reviews``, ``get_review``, ``decide_review``
- ``cases.departures``: ``list_departures``, ``departure_summary``

Every function takes the workspace and the acting ``governance.users.Principal``, checks
the permission matrix, and appends an audit event; errors are
``governance.errors.ServiceError`` subclasses carrying their HTTP status.
"""
