"""Audit rules, free of Flask, SQLAlchemy and pika."""
