import json
import os

from flask import Flask, request
from probe import probe

app = Flask(__name__)


@app.route("/")
def index():
    return f"{os.environ.get('DEIS_APP')} serving on {os.environ.get('PORT')}\n"


@app.route("/probe")
def probe_targets():
    return json.dumps(probe(request.args.getlist("t")))
