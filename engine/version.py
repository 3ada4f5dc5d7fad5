"""The package version; the rule-set version of a report adds the playbook's fingerprint."""

VERSION = "0.1.0"
