"""Traffic through the deployed reference system, for local runs against an
emulator: moto keeps the tables, queues, bucket and each function's
configuration but runs no function code and no event source mapping. So the
packages `slipway verify --deployed` just proved live (dist/, the same
CodeSha256) run here, each with its live configuration, fed as Lambda would
feed them:

  items-api        HTTP through `slipway serve`'s Function URL
  change-consumer  the change queue, polled by `slipway serve --sqs` as the
                   event source mapping polls it
  ingest           a CSV put in the uploads bucket, its S3 event through
                   `slipway invoke`
  assistant        Alexa intents through `slipway invoke`, answered by the
                   model at LLM_BASE_URL, and by the spoken fallback when the
                   model is too slow
  report           arm64: run only on an arm64 machine

Each check prints `ok  <what>` or `FAILED  <what>: <why>`; what it wrote is
in reference-traffic.json. Exits 1 when a check failed.
"""

import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

import boto3

FALLBACK = "Sorry, I can't answer that right now. Please try again in a moment."
RESULTS = {"checks": [], "failed": []}
LOGS = tempfile.mkdtemp(prefix="traffic-")


def check(what, passed, why=""):
    RESULTS["checks"].append(what)
    if passed:
        print("ok  %s" % what, flush=True)
    else:
        RESULTS["failed"].append({"check": what, "why": why})
        print("FAILED  %s: %s" % (what, why), flush=True)
    return passed


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(condition, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.5)
    return condition()


class Deployed:
    """The live system, read through the job's credentials."""

    def __init__(self):
        # The component exports AWS_REGION, which botocore does not read.
        self.session = boto3.Session(region_name=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"))
        frozen = self.session.get_credentials().get_frozen_credentials()
        self.region = self.session.region_name
        # What the function processes get, as Lambda gives them their role's.
        self.child_env = {k: v for k, v in os.environ.items()
                          if k not in ("AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_PROFILE")}
        self.child_env.update({"AWS_ACCESS_KEY_ID": frozen.access_key, "AWS_SECRET_ACCESS_KEY": frozen.secret_key,
                               "AWS_REGION": self.region})
        if frozen.token:
            self.child_env["AWS_SESSION_TOKEN"] = frozen.token
        self.lam = self.session.client("lambda")
        self.sqs = self.session.client("sqs")
        self.s3 = self.session.client("s3")
        self.dynamodb = self.session.client("dynamodb")

    def env_args(self, function):
        """The function's live configuration, after checking that the package
        about to run is the one deployed."""
        live = self.lam.get_function_configuration(FunctionName=function)
        with open(os.path.join("dist", function, "manifest.json")) as f:
            built = json.load(f)["artifact"]["code_sha256"]
        if live["CodeSha256"] != built:
            raise SystemExit("%s: the live CodeSha256 %s is not dist/'s %s: run the deploy first"
                             % (function, live["CodeSha256"], built))
        args = []
        for k, v in sorted(live.get("Environment", {}).get("Variables", {}).items()):
            args += ["--env", "%s=%s" % (k, v)]
        return args

    def item(self, table, key, value):
        return self.dynamodb.get_item(TableName=table, Key={key: {"S": value}}, ConsistentRead=True).get("Item")


def slipway_event(*args):
    return subprocess.run(["slipway", "-q", "event", *args], check=True, capture_output=True).stdout


def invoke(deployed, function, event):
    started = time.time()
    out = subprocess.run(["slipway", "-q", "invoke", function, "--event", "-", *deployed.env_args(function)],
                         input=event, capture_output=True, env=deployed.child_env)
    elapsed = time.time() - started
    if out.returncode != 0:
        sys.stderr.write(out.stderr.decode(errors="replace"))
        return None, elapsed
    return json.loads(out.stdout), elapsed


class Serve:
    """`slipway serve` for one function, stopped on exit."""

    def __init__(self, deployed, function, *extra):
        self.port = free_port()
        self.log = os.path.join(LOGS, "serve-%s.log" % function)
        self.child = subprocess.Popen(
            ["slipway", "serve", function, "--port", str(self.port), "--no-watch", *extra,
             *deployed.env_args(function)],
            stdout=open(self.log, "wb"), stderr=subprocess.STDOUT, env=deployed.child_env)
        self.url = "http://127.0.0.1:%d" % self.port

    def stop(self):
        if self.child.poll() is None:
            self.child.terminate()
            self.child.wait(timeout=10)

    def tail(self):
        with open(self.log, errors="replace") as f:
            return f.read()[-3000:]


def http(method, url, body=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"content-type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def items_api(deployed, run_id):
    api = Serve(deployed, "items-api")
    try:
        up = wait_until(lambda: _answers(api.url + "/items"), 60)
        if not check("items-api serves its Function URL", up, api.tail()):
            return None
        status, created = http("POST", api.url + "/items", {"name": "widget " + run_id, "quantity": 3, "tags": ["blue"]})
        if not check("POST /items creates an item (201)", status == 201, "%s %s" % (status, created)):
            return None
        status, read = http("GET", api.url + "/items/" + created["id"])
        check("GET /items/{id} reads it back through the API", status == 200 and read == created, "%s %s" % (status, read))
        status, body = http("PUT", api.url + "/items/" + created["id"], {"name": "stale"}, {"if-match": "0"})
        check("PUT with a stale If-Match is refused (409)", status == 409, "%s %s" % (status, body))
        status, missing = http("GET", api.url + "/items/no-such-item")
        check("GET of a missing item is 404", status == 404, "%s %s" % (status, missing))
        RESULTS["item_id"] = created["id"]
        return created
    finally:
        api.stop()


def _answers(url):
    try:
        return http("GET", url)[0] == 200
    except OSError:
        return False


def queue_count(deployed, url):
    a = deployed.sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
    return sum(int(v) for v in a["Attributes"].values())


def change_consumer(deployed, item, run_id):
    queue = deployed.sqs.get_queue_url(QueueName="item-changes")["QueueUrl"]
    dlq = deployed.sqs.get_queue_url(QueueName="item-changes-dlq")["QueueUrl"]
    dlq_before = queue_count(deployed, dlq)
    change = {"change_id": "traffic-%s" % run_id, "item_id": item["id"], "op": "adjust_quantity", "value": 5}
    # The same change delivered twice (SQS is at-least-once), and a message
    # that can never apply.
    deployed.sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(change))
    deployed.sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(change))
    poison = "not a change request %s" % run_id
    deployed.sqs.send_message(QueueUrl=queue, MessageBody=poison)
    consumer = Serve(deployed, "change-consumer", "--sqs", queue)
    try:
        drained = wait_until(lambda: queue_count(deployed, queue) == 0 and queue_count(deployed, dlq) > dlq_before, 120)
        check("the change queue drains, the poison message into the dead-letter queue", drained,
              "queue %d, dead-letter queue %d\n%s" % (queue_count(deployed, queue), queue_count(deployed, dlq), consumer.tail()))
    finally:
        consumer.stop()
    stored = deployed.item("items", "id", item["id"])
    quantity = int(stored["quantity"]["N"]) if stored else None
    check("a change delivered twice is applied once (quantity 3 + 5 = 8)", quantity == 8, "quantity %s" % quantity)
    check("the change's marker is in item-changes",
          deployed.item("item-changes", "change_id", change["change_id"]) is not None, "no marker")
    bodies = [m["Body"] for m in deployed.sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10,
                                                               VisibilityTimeout=0).get("Messages", [])]
    check("the poison message is in the dead-letter queue", poison in bodies, "dead-letter queue holds %r" % bodies)


