"""The journey's rules, free of Flask, SQLAlchemy and pika."""
