"""A tiny Flask app packaged with pyproject.toml."""

from flask import Flask

app = Flask(__name__)


@app.route("/")
def index() -> str:
    return "Powered by a pyproject app\n"
