"""The checks of DESIGN §5 as plain functions ``check(harness, param)``.

Each raises ``CheckFailed`` (what is wrong, where, how to fix it) or ``NotApplicable``
(a declared reason); ``portal_conformance.checks`` turns them into pytest tests and
``portal_conformance.registry`` lists them with their parameters.
"""
