"""Gateway rules (clients, scopes), free of Flask, SQLAlchemy and pika."""
