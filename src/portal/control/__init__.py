"""Control: the person sets the terms of each relationship, and portal carries them out.

- ``portal.control.changes``: what the person can ask a provider to change (``Change``),
  and what the provider answered (``ChangeResult``: applied, already so, not supported with
  what to do instead, or refused with its reason).
- ``portal.control.preferences``: the person's preferences, stated once (marketing by
  channel, profiling, sharing with third parties for marketing), kept in the store, and
  compared with what each provider releases (``plan``).
- ``portal.control.apply``: ``portal apply`` carrying the difference out through each
  plugin's ``apply_change`` hook, retried like a fetch, every change asked for kept in the
  store, and checked against what the next sync brings (``verify``).
"""
