"""The baseline of the gateway benchmark: a bare Flask app answering {"ok": true}, served by
gunicorn with the same settings as every Relais service."""

from flask import Flask, jsonify

app = Flask("bare")


@app.get("/ok")
def ok():
    return jsonify(ok=True)
