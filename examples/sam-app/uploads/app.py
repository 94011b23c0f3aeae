"""Inspects objects as they are uploaded to S3.

For every ObjectCreated record it decodes the key (S3 sends keys URL-encoded,
spaces as `+`), classifies the file by extension, flags files larger than
MAX_BYTES, and logs one JSON line per object so the logs can be queried.
It returns the summary, which is what `slipway invoke` prints.
"""

import json
import os
from urllib.parse import unquote_plus

MAX_BYTES = int(os.environ.get("MAX_BYTES", str(10 * 1024 * 1024)))
KINDS = {
    "image": {".png", ".jpg", ".jpeg", ".gif", ".webp"},
    "document": {".pdf", ".txt", ".md", ".csv", ".json"},
    "archive": {".zip", ".gz", ".tar"},
}


def kind_of(key):
    extension = os.path.splitext(key)[1].lower()
    for kind, extensions in KINDS.items():
        if extension in extensions:
            return kind
    return "other"


def inspect(record):
    s3 = record["s3"]
    key = unquote_plus(s3["object"]["key"])
    size = int(s3["object"].get("size", 0))
    return {
        "bucket": s3["bucket"]["name"],
        "key": key,
        "size": size,
        "kind": kind_of(key),
        "too_large": size > MAX_BYTES,
        "event": record.get("eventName", ""),
    }


def handler(event, context):
    uploads = []
    for record in event.get("Records", []):
        if record.get("eventSource") != "aws:s3" or not record.get("eventName", "").startswith("ObjectCreated"):
            continue
        upload = inspect(record)
        print(json.dumps(upload, sort_keys=True))
        uploads.append(upload)
    return {"inspected": len(uploads), "uploads": uploads, "too_large": [u["key"] for u in uploads if u["too_large"]]}
