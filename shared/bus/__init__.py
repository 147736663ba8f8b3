"""The message bus on RabbitMQ: envelope, outbox, relay, consumer and topology."""
