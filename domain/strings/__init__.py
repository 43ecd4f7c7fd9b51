"""User-facing strings of one feature each; ``domain.catalog`` merges every module here.

Each module defines ``STRINGS: Mapping[str, tuple[str, str]]`` (Chinese, English). Keys are
prefixed by the feature (``case.``, ``report.``…) and must not repeat across modules: the
catalog refuses a repeated key at import.
"""
