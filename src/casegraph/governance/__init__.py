"""Governance: users and sessions, the permission matrix, purpose of use, the hash-chained
audit log, field masking and retention.

Public surface:
- ``governance.audit``: ``record_event``, ``append_event``, ``verify``, ``list_events``
- ``governance.permissions``: ``ROLES``, ``PERMISSIONS``, ``MATRIX``, ``allowed``, ``require``
- ``governance.users``: ``add_user``, ``login``, ``resolve_session``, ``logout``, ``Principal``
- ``governance.purpose``: ``check_purpose``, ``is_identifier_query``
- ``governance.masking``: ``mask_record``, ``can_see_sensitive``
- ``governance.retention``: ``apply_retention``
"""
