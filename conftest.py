"""Fixtures that start the real servers (Kafka, FerretDB) once per test session, lazily."""

pytest_plugins = ["testsupport.fixtures"]
