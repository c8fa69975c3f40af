import os

from flask import Flask

app = Flask(__name__)
VERSION = "one"


@app.route("/")
def index():
    greeting = os.environ.get("GREETING", "world")
    release = os.environ.get("WORKFLOW_RELEASE")
    return f"Hello {greeting} from {os.environ.get('DEIS_APP')} {release} code={VERSION}\n"
