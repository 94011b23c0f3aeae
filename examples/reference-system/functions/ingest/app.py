"""The ingest function: an S3 upload of items as CSV or JSON goes into the
items table, in batches.

Files:
    *.csv      a header row with id,name,quantity[,tags] (tags separated by `;`)
    *.json     a JSON array of objects, or JSON Lines (one object per line)

Rows are validated like the API validates them; a bad row is logged with its
line number and skipped, and the rest of the file is still ingested. A file
that cannot be read at all raises, so S3's asynchronous invocation retries it
and then hands it to the function's failure destination. Parsing JSON uses
orjson, a C extension: the package is built for the function's architecture
(arm64) without Docker.
"""

import csv
import io
import logging
import os
import urllib.parse

import boto3
import orjson

logger = logging.getLogger()
logger.setLevel(logging.INFO)

TABLE_NAME = os.environ.get("TABLE_NAME", "items")
MAX_OBJECT_BYTES = 50 * 1024 * 1024

_s3 = None
_table = None


def s3():
    global _s3
    if _s3 is None:
        _s3 = boto3.client("s3")
    return _s3


def table():
    global _table
    if _table is None:
        _table = boto3.resource("dynamodb").Table(TABLE_NAME)
    return _table


class BadRow(Exception):
    pass


def to_item(row):
    item_id = str(row.get("id") or "").strip()
    name = str(row.get("name") or "").strip()
    if not item_id or len(item_id) > 100:
        raise BadRow("`id` is missing or longer than 100 characters")
    if not 1 <= len(name) <= 100:
        raise BadRow("`name` must be 1 to 100 characters")
    raw_quantity = row.get("quantity", 0)
    try:
        quantity = int(raw_quantity)
    except (TypeError, ValueError):
        raise BadRow("`quantity` is not a whole number")
    if isinstance(raw_quantity, bool) or quantity < 0 or str(quantity) != str(raw_quantity).strip():
        raise BadRow("`quantity` must be a whole number, 0 or more")
    tags = row.get("tags") or []
    if isinstance(tags, str):
        tags = [t.strip() for t in tags.split(";") if t.strip()]
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise BadRow("`tags` must be a list of strings")
    return {"id": item_id, "name": name, "quantity": quantity, "tags": sorted(set(tags)), "version": 1}


def rows(key, data):
    """(line number, row) pairs of the file."""
    if key.lower().endswith(".csv"):
        reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig")))
        missing = {"id", "name"} - set(reader.fieldnames or [])
        if missing:
            raise ValueError("%s: the header lacks %s" % (key, ", ".join(sorted(missing))))
        for row in reader:
            yield reader.line_num, row
    elif key.lower().endswith((".json", ".jsonl", ".ndjson")):
        stripped = data.lstrip()
        if stripped.startswith(b"["):
            parsed = orjson.loads(data)
            for index, row in enumerate(parsed, start=1):
                yield index, row
        else:
            for number, line in enumerate(data.splitlines(), start=1):
                if line.strip():
                    try:
                        yield number, orjson.loads(line)
                    except orjson.JSONDecodeError as e:
                        yield number, BadRow("not JSON: %s" % e)
    else:
        raise ValueError("%s: only .csv, .json and .jsonl files are ingested" % key)


def ingest(bucket, key):
    head = s3().head_object(Bucket=bucket, Key=key)
    if head["ContentLength"] > MAX_OBJECT_BYTES:
        raise ValueError("s3://%s/%s is %d bytes; at most %d are ingested" % (bucket, key, head["ContentLength"], MAX_OBJECT_BYTES))
    data = s3().get_object(Bucket=bucket, Key=key)["Body"].read()
    written, skipped = 0, 0
    # batch_writer sends 25 items per BatchWriteItem and retries the
    # unprocessed ones; overwrite_by_pkeys drops in-batch duplicates.
    with table().batch_writer(overwrite_by_pkeys=["id"]) as batch:
        for number, row in rows(key, data):
            try:
                if isinstance(row, Exception):
                    raise row
                if not isinstance(row, dict):
                    raise BadRow("not an object")
                batch.put_item(Item=to_item(row))
                written += 1
            except BadRow as e:
                skipped += 1
                logger.warning("s3://%s/%s line %d left out: %s", bucket, key, number, e)
    return {"bucket": bucket, "key": key, "written": written, "skipped": skipped}


def handler(event, context):
    results = []
    for record in event.get("Records", []):
        bucket = record["s3"]["bucket"]["name"]
        key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
        results.append(ingest(bucket, key))
    logger.info("ingested: %s", orjson.dumps(results).decode())
    return {"files": results}
