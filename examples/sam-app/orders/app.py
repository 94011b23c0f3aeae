"""Writes orders from an SQS queue into DynamoDB.

Each message body is a JSON order: {"order_id": "...", "customer": "...", "total": "12.50"}.
A message that cannot be stored is reported in `batchItemFailures`, so only
it is retried (and, after the queue's maxReceiveCount, moved to the
dead-letter queue); the rest of the batch is deleted.

Writes are conditional on the order being new, so a message delivered twice
(SQS is at-least-once) is stored once.
"""

import json
import logging
import os
from decimal import Decimal, InvalidOperation

import boto3

logger = logging.getLogger()
logger.setLevel(logging.INFO)

TABLE_NAME = os.environ.get("TABLE_NAME", "orders")
_dynamodb = None


def dynamodb():
    """The DynamoDB client, made once per execution environment."""
    global _dynamodb
    if _dynamodb is None:
        _dynamodb = boto3.client("dynamodb")
    return _dynamodb


class InvalidOrder(ValueError):
    pass


def parse_order(body):
    try:
        order = json.loads(body)
    except json.JSONDecodeError as e:
        raise InvalidOrder("body is not JSON: %s" % e)
    if not isinstance(order, dict):
        raise InvalidOrder("body is not a JSON object")
    for field in ("order_id", "customer", "total"):
        if not order.get(field):
            raise InvalidOrder("missing %s" % field)
    try:
        total = Decimal(str(order["total"]))
    except InvalidOperation:
        raise InvalidOrder("total %r is not a number" % order["total"])
    if total < 0:
        raise InvalidOrder("total is negative")
    return {"order_id": str(order["order_id"]), "customer": str(order["customer"]), "total": total}


def store(order, message_id):
    client = dynamodb()
    try:
        client.put_item(
            TableName=TABLE_NAME,
            Item={
                "order_id": {"S": order["order_id"]},
                "customer": {"S": order["customer"]},
                "total": {"N": str(order["total"])},
                "message_id": {"S": message_id},
            },
            ConditionExpression="attribute_not_exists(order_id)",
        )
    except client.exceptions.ConditionalCheckFailedException:
        logger.info("order %s already stored; skipping the duplicate", order["order_id"])


def handler(event, context):
    failures = []
    for record in event.get("Records", []):
        message_id = record["messageId"]
        try:
            order = parse_order(record["body"])
            store(order, message_id)
            logger.info("stored order %s", order["order_id"])
        except InvalidOrder as e:
            logger.error("message %s rejected: %s", message_id, e)
            failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures}
