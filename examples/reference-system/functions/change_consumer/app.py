"""The change consumer: applies change requests from an SQS queue to the items
table, exactly once per change.

A message body is a JSON object:
    {"change_id": "c-123", "item_id": "<id>", "op": "set_quantity", "value": 5}
    ops: set_quantity (value >= 0), adjust_quantity (value may be negative;
    the result may not go below 0), rename (value: a string), delete

Exactly once: each change is applied in one DynamoDB transaction together
with a marker keyed by its change_id in the changes table. A redelivered
message finds the marker, the transaction is refused, and the change counts
as done. Failures are reported per message (ReportBatchItemFailures), so one
bad message never makes the good ones run twice; a message that can never
succeed (not JSON, an unknown op) fails on every delivery and the queue's
redrive policy moves it to the dead-letter queue after maxReceiveCount.
"""

import json
import logging
import os
import time

import boto3
from botocore.exceptions import ClientError

logger = logging.getLogger()
logger.setLevel(logging.INFO)

TABLE_NAME = os.environ.get("TABLE_NAME", "items")
CHANGES_TABLE_NAME = os.environ.get("CHANGES_TABLE_NAME", "item-changes")
# Markers outlive the queue's retention (at most 14 days), so no redelivery
# can ever miss one.
MARKER_DAYS = 15

_client = None


def client():
    global _client
    if _client is None:
        _client = boto3.client("dynamodb")
    return _client


class Rejected(Exception):
    """A message that can never be applied as it is."""


def parse(body):
    try:
        change = json.loads(body)
    except ValueError:
        raise Rejected("the body is not JSON")
    if not isinstance(change, dict):
        raise Rejected("the body is not a JSON object")
    for key in ("change_id", "item_id", "op"):
        if not isinstance(change.get(key), str) or not change[key]:
            raise Rejected("`%s` is missing" % key)
    op, value = change["op"], change.get("value")
    if op == "set_quantity" and not (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
        raise Rejected("set_quantity needs a whole number value, 0 or more")
    if op == "adjust_quantity" and not (isinstance(value, int) and not isinstance(value, bool)):
        raise Rejected("adjust_quantity needs a whole number value")
    if op == "rename" and not (isinstance(value, str) and 1 <= len(value.strip()) <= 100):
        raise Rejected("rename needs a name of 1 to 100 characters")
    if op not in ("set_quantity", "adjust_quantity", "rename", "delete"):
        raise Rejected("unknown op `%s`" % op)
    return change


def item_write(change):
    """The transaction item that applies the change to the items table."""
    key = {"id": {"S": change["item_id"]}}
    op, value = change["op"], change.get("value")
    if op == "delete":
        return {"Delete": {"TableName": TABLE_NAME, "Key": key, "ConditionExpression": "attribute_exists(id)"}}
    update = {"TableName": TABLE_NAME, "Key": key, "ConditionExpression": "attribute_exists(id)"}
    if op == "set_quantity":
        update["UpdateExpression"] = "SET quantity = :v, version = version + :one"
        update["ExpressionAttributeValues"] = {":v": {"N": str(value)}, ":one": {"N": "1"}}
    elif op == "adjust_quantity":
        update["UpdateExpression"] = "SET quantity = quantity + :v, version = version + :one"
        update["ExpressionAttributeValues"] = {":v": {"N": str(value)}, ":one": {"N": "1"}}
        if value < 0:
            update["ConditionExpression"] += " AND quantity >= :need"
            update["ExpressionAttributeValues"][":need"] = {"N": str(-value)}
    else:  # rename
        update["UpdateExpression"] = "SET #n = :v, version = version + :one"
        update["ExpressionAttributeNames"] = {"#n": "name"}
        update["ExpressionAttributeValues"] = {":v": {"S": value.strip()}, ":one": {"N": "1"}}
    return {"Update": update}


def apply(change, now=None):
    """Applies one change; returns "applied" or "duplicate". Raises on failure."""
    now = int(now if now is not None else time.time())
    marker = {
        "Put": {
            "TableName": CHANGES_TABLE_NAME,
            "Item": {
                "change_id": {"S": change["change_id"]},
                "item_id": {"S": change["item_id"]},
                "op": {"S": change["op"]},
                "applied_at": {"N": str(now)},
                "expires_at": {"N": str(now + MARKER_DAYS * 86400)},
            },
            "ConditionExpression": "attribute_not_exists(change_id)",
        }
    }
    try:
        client().transact_write_items(TransactItems=[marker, item_write(change)])
    except ClientError as e:
        if e.response["Error"]["Code"] != "TransactionCanceledException":
            raise
        reasons = [r.get("Code") for r in e.response.get("CancellationReasons", [])]
        if reasons and reasons[0] == "ConditionalCheckFailed":
            return "duplicate"
        # The item is missing or would go below zero: it may become
        # applicable later (its create is still on its way), so retry.
        raise RuntimeError("change %s cannot be applied to item %s now (%s)" % (change["change_id"], change["item_id"], reasons))
    return "applied"


def handler(event, context):
    failures = []
    counts = {"applied": 0, "duplicate": 0, "failed": 0}
    for record in event.get("Records", []):
        message_id = record.get("messageId")
        try:
            outcome = apply(parse(record.get("body", "")))
            counts[outcome] += 1
        except Exception as e:  # every failure is this message's alone
            logger.warning("message %s not applied: %s", message_id, e)
            counts["failed"] += 1
            failures.append({"itemIdentifier": message_id})
    logger.info("batch done: %s", json.dumps(counts, sort_keys=True))
    return {"batchItemFailures": failures}
