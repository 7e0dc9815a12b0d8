"""The audit log: every service's accesses and every account change, kept once each; auditors query it and
a child's team sees who viewed the record."""