def ingest(deployed, run_id):
    bucket = "reference-uploads"
    key = "incoming/traffic-%s.csv" % run_id
    body = ("id,name,quantity,tags\n"
            "csv-{r}-1,bolt,10,steel;small\n"
            "csv-{r}-2,nut,20,\n"
            "csv-{r}-3,washer,-1,\n"
            "csv-{r}-4,gear,4,steel\n").format(r=run_id).encode()
    deployed.s3.put_object(Bucket=bucket, Key=key, Body=body)
    event = slipway_event("s3-put", "--bucket", bucket, "--key", key, "--size", str(len(body)), "--region", deployed.region)
    out, _ = invoke(deployed, "ingest", event)
    files = (out or {}).get("files") or [{}]
    check("ingest writes the good rows and skips the bad one", files[0].get("written") == 3 and files[0].get("skipped") == 1,
          "answered %s" % out)
    rows = {i: deployed.item("items", "id", "csv-%s-%d" % (run_id, i)) for i in (1, 2, 3, 4)}
    check("the CSV rows are in the table", all(rows[i] for i in (1, 2, 4)) and rows[3] is None,
          "rows found: %s" % sorted(i for i, r in rows.items() if r))


def assistant(deployed):
    skill = [a for a in deployed.env_args("assistant") if a.startswith("SKILL_ID=")][0].split("=", 1)[1]

    def ask(question):
        event = slipway_event("alexa-intent", "--intent", "AskIntent", "--slot", "question=" + question,
                              "--application-id", skill)
        out, elapsed = invoke(deployed, "assistant", event)
        speech = (((out or {}).get("response") or {}).get("outputSpeech") or {}).get("text")
        return speech, elapsed

    speech, _ = ask("what is the answer to everything?")
    check("the assistant speaks the model's answer",
          speech == "The answer to 'what is the answer to everything' is forty-two.", "said %r" % speech)
    speech, elapsed = ask("a slow question")
    check("a slow model gets the spoken fallback within Alexa's 8 s", speech == FALLBACK and elapsed < 8,
          "said %r after %.1f s" % (speech, elapsed))


def report(deployed):
    machine = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine())
    if machine != "arm64":
        print("skipped  report: its package is arm64 and this machine is %s" % platform.machine(), flush=True)
        return
    out, _ = invoke(deployed, "report", b"{}")
    check("the report runs", out is not None, "no answer")


def main():
    deployed = Deployed()
    run_id = uuid.uuid4().hex[:8]
    item = items_api(deployed, run_id)
    if item:
        change_consumer(deployed, item, run_id)
    ingest(deployed, run_id)
    assistant(deployed)
    report(deployed)
    RESULTS["run_id"] = run_id
    with open("reference-traffic.json", "w") as f:
        json.dump(RESULTS, f, indent=2, sort_keys=True)
    print("traffic: %d checks, %d failed" % (len(RESULTS["checks"]), len(RESULTS["failed"])), flush=True)
    sys.exit(1 if RESULTS["failed"] else 0)


if __name__ == "__main__":
    main()
