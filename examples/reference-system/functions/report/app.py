"""The stock report: a scheduled summary of the items table (how many items,
how many out of stock, the total quantity), written to S3 as JSON.

It runs on arm64 (Graviton) and serialises with orjson, a C extension: the
package carries orjson's aarch64 manylinux wheel, chosen and checked (ELF
machine, glibc symbol versions) by slipway on any build machine, without
Docker or emulation.
"""

import os
import time

import boto3
import orjson

TABLE_NAME = os.environ.get("TABLE_NAME", "items")
REPORT_BUCKET = os.environ.get("REPORT_BUCKET", "")
REPORT_PREFIX = os.environ.get("REPORT_PREFIX", "reports/")


def summarise(items):
    quantities = [int(i.get("quantity", 0)) for i in items]
    return {
        "items": len(quantities),
        "out_of_stock": sum(1 for q in quantities if q == 0),
        "total_quantity": sum(quantities),
    }


def scan_all(table):
    args = {"ProjectionExpression": "quantity"}
    while True:
        page = table.scan(**args)
        yield from page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        args["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def handler(event, context):
    table = boto3.resource("dynamodb").Table(TABLE_NAME)
    summary = summarise(scan_all(table))
    summary["generated_at"] = int(time.time())
    if REPORT_BUCKET:
        key = "%s%d.json" % (REPORT_PREFIX, summary["generated_at"])
        boto3.client("s3").put_object(
            Bucket=REPORT_BUCKET, Key=key, Body=orjson.dumps(summary, option=orjson.OPT_SORT_KEYS),
            ContentType="application/json",
        )
        summary["key"] = key
    return summary
